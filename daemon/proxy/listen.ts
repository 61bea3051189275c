/**
 * Binding a proxy's HTTP servers: TCP on an address and port, or a Unix socket created with mode 0600.
 * Failures become KportErrors a user can act on (PORT_IN_USE names the address; BIND_FAILED the cause).
 */
import { unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { KportError } from '../api/errors.js';
import { MAX_SOCKET_PATH } from '../api/paths.js';
import type { BoundListener } from '../api/session.js';
import { socketState } from '../liveness.js';
import { listenTcpAmong, listenUnix } from '../session/listen.js';

/** Listens on address:port (0: any free port), one of `addresses`, and reports the port bound; null when left out (listenTcpAmong). */
export async function bindTcp(server: Server, address: string, addresses: readonly string[], port: number): Promise<BoundListener | null> {
  const bound = await listenTcpAmong(server, address, addresses, port);
  return bound === null ? null : { address, port: bound, remote: null };
}

/** Makes way for a new socket at `path`: removes a stale one; refuses a live one or a file that is not a socket. */
async function clearSocketPath(path: string): Promise<void> {
  const state = await socketState(path, 'remove it or choose another unixSocket');
  if (state === 'live') throw new KportError('PORT_IN_USE', `unix socket ${path} is in use by another process`);
  if (state === 'stale') await unlink(path).catch(() => {});
}

/** Listens on a Unix socket, owner-only (0600); a stale socket file is replaced. */
export async function bindUnix(server: Server, path: string): Promise<BoundListener> {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH) {
    throw new KportError('BIND_FAILED', `unix socket path ${path} is ${bytes} bytes; Linux allows ${MAX_SOCKET_PATH}: choose a shorter path`);
  }
  await clearSocketPath(path);
  try {
    await listenUnix(server, path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new KportError('PORT_IN_USE', `unix socket ${path} is in use by another process`);
    throw new KportError('BIND_FAILED', `cannot listen on unix socket ${path} (${e.code ?? e.message})`);
  }
  return { address: path, port: 0, remote: null };
}

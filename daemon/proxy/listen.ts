/**
 * Binding a proxy's HTTP servers: TCP on an address and port, or a Unix socket created with mode 0600.
 * Failures become KportErrors a user can act on (PORT_IN_USE names the address; BIND_FAILED the cause).
 */
import { lstat, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect, isIPv6, type AddressInfo } from 'node:net';
import { KportError } from '../api/errors.js';
import type { BoundListener } from '../api/session.js';

/** Linux keeps 108 bytes for a socket path, the terminating NUL included; longer paths are silently cut. */
const MAX_SOCKET_PATH_BYTES = 107;

/** `127.0.0.1:8001`, `[::1]:8001`. */
export function hostPort(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

function listening(server: Server, bind: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    bind();
  });
}

/** Listens on address:port (0: any free port) and reports the port actually bound. */
export async function bindTcp(server: Server, address: string, port: number): Promise<BoundListener> {
  try {
    await listening(server, () => server.listen({ host: address, port, exclusive: true }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new KportError('PORT_IN_USE', `address ${hostPort(address, port)} is in use by another process`);
    throw new KportError('BIND_FAILED', `cannot listen on ${hostPort(address, port)} (${e.code ?? e.message})`);
  }
  return { address, port: (server.address() as AddressInfo).port, remote: null };
}

/** Resolves true when something accepts connections on the socket file, false when it is stale. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => (probe.destroy(), resolve(true)));
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}

/** Makes way for a new socket at `path`: removes a stale one; refuses a live one or a file that is not a socket. */
async function clearSocketPath(path: string): Promise<void> {
  const info = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new KportError('BIND_FAILED', `cannot use ${path} (${err.code ?? err.message})`);
  });
  if (info === null) return;
  if (!info.isSocket()) throw new KportError('BIND_FAILED', `${path} exists and is not a socket; remove it or choose another unixSocket`);
  if (await socketIsLive(path)) throw new KportError('PORT_IN_USE', `unix socket ${path} is in use by another process`);
  await unlink(path).catch(() => {});
}

/** Listens on a Unix socket, owner-only (0600); a stale socket file is replaced. */
export async function bindUnix(server: Server, path: string): Promise<BoundListener> {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new KportError('BIND_FAILED', `unix socket path ${path} is ${bytes} bytes; Linux allows ${MAX_SOCKET_PATH_BYTES}: choose a shorter path`);
  }
  await clearSocketPath(path);
  try {
    await listening(server, () => {
      // The socket's mode follows the umask at bind time, and bind happens inside listen(): narrow it just for that call.
      const previous = process.umask(0o177);
      try {
        server.listen(path);
      } finally {
        process.umask(previous);
      }
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new KportError('PORT_IN_USE', `unix socket ${path} is in use by another process`);
    throw new KportError('BIND_FAILED', `cannot listen on unix socket ${path} (${e.code ?? e.message})`);
  }
  return { address: path, port: 0, remote: null };
}

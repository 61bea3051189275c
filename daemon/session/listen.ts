/**
 * Binding a session's listening sockets, forward or proxy, with failures as KportErrors a user can act
 * on: PORT_IN_USE names the address, BIND_FAILED the cause.
 */
import { isIPv6, type AddressInfo, type Server } from 'node:net';
import { formatHostPort, LOOPBACK } from '../../config/addresses.js';
import { KportError } from '../api/errors.js';

/** Errors that say this machine has no such address (no IPv6 at all, or no ::1 on lo). */
const NO_SUCH_ADDRESS = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT']);

/**
 * kubectl's rule for `localhost`: both loopbacks are tried and one is enough (forwards, gateways and
 * proxies alike). A machine without IPv6 (many containers) has no ::1 to bind, so ::1 is left out when
 * 127.0.0.1 is in the list too; the bound listeners (`kportctl list`, session.get) show what was bound.
 * Any other failure, or on any other address, stands.
 */
export function missingLoopback(address: string, addresses: readonly string[], err: unknown): boolean {
  const errno = err instanceof KportError && err.code === 'BIND_FAILED' ? (err.data as { errno?: string } | undefined)?.errno : undefined;
  return address === '::1' && addresses.includes(LOOPBACK) && errno !== undefined && NO_SUCH_ADDRESS.has(errno);
}

/**
 * listenTcp on one of a session's `addresses`: null, binding nothing, when it is the ::1 of a localhost
 * pair that this machine does not have (missingLoopback); any other failure throws as listenTcp's do.
 */
export async function listenTcpAmong(server: Server, address: string, addresses: readonly string[], port: number): Promise<number | null> {
  try {
    return await listenTcp(server, address, port);
  } catch (err) {
    if (missingLoopback(address, addresses, err)) return null;
    throw err;
  }
}

/** Runs `bind` (a server.listen call) and settles on 'listening' or the first 'error'. */
export function listening(server: Server, bind: () => void): Promise<void> {
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

/** Listens on address:port (0: any free port); resolves with the port actually bound. */
export async function listenTcp(server: Server, address: string, port: number): Promise<number> {
  try {
    // ipv6Only: "::" beside "0.0.0.0" in one address list must not clash over the IPv4-mapped range.
    await listening(server, () => server.listen({ host: address, port, ipv6Only: isIPv6(address), exclusive: true }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const where = formatHostPort(address, port);
    if (e.code === 'EADDRINUSE') throw new KportError('PORT_IN_USE', `address ${where} is in use by another process`);
    throw new KportError('BIND_FAILED', `cannot listen on ${where} (${e.code ?? e.message})`, e.code ? { errno: e.code } : undefined);
  }
  return (server.address() as AddressInfo).port;
}

/** Listens on a Unix socket created owner-only (0600): its mode follows the umask at bind time, so that is narrowed just for the call. */
export function listenUnix(server: Server, path: string): Promise<void> {
  return listening(server, () => {
    const previous = process.umask(0o177);
    try {
      server.listen(path);
    } finally {
      process.umask(previous);
    }
  });
}

/**
 * Local TCP listeners of a forward: every (address, port mapping) pair bound before any is used,
 * so a forward is either fully bound or not at all. Sockets arrive paused, so nothing is read
 * before a stream to a pod exists.
 */
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import type { PortMapping } from '../../config/types.js';
import { KportError } from '../api/errors.js';
import type { BoundListener } from '../api/session.js';

/** A bound set of listeners. */
export interface Listeners {
  bound: BoundListener[];
  close(): Promise<void>;
}

/** `127.0.0.1:5432`, `[::1]:5432`. */
export function hostPort(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

function listen(server: Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = hostPort(address, port);
      reject(
        err.code === 'EADDRINUSE'
          ? new KportError('PORT_IN_USE', `address ${where} is in use by another process`)
          : new KportError('BIND_FAILED', `cannot listen on ${where}: ${err.code ?? err.message}`),
      );
    };
    server.once('error', onError);
    // ipv6Only: "::" alongside "0.0.0.0" must not clash over the IPv4-mapped range.
    server.listen({ host: address, port, ipv6Only: isIPv6(address) }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Binds every mapping on every address. A local port 0 is chosen on the first address and reused
 * on the others (`reuse` keeps ports chosen by an earlier bind). Throws PORT_IN_USE / BIND_FAILED,
 * leaving nothing bound.
 */
export async function bindListeners(
  addresses: readonly string[],
  ports: readonly PortMapping[],
  onConnection: (socket: Socket, mapping: PortMapping) => void,
  reuse: ReadonlyMap<PortMapping, number> = new Map(),
): Promise<Listeners & { chosen: Map<PortMapping, number> }> {
  const servers: Server[] = [];
  const bound: BoundListener[] = [];
  const chosen = new Map(reuse);
  const close = () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => {});
  try {
    for (const mapping of ports) {
      for (const address of addresses) {
        const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => onConnection(socket, mapping));
        servers.push(server);
        const port = await listen(server, address, chosen.get(mapping) ?? mapping.local);
        chosen.set(mapping, port);
        bound.push({ address, port, remote: mapping.remote });
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { bound, close, chosen };
}

/**
 * Local TCP listeners of a forward (or a gateway): every (address, port mapping) pair bound before any is used,
 * so a forward is either fully bound or not at all. Sockets arrive paused, so nothing is read
 * before a stream to a pod exists.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { PortMapping } from '../../config/types.js';
import { KportError } from '../api/errors.js';
import type { BoundListener } from '../api/session.js';
import { listenTcpAmong } from '../session/listen.js';

/**
 * What an accepted socket buffers before its writer is paused. Node's 16 KiB default is one TLS
 * record: a turn's worth of pod data (writeCoalesced) could never gather into one write under it.
 */
export const SOCKET_HIGH_WATER = 256 * 1024;

/** A bound set of listeners. */
export interface Listeners {
  bound: BoundListener[];
  close(): Promise<void>;
}

/** What a listener is bound for: a forward's port mapping, or a gateway's one port (remote null). */
export type LocalPort = Pick<PortMapping, 'local'> & { remote: PortMapping['remote'] | null };

/**
 * Binds every mapping on every address. A local port 0 is chosen on the first address and reused
 * on the others (`reuse` keeps ports chosen by an earlier bind). Throws PORT_IN_USE / BIND_FAILED,
 * leaving nothing bound.
 */
export async function bindListeners<M extends LocalPort = PortMapping>(
  addresses: readonly string[],
  ports: readonly M[],
  onConnection: (socket: Socket, mapping: M) => void,
  reuse: ReadonlyMap<M, number> = new Map(),
): Promise<Listeners & { chosen: Map<M, number> }> {
  const servers: Server[] = [];
  const bound: BoundListener[] = [];
  const chosen = new Map(reuse);
  const close = () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => {});
  try {
    for (const mapping of ports) {
      for (const address of addresses) {
        const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true, highWaterMark: SOCKET_HIGH_WATER }, (socket) => onConnection(socket, mapping));
        servers.push(server);
        const port = await listenTcpAmong(server, address, addresses, chosen.get(mapping) ?? mapping.local);
        if (port === null) {
          servers.pop();
          continue;
        }
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

/**
 * bindListeners, asking first for the ports a runtime session was given at its last start (`kept`, by mapping). If
 * one of them is taken by now, every mapping binds as it asks (any free port where it says 0) and `onKeptTaken`
 * says what was given instead; a port a mapping names is asked for as ever, so its PORT_IN_USE stands.
 */
export async function bindKeeping<M extends LocalPort>(
  addresses: readonly string[],
  ports: readonly M[],
  onConnection: (socket: Socket, mapping: M) => void,
  kept: ReadonlyMap<M, number>,
  onKeptTaken: (err: KportError, given: (number | undefined)[]) => void,
): Promise<Listeners & { chosen: Map<M, number> }> {
  try {
    return await bindListeners(addresses, ports, onConnection, kept);
  } catch (err) {
    if (kept.size === 0 || !(err instanceof KportError) || err.code !== 'PORT_IN_USE') throw err;
    const l = await bindListeners(addresses, ports, onConnection);
    onKeptTaken(err, [...kept.keys()].map((m) => l.chosen.get(m)));
    return l;
  }
}

/** The kept ports (a session's deps.keptPorts, by mapping index) of the mappings that ask for any free port. */
export function keptPortsOf<M extends LocalPort>(ports: readonly M[], kept: readonly (number | null)[] | undefined): Map<M, number> {
  return new Map(ports.flatMap((m, i): [M, number][] => (m.local === 0 && kept?.[i] ? [[m, kept[i]!]] : [])));
}

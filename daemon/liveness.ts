/**
 * Is another kportd on this socket? A socket file that refuses connections belongs to a dead daemon
 * (stale, safe to replace); one that accepts belongs to a live one, whose pid we ask for.
 */
import { lstatSync } from 'node:fs';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { KportError } from './api/errors.js';
import { RPC_PATH } from './api/rpc.js';

/** What is at the socket path. */
export type SocketProbe = { state: 'absent' } | { state: 'stale' } | { state: 'alive'; pid: number | null };

/** Probes `path`; throws BIND_FAILED when something that is not a socket sits there. */
export async function probeSocket(path: string, timeoutMs = 2_000): Promise<SocketProbe> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return { state: 'absent' };
  }
  if (!isSocket) throw new KportError('BIND_FAILED', `${path} exists and is not a socket; remove it or set KPORT_SOCKET`);
  const accepts = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
  if (!accepts) return { state: 'stale' };
  return { state: 'alive', pid: await askPid(path, timeoutMs) };
}

/** The pid a live daemon reports through daemon.status, or null if it does not answer in time. */
function askPid(path: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws+unix://${path}:${RPC_PATH}`, { perMessageDeflate: false });
    const timer = setTimeout(() => finish(null), timeoutMs);
    function finish(pid: number | null): void {
      clearTimeout(timer);
      ws.terminate();
      resolve(pid);
    }
    ws.once('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'daemon.status' })));
    ws.once('message', (data: Buffer) => {
      try {
        finish((JSON.parse(data.toString()) as { result?: { pid?: number } }).result?.pid ?? null);
      } catch {
        finish(null);
      }
    });
    ws.once('error', () => finish(null));
  });
}

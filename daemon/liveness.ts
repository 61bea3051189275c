/**
 * Is another kportd on this socket? A socket file that refuses connections belongs to a dead daemon
 * (stale, safe to replace); one that accepts belongs to a live one, whose pid we ask for.
 */
import { lstat } from 'node:fs/promises';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { KportError } from './api/errors.js';
import { RPC_PATH } from './api/rpc.js';

/** What is at the socket path. */
export type SocketProbe = { state: 'absent' } | { state: 'stale' } | { state: 'alive'; pid: number | null };

/**
 * Whether a socket file is absent, stale (nothing accepts on it: its owner is gone, it may be replaced)
 * or live. Throws BIND_FAILED, ending with `hint`, when something that is not a socket sits there.
 */
export async function socketState(path: string, hint: string): Promise<'absent' | 'stale' | 'live'> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'absent';
    throw new KportError('BIND_FAILED', `cannot use ${path} (${code ?? (err as Error).message})`);
  }
  if (!isSocket) throw new KportError('BIND_FAILED', `${path} exists and is not a socket; ${hint}`);
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    // Only a refusal proves the owner gone; any other failure (permissions, say) is not ours to replace.
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
  return live ? 'live' : 'stale';
}

/** Probes kportd's socket; a live daemon is asked for its pid. */
export async function probeSocket(path: string, timeoutMs = 2_000): Promise<SocketProbe> {
  const state = await socketState(path, 'remove it or set KPORT_SOCKET');
  if (state !== 'live') return { state };
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

/**
 * Where the daemon keeps its files and its control socket — part of the contract, since
 * kportctl must find the same socket: KPORT_STATE_DIR / KPORT_SOCKET override everything;
 * else the state folder is $XDG_STATE_HOME/kport (~/.local/state/kport) and the socket lives in
 * $XDG_RUNTIME_DIR/kport/ when that exists, else in the state folder.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { MAX_SOCKET_PATH_BYTES as MAX_SOCKET_PATH } from '../../config/resolve.js';
import { KportError } from './errors.js';

/** Linux truncates Unix socket paths beyond this many bytes; one limit for kport.yaml, kportd and kportctl. */
export { MAX_SOCKET_PATH_BYTES as MAX_SOCKET_PATH } from '../../config/resolve.js';

/** The daemon's files. */
export interface DaemonPaths {
  stateDir: string;
  socket: string;
  log: string;
  /** Sessions added at runtime, persisted across restarts. */
  sessions: string;
}

/** Resolves the paths from an environment; throws INVALID_PARAMS when the socket path is too long. */
export function daemonPaths(env: Record<string, string | undefined> = process.env, home = homedir()): DaemonPaths {
  const stateDir = resolve(env.KPORT_STATE_DIR || join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'kport'));
  const runtime = env.XDG_RUNTIME_DIR && existsSync(env.XDG_RUNTIME_DIR) ? join(env.XDG_RUNTIME_DIR, 'kport') : stateDir;
  const socket = resolve(env.KPORT_SOCKET || join(env.KPORT_STATE_DIR ? stateDir : runtime, 'kportd.sock'));
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new KportError('INVALID_PARAMS', `socket path ${socket} is ${Buffer.byteLength(socket)} bytes; Unix sockets allow ${MAX_SOCKET_PATH}: set KPORT_SOCKET to a shorter path`);
  }
  return { stateDir, socket, log: join(stateDir, 'kportd.log'), sessions: join(stateDir, 'sessions.json') };
}

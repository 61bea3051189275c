/** A real kportd process for benchmarks: started with a config, ready when its sessions are. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type RpcClient } from '../client/rpc.js';
import { DAEMON_NODE_FLAGS } from '../daemon/api/launch.js';
import { waitUntil } from '../test/helpers/wait.js';

/** A running kportd. */
export interface Kportd {
  child: ChildProcess;
  rpc: RpcClient;
  /** The first local port session `name` listens on. */
  port(name: string): Promise<number>;
  /** Resident memory now, from /proc. */
  rssMB(): number;
  stop(): Promise<void>;
}

const daemonMain = fileURLToPath(new URL('../daemon/main.js', import.meta.url));

/** Runs `kportd --foreground` on `config` (kport.yaml text) in `dir` and waits until every session is ready. */
export async function startKportd(dir: string, config: string): Promise<Kportd> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kport.yaml');
  writeFileSync(file, config);
  const socket = join(dir, 'kportd.sock');
  // kportd's own flags, as its launcher sets them; KPORT_BENCH_NODE_ARGS adds node flags, e.g. --cpu-prof
  // to profile it under load ("-" first: instead of kportd's own, to measure node's defaults).
  const extra = (process.env.KPORT_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const nodeArgs = extra[0] === '-' ? extra.slice(1) : [...DAEMON_NODE_FLAGS, ...extra];
  const child = spawn(process.execPath, [...nodeArgs, daemonMain, '--foreground', '--config', file], { stdio: 'ignore', env: { ...process.env, KPORT_STATE_DIR: dir, KPORT_SOCKET: socket } });
  // A benchmark that dies half-way must not leave kportd running.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  child.once('exit', () => process.off('exit', orphanGuard));
  let rpc: RpcClient | null = null;
  await waitUntil(async () => (rpc = await connect(socket).catch(() => null)) !== null, 'kportd to answer', 15_000, 20);
  const client = rpc!;
  await Promise.all((await client.call('session.list', {})).map((s) => client.call('session.wait', { name: s.name, timeoutMs: 30_000 })));
  return {
    child,
    rpc: client,
    port: async (name) => (await client.call('session.get', { name })).listeners[0]!.port,
    rssMB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      await client.close();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A real kportd process for benchmarks: started with a config, ready when its sessions are.
 * KPORT_BENCH_PROF=1 runs every kportd under `node --cpu-prof`, one folder per daemon under
 * KPORT_BENCH_PROF_DIR (default: a new temp folder, named on stderr); the profile is written when
 * kportd exits. kportd runs as its launcher runs it (node flags and environment: invocation());
 * KPORT_BENCH_NODE_ARGS passes more node flags, and a first word "-" drops kportd's own flags and
 * environment, to measure node's defaults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { connect, type RpcClient } from '../client/rpc.js';
import { invocation } from '../daemon/api/launch.js';
import { KPORTD } from '../test/helpers/bin.js';
import { waitUntil } from '../test/helpers/wait.js';
import { rssMB } from './usage.js';

/** A running kportd. */
export interface Kportd {
  child: ChildProcess;
  pid: number;
  rpc: RpcClient;
  /** The local port session `name` listens on: its first, or the first for remote port `remote`. */
  port(name: string, remote?: number): Promise<number>;
  /** Resident memory now, from /proc. */
  rssMB(): number;
  stop(): Promise<void>;
}

/** The shipped kportd (package.json's bin: the bundle), so the figures are those of what users run. */
const daemonMain = KPORTD;

/** Where kportd CPU profiles go (KPORT_BENCH_PROF=1), else null; workers start no kportd. */
const PROFILE_ROOT = process.env.KPORT_BENCH_PROF === '1' && isMainThread ? process.env.KPORT_BENCH_PROF_DIR || mkdtempSync(join(tmpdir(), 'kport-bench-prof-')) : null;
if (PROFILE_ROOT) console.error(`kportd CPU profiles: ${PROFILE_ROOT}/<daemon>/*.cpuprofile (summarize one: node dist/bench/top-frames.js FILE)`);

/** Node flags that profile the kportd named `name`, when profiling. */
const profileArgs = (name: string) => (PROFILE_ROOT ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_ROOT, name)}`] : []);

/** Runs `kportd --foreground` on `config` (kport.yaml text) in `dir` and waits until every session is ready. */
export async function startKportd(dir: string, config: string): Promise<Kportd> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kport.yaml');
  writeFileSync(file, config);
  const socket = join(dir, 'kportd.sock');
  const extra = (process.env.KPORT_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = ['--foreground', '--config', file];
  const env = { ...process.env, KPORT_STATE_DIR: dir, KPORT_SOCKET: socket };
  const profile = profileArgs(basename(dir));
  // As kportctl start and the service run it (node flags and environment), unless told "-".
  const run =
    extra[0] === '-'
      ? { argv: [...extra.slice(1), ...profile, daemonMain, ...args], env }
      : invocation({ execPath: process.execPath, script: daemonMain, args, execArgv: [...extra, ...profile], env });
  const child = spawn(process.execPath, run.argv, { stdio: 'ignore', env: run.env });
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
    pid: child.pid!,
    rpc: client,
    port: async (name, remote) => {
      const { listeners } = await client.call('session.get', { name });
      const l = remote === undefined ? listeners[0] : listeners.find((x) => x.remote === remote);
      if (!l) throw new Error(`session ${name} listens for no remote port ${remote}`);
      return l.port;
    },
    rssMB: () => rssMB(child.pid!),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      await client.close();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

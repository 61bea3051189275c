/**
 * How kportd is started in the background, shared by `kportd` (no --foreground) and `kportctl start`: one
 * detached process (its own session, output appended to the log) that says on a pipe when its control
 * socket answers, so the caller returns at that moment: no process in between, no polling. The node
 * flags kportd must start with are set here (DAEMON_NODE_FLAGS), the one place that launches it.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import type { DaemonPaths } from './paths.js';

/**
 * Node flags for kportd: those V8 reads only as it makes the heap (the rest kportd sets on itself as it starts,
 * v8-settings.ts). Semi-spaces of 1 MB instead of node's up to 16 MB each: kportd's garbage is short-lived
 * buffers and frames; the small young generation collects it as often but in far fewer pages (RSS after 2 GB
 * through a forward ~35 MB lower), and CPU per byte relayed came out no worse (lower, if anything: the nursery
 * stays in cache). --optimize-for-size saved no more memory and cost ~30% more CPU per byte.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * Environment for kportd: glibc's malloc gives each thread that allocates (V8's GC and compiler
 * helpers) an arena of its own, up to 8 per core, and keeps their freed pages; two arenas kept RSS
 * after traffic ~5 MB lower at the same CPU. Ignored by other C libraries; a user's own value wins.
 */
const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** The environment variable naming the file descriptor on which a daemonized kportd says "ready". */
export const READY_FD_ENV = 'KPORT_READY_FD';
const READY_FD = 3;
const READY = 'ready\n';

/** How long a starting kportd may take to answer before the caller gives up on it. */
const START_DEADLINE_MS = 15_000;

/** What to run: node with kportd's script, or the single executable. */
export interface DaemonCommand {
  execPath: string;
  /** kportd's script; null for the single executable (run as `kport kportd`, node flags in NODE_OPTIONS). */
  script: string | null;
  /** kportd's arguments (without --daemonized). */
  args: string[];
  /** Extra node flags (the caller's own --inspect, say). */
  execArgv?: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * The arguments and environment that run kportd with its node flags: on node's command line, or in NODE_OPTIONS
 * for the single executable (only those node takes there).
 */
export function invocation(cmd: DaemonCommand): { argv: string[]; env: NodeJS.ProcessEnv } {
  const env = { ...DAEMON_ENV, ...cmd.env };
  if (cmd.script !== null) return { argv: [...DAEMON_NODE_FLAGS, ...(cmd.execArgv ?? []), cmd.script, ...cmd.args], env };
  const flags = [...DAEMON_NODE_FLAGS, ...(cmd.execArgv ?? [])];
  return { argv: ['kportd', ...cmd.args], env: { ...env, NODE_OPTIONS: [cmd.env.NODE_OPTIONS ?? '', ...flags].join(' ').trim() } };
}

/** kportd did not come up; the message is what it said (its `kportd: ` lines), else where to look. */
export class LaunchFailed extends Error {
  override readonly name = 'LaunchFailed';
}

/** The kportd: lines a failed start wrote to the log after `from`, or a pointer to the log. */
function failure(paths: DaemonPaths, from: number, why: string): LaunchFailed {
  let said: string[] = [];
  try {
    said = readFileSync(paths.log).subarray(from).toString('utf8').split('\n').filter((l) => l.startsWith('kportd: '));
  } catch {
    // no log: say where it would be
  }
  const message = said.length > 0 ? said.map((l) => l.slice('kportd: '.length)).join('\n') : `failed to start (${why}); see ${paths.log}`;
  return new LaunchFailed(message);
}

/** Starts a detached `kportd --daemonized` and resolves with its pid once its socket answers. */
export function launchDaemon(cmd: DaemonCommand, paths: DaemonPaths): Promise<number> {
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const out = openSync(paths.log, 'a', 0o600);
  const from = statSync(paths.log).size;
  const { argv, env } = invocation({ ...cmd, args: [...cmd.args, '--daemonized'] });
  env[READY_FD_ENV] = String(READY_FD);
  const child = spawn(cmd.execPath, argv, { detached: true, stdio: ['ignore', out, out, 'pipe'], env, cwd: cmd.cwd });
  closeSync(out);
  const pipe = child.stdio[READY_FD]!;
  return new Promise<number>((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => settle(failure(paths, from, `no answer on ${paths.socket} within ${START_DEADLINE_MS / 1000} s`)), START_DEADLINE_MS);
    function settle(result: number | LaunchFailed): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      pipe.destroy();
      child.unref();
      if (result instanceof LaunchFailed) reject(result);
      else resolve(result);
    }
    function onExit(code: number | null, signal: string | null): void {
      settle(failure(paths, from, `exit ${code ?? signal}`));
    }
    child.once('exit', onExit);
    child.once('error', (err) => settle(new LaunchFailed(`cannot run ${cmd.execPath}: ${err.message}`)));
    pipe.on('data', (d: Buffer) => {
      said += d.toString();
      if (said === READY) settle(child.pid!);
    });
  });
}

/** In a daemonized kportd, once its socket answers: tells the launcher, then closes the pipe (children never inherit it). */
export function announceReady(env: NodeJS.ProcessEnv): void {
  const fd = Number(env[READY_FD_ENV]);
  delete env[READY_FD_ENV];
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, READY);
    closeSync(fd);
  } catch {
    // the launcher is gone (killed while waiting): nobody to tell
  }
}

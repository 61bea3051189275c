/** `kportctl start` and `kportctl stop`: run kportd (the sibling dist/daemon/main.js) or shut it down. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KportError } from '../../daemon/api/errors.js';
import { DAEMON_NODE_FLAGS, launchDaemon, LaunchFailed } from '../../daemon/api/launch.js';
import { daemonPaths } from '../../daemon/api/paths.js';
import { command, EXIT, type Io } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { connect, DaemonNotRunning } from '../rpc.js';

/** kportd's entry point, shipped next to kportctl's. */
export const DAEMON_MAIN = fileURLToPath(new URL('../../daemon/main.js', import.meta.url));
/** How long `stop` waits for the socket to go quiet. */
const STOP_DEADLINE_MS = 10_000;
const STOP_POLL_MS = 50;

/** Starts kportd detached, as `kportd` itself would, and returns once its socket answers (no kportd in between). */
async function launch(args: string[], io: Io): Promise<number> {
  const paths = daemonPaths(io.env);
  try {
    const pid = await launchDaemon({ execPath: process.execPath, script: DAEMON_MAIN, args, env: io.env, cwd: io.cwd }, paths);
    io.stdout.write(`kportd started (pid ${pid}); socket ${paths.socket}; log ${paths.log}\n`);
    return EXIT.OK;
  } catch (err) {
    if (!(err instanceof LaunchFailed)) throw err;
    io.stderr.write(`kportd: ${err.message}\n`);
    return EXIT.ERROR;
  }
}

/** Runs `kportd --foreground` attached with this same node and waits for it. */
function runDaemon(args: string[], io: Io, foreground: boolean): Promise<number> {
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, DAEMON_MAIN, ...args], { stdio: 'inherit', env: io.env, cwd: io.cwd });
  // Attached, Ctrl-C reaches kportd too (same process group): outlive it so its exit status is ours.
  // A SIGTERM is meant for the pair (a process manager signals one pid): pass it on.
  const terminate = () => void child.kill('SIGTERM');
  if (foreground) {
    void io.interrupted();
    process.once('SIGTERM', terminate);
  }
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => {
      process.off('SIGTERM', terminate);
      done(code === 0 ? EXIT.OK : EXIT.ERROR);
    });
  });
}

/** `kportctl start`. */
export const start = command({
  name: 'start',
  summary: 'start kportd (in the background unless --foreground)',
  usage: ['[--config FILE] [--foreground]'],
  description: `
Starts kportd, the daemon that owns every forward and proxy. By default it detaches and kportctl
returns once its socket answers, printing its pid; with --foreground it stays attached, logging
to the terminal, until Ctrl-C. If kportd is already running, says so and exits 0.`,
  examples: ['kportctl start', 'kportctl start --config ./kport.yaml', 'kportctl start --foreground'],
  flags: {
    config: { type: 'string', short: 'c', arg: 'FILE', help: 'kport.yaml to load (default: $KPORT_CONFIG, else ~/.config/kport/kport.yaml)' },
    foreground: { type: 'boolean', short: 'f', help: 'stay attached, logging to the terminal, until Ctrl-C' },
  },
  positionals: { min: 0, max: 0 },
  exits: { [EXIT.OK]: 'kportd started, or was already running', [EXIT.ERROR]: 'kportd failed to start (its message says why)', [EXIT.USAGE]: STANDARD_EXITS[EXIT.USAGE]! },
  async run({ flags: f, io, connect: connectDaemon }) {
    try {
      const s = await (await connectDaemon()).call('daemon.status', {});
      io.stdout.write(`kportd is already running (pid ${s.pid}, socket ${s.socket})\n`);
      return EXIT.OK;
    } catch (err) {
      if (!(err instanceof DaemonNotRunning)) throw err;
    }
    const args = [...(f.config !== undefined ? ['--config', resolve(io.cwd, f.config)] : []), ...(f.foreground ? ['--foreground'] : [])];
    return f.foreground === true ? runDaemon(args, io, true) : launch(args, io);
  },
});

/** Resolves once nothing answers on `socket`; TIMEOUT after `ms`. */
async function untilGone(socket: string, ms: number, pid: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await (await connect(socket)).close();
    } catch (err) {
      if (err instanceof DaemonNotRunning) return;
      throw err;
    }
    if (Date.now() > deadline) throw new KportError('TIMEOUT', `kportd (pid ${pid}) still answers on ${socket} after ${ms / 1000} s`);
    // Nothing announces the socket's end to an outsider: poll, within the deadline.
    await delay(STOP_POLL_MS);
  }
}

/** `kportctl stop`. */
export const stop = command({
  name: 'stop',
  summary: 'stop kportd and every session (runtime sessions come back on start)',
  usage: [''],
  description: `
Asks kportd to shut down: every listener closes and every connection ends. Sessions added with
kportctl (without --ephemeral) come back on the next start. Waits up to 10 s for it to go. If
kportd is not running, says so and exits 0.`,
  examples: ['kportctl stop'],
  flags: {},
  positionals: { min: 0, max: 0 },
  exits: { [EXIT.OK]: 'kportd stopped, or was not running', [EXIT.ERROR]: STANDARD_EXITS[EXIT.ERROR]!, [EXIT.USAGE]: STANDARD_EXITS[EXIT.USAGE]!, [EXIT.TIMEOUT]: 'kportd still answers 10 s after being asked to stop' },
  async run({ io, connect: connectDaemon }) {
    let rpc;
    try {
      rpc = await connectDaemon();
    } catch (err) {
      // Stopping what is not running is done already, as starting what runs is (kportctl start).
      if (!(err instanceof DaemonNotRunning) || err.why === 'unreachable') throw err;
      io.stdout.write(`kportd is not running (${err.why === 'missing' ? 'no socket' : 'nothing answers'} at ${err.socket})\n`);
      return EXIT.OK;
    }
    const { pid } = await rpc.call('daemon.status', {});
    try {
      await rpc.call('daemon.shutdown', {});
    } catch (err) {
      // Gone before answering is what was asked for.
      if (!(err instanceof DaemonNotRunning)) throw err;
    }
    await untilGone(daemonPaths(io.env).socket, STOP_DEADLINE_MS, pid);
    io.stdout.write(`kportd stopped (pid ${pid})\n`);
    return EXIT.OK;
  },
});

#!/usr/bin/env node
/**
 * kportd's process: `kportd check [FILE]`, `kportd --foreground` (runs attached), and plain
 * `kportd`, which starts a detached copy of itself and returns once its socket answers.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configEnvFromProcess, defaultConfigPath } from '../config/paths.js';
import { KportError } from './api/errors.js';
import { IN_SEA } from './api/build.js';
import { announceReady, launchDaemon, LaunchFailed } from './api/launch.js';
import { daemonPaths, type DaemonPaths } from './api/paths.js';
import { VERSION } from './api/version.js';
import { probeSocket } from './liveness.js';
import { applyV8Settings } from './v8-settings.js';

const USAGE = `usage: kportd [--config FILE] [--foreground] [--log-level LEVEL]
       kportd check [FILE]

  (no flags)       start in the background; returns once the control socket answers
  --foreground     run attached: logs to stderr (pretty on a terminal) and to the log file
  --config FILE    kport.yaml to load (default: $KPORT_CONFIG, else ~/.config/kport/kport.yaml)
  --log-level L    debug, info (default), warn, error
  check [FILE]     validate a kport.yaml without starting anything (exit 0 ok, 1 errors)

Environment: KPORT_CONFIG, KPORT_STATE_DIR (state folder), KPORT_SOCKET (control socket).
`;
/** Shutdown must finish within this long after SIGTERM/SIGINT. */
const SHUTDOWN_DEADLINE_MS = 4_500;

function fail(message: string, code: number): never {
  process.stderr.write(`kportd: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'check') {
    // Loaded only here: the daemon's own start and the detaching launcher never need the checker's report.
    const { runCheck } = await import('../config/check.js');
    const result = await runCheck(argv[1], process.env);
    process.stdout.write(result.text);
    process.exitCode = result.code;
    return;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        foreground: { type: 'boolean', short: 'f' },
        'log-level': { type: 'string' },
        daemonized: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (values.help) return void process.stdout.write(USAGE);
  if (values.version) return void process.stdout.write(`kportd ${VERSION}\n`);
  let paths: DaemonPaths;
  try {
    paths = daemonPaths(process.env);
  } catch (err) {
    fail((err as Error).message, 2);
  }
  const env = configEnvFromProcess();
  const configFile = resolve(values.config ?? defaultConfigPath(env));
  if (values.foreground || values.daemonized) return runAttached(paths, configFile, env, values['log-level'], !values.daemonized);
  return detach(paths, argv);
}

/** Runs the daemon in this process until a signal or `kportctl stop`. */
async function runAttached(paths: DaemonPaths, configFile: string, env: ReturnType<typeof configEnvFromProcess>, logLevel: string | undefined, foreground: boolean): Promise<void> {
  applyV8Settings([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]);
  // Loaded only by the process that runs the daemon: the launcher that detaches it never pays for it.
  const { AlreadyRunning, startDaemon } = await import('./daemon.js');
  let daemon;
  try {
    daemon = await startDaemon({ paths, configFile, env, foreground, logLevel });
    announceReady(process.env);
  } catch (err) {
    if (err instanceof AlreadyRunning) fail(err.message, 1);
    fail(err instanceof KportError ? err.message : String((err as Error).stack ?? err), 1);
  }
  const stop = (signal: string) => {
    setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
    void daemon.shutdown(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => daemon.reload());
  // One bad socket must not take every other tunnel down with it: log and carry on.
  process.on('uncaughtException', (err) => daemon.log.error({ err }, 'uncaught exception'));
  process.on('unhandledRejection', (err) => daemon.log.error({ err }, 'unhandled rejection'));
  await daemon.stopped;
  process.exit(0);
}

/** Starts a detached `kportd --daemonized` (launch.ts) and returns once its socket answers. */
async function detach(paths: DaemonPaths, argv: string[]): Promise<void> {
  const probe = await probeSocket(paths.socket).catch((err: Error) => fail(err.message, 1));
  if (probe.state === 'alive') fail(`already running${probe.pid ? ` (pid ${probe.pid})` : ''} on ${paths.socket}`, 1);
  try {
    const pid = await launchDaemon({ execPath: process.execPath, script: IN_SEA ? null : fileURLToPath(import.meta.url), args: argv, execArgv: process.execArgv, env: process.env }, paths);
    process.stdout.write(`kportd started (pid ${pid}); socket ${paths.socket}; log ${paths.log}\n`);
  } catch (err) {
    if (err instanceof LaunchFailed) fail(err.message, 1);
    throw err;
  }
}

// Not a top-level await: the single executable's CommonJS bundle has none (a failure still ends the process).
void main(process.argv.slice(2));

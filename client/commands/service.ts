/**
 * `kportctl service install|uninstall|status`: kportd started at login by the user's service manager — a systemd
 * user unit on Linux, a launchd agent on macOS — running this very kportctl's kportd with this node.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { VERSION } from '../../daemon/api/version.js';
import { CliError, command, EXIT, UsageError, type Io } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { DaemonNotRunning, type RpcClient } from '../rpc.js';
import { PASSED_ENV, serviceFile, servicePath, SYSTEMD_UNIT, type ServicePlatform, type ServiceSpec } from '../service/files.js';
import { managerSteps, run, shellLine, type ManagerSteps } from '../service/manager.js';
import { invocation } from '../../daemon/api/launch.js';
import { DAEMON_MAIN } from './daemon.js';

const ACTIONS = ['install', 'uninstall', 'status'] as const;

/** Everything an action works with. */
interface Setting {
  platform: ServicePlatform;
  path: string;
  steps: ManagerSteps;
  /** The manager's name as the user types it. */
  manager: string;
  io: Io;
}

function settingFor(io: Io): Setting {
  const platform = io.platform === 'linux' || io.platform === 'darwin' ? io.platform : null;
  if (platform === null) throw new CliError('UNSUPPORTED', `no login service on ${io.platform}: kportctl installs a systemd user unit (Linux) or a launchd agent (macOS)`);
  const path = servicePath(platform, io.env.HOME || homedir(), io.env.XDG_CONFIG_HOME);
  const steps = managerSteps(platform, path, process.getuid?.() ?? 0);
  return { platform, path, steps, manager: platform === 'darwin' ? 'launchctl' : 'systemctl --user', io };
}

/** This kportctl's kportd with its node flags, this node, and the variables of this shell kportd needs. */
function specFor(io: Io): ServiceSpec {
  const env = Object.fromEntries(PASSED_ENV.flatMap((k) => (io.env[k] ? [[k, io.env[k]!]] : [])));
  const run = invocation({ execPath: process.execPath, script: DAEMON_MAIN, args: ['--foreground'], env });
  return { argv: [process.execPath, ...run.argv], env: run.env as Record<string, string>, version: VERSION };
}

/** Whether the service manager answers here. */
async function managerWorks(s: Setting): Promise<boolean> {
  return (await run(s.steps.probe, s.io.env)).code === 0;
}

/** Runs one step; a refusal is a SERVICE_MANAGER error with the manager's words. */
async function step(s: Setting, argv: readonly string[]): Promise<void> {
  const r = await run(argv, s.io.env);
  if (r.code !== 0) throw new CliError('SERVICE_MANAGER', `${shellLine(argv)} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
}

/** The pid of a kportd answering on the socket, or null. */
async function runningPid(connect: () => Promise<RpcClient>): Promise<number | null> {
  try {
    return (await (await connect()).call('daemon.status', {})).pid;
  } catch (err) {
    if (err instanceof DaemonNotRunning) return null;
    throw err;
  }
}

const say = (io: Io, lines: string[]) => io.stdout.write(lines.map((l) => `${l}\n`).join(''));

async function install(s: Setting, connect: () => Promise<RpcClient>): Promise<void> {
  const { io, path, steps } = s;
  const file = serviceFile(s.platform, specFor(io), path);
  const before = existsSync(path) ? readFileSync(path, 'utf8') : null;
  const changed = before !== file.text;
  if (changed) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.text, { mode: 0o644 });
  }
  say(io, [`${before === null ? 'wrote' : changed ? 'updated' : 'unchanged:'} ${path}`]);
  const start = [...(steps.reload ? [steps.reload] : []), steps.enableNow];
  if (!(await managerWorks(s))) {
    say(io, [`${s.manager} does not answer here; to start kportd now and at every login, run where it does:`, ...start.map((a) => `  ${shellLine(a)}`)]);
    return;
  }
  if (steps.reload) await step(s, steps.reload);
  if ((await run(steps.active, io.env)).code === 0) {
    if (!changed) return say(io, [`kportd's login service is enabled and running`]);
    // launchd reads a plist when it is bootstrapped: out and in again; systemd restarts with the unit reloaded.
    if (s.platform === 'darwin') for (const a of [steps.disableNow, steps.enableNow]) await step(s, a);
    else await step(s, steps.restart);
    return say(io, [`restarted kportd's login service: the new ${s.platform === 'darwin' ? 'agent' : 'unit'} is in effect`]);
  }
  const pid = await runningPid(connect);
  if (pid !== null) {
    // Started now it would find the socket taken and fail: it starts at the next login instead.
    if (s.platform === 'linux') await step(s, steps.enable);
    return say(io, [`kportd's login service starts kportd at the next login; kportd runs outside it now (pid ${pid}). To hand it over now:`, `  kportctl stop && ${shellLine(steps.enableNow)}`]);
  }
  await step(s, steps.enableNow);
  say(io, [`started kportd's login service: kportd runs now and at every login (kportctl status)`]);
}

async function uninstall(s: Setting): Promise<void> {
  const { io, path, steps } = s;
  if (!existsSync(path)) return say(io, [`not installed: ${path} is not there`]);
  const works = await managerWorks(s);
  if (works) await step(s, steps.disableNow);
  rmSync(path, { force: true });
  if (s.platform === 'darwin') return say(io, [`removed ${path}${works ? '; kportd stopped' : ''}`]);
  // `systemctl --user enable` links the unit here; without systemctl the link is removed by hand.
  rmSync(join(dirname(path), 'default.target.wants', SYSTEMD_UNIT), { force: true });
  if (works && steps.reload) await step(s, steps.reload);
  if (works) return say(io, [`removed ${path}; kportd stopped`]);
  say(io, [`removed ${path}. ${s.manager} does not answer here; where it does, a kportd it still runs stops with:`, `  ${shellLine(['systemctl', '--user', 'stop', SYSTEMD_UNIT])}`]);
}

async function status(s: Setting, connect: () => Promise<RpcClient>): Promise<void> {
  const { io, path, steps } = s;
  const installed = existsSync(path);
  const written = installed ? /\(kport ([^)]+)\)/.exec(readFileSync(path, 'utf8'))?.[1] : undefined;
  const lines = [`file     ${path} (${installed ? `installed${written ? ` by kport ${written}` : ''}` : 'not installed'})`];
  if (!(await managerWorks(s))) lines.push(`manager  ${s.manager} does not answer here`);
  else if (installed) {
    const enabled = s.platform === 'darwin' || (await run(steps.enabled, io.env)).code === 0;
    const active = (await run(steps.active, io.env)).code === 0;
    lines.push(`manager  ${s.manager}: ${enabled ? 'starts it at login' : 'does not start it at login'}, ${active ? 'running' : 'not running'}`);
  }
  const pid = await runningPid(connect);
  lines.push(`kportd   ${pid === null ? 'not running' : `running (pid ${pid})`}`);
  say(io, lines);
}

/** `kportctl service install|uninstall|status`. */
export const service = command({
  name: 'service',
  summary: 'start kportd at login (a systemd user unit, a launchd agent)',
  usage: ['install|uninstall|status'],
  description: `
install writes a systemd user unit (~/.config/systemd/user/kportd.service) on Linux, or a launchd
agent (~/Library/LaunchAgents/dev.kport.kportd.plist) on macOS, that runs this kportd with this
node, restarting it when it fails, with this shell's PATH (for exec credential plugins),
KUBECONFIG and KPORT_* variables. Where the service manager answers (systemctl --user, launchctl)
it enables and starts it; otherwise it prints the commands to run. Run it again after an upgrade
or a change of node. uninstall stops and removes it; status says whether it is installed, enabled
and running. On Linux a user service runs while you are logged in (loginctl enable-linger keeps it
running after you log out).`,
  examples: ['kportctl service install', 'kportctl service status', 'kportctl service uninstall'],
  flags: {},
  positionals: { min: 1, max: 1 },
  completes: [ACTIONS],
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'the service manager refused a step (its words are printed)' },
  async run({ args, io, connect }) {
    const action = args[0]!;
    if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`${JSON.stringify(action)}: write install, uninstall or status`);
    const s = settingFor(io);
    if (action === 'install') await install(s, connect);
    else if (action === 'uninstall') await uninstall(s);
    else await status(s, connect);
    return EXIT.OK;
  },
});

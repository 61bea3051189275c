/**
 * Talking to the login service manager: `systemctl --user` on Linux, `launchctl` in the user's GUI domain on macOS.
 * Each step is a command line, run when the manager answers here (a desktop session; not a container, or a shell
 * without a user bus) and otherwise printed for the user to run where it does.
 */
import { execFile } from 'node:child_process';
import { LAUNCHD_LABEL, SYSTEMD_UNIT, type ServicePlatform } from './files.js';

/** What a run of the manager gave. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` with `env` (its PATH finds the program); a program that is not there is code 127. */
export function run(argv: readonly string[], env: Record<string, string | undefined>): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 127;
      resolve({ code, stdout: String(stdout), stderr: err !== null && typeof err.code !== 'number' ? err.message : String(stderr) });
    });
  });
}

/** The command lines for each step on one platform. */
export interface ManagerSteps {
  /** A harmless question that only a working manager answers (exit 0). */
  probe: readonly string[];
  /** After the file is written or changed. */
  reload: readonly string[] | null;
  /** Start at every login, and now. */
  enableNow: readonly string[];
  /** Start at every login, not now (kportd already runs outside the service). */
  enable: readonly string[];
  /** Restart a running service (a new file takes effect). */
  restart: readonly string[];
  /** Whether it is running: exit 0 when it is. */
  active: readonly string[];
  /** Whether it starts at login: exit 0 when it does. */
  enabled: readonly string[];
  /** Stop, and no longer start at login. */
  disableNow: readonly string[];
}

/** The steps on `platform` for the file at `path`; `uid` names the macOS GUI domain. */
export function managerSteps(platform: ServicePlatform, path: string, uid: number): ManagerSteps {
  if (platform === 'darwin') {
    const domain = `gui/${uid}`;
    const target = `${domain}/${LAUNCHD_LABEL}`;
    return {
      probe: ['launchctl', 'print', domain],
      reload: null,
      enableNow: ['launchctl', 'bootstrap', domain, path],
      enable: ['launchctl', 'enable', target],
      restart: ['launchctl', 'kickstart', '-k', target],
      active: ['launchctl', 'print', target],
      enabled: ['launchctl', 'print', target],
      disableNow: ['launchctl', 'bootout', target],
    };
  }
  const ctl = (...args: string[]) => ['systemctl', '--user', ...args];
  return {
    probe: ctl('show-environment'),
    reload: ctl('daemon-reload'),
    enableNow: ctl('enable', '--now', SYSTEMD_UNIT),
    enable: ctl('enable', SYSTEMD_UNIT),
    restart: ctl('restart', SYSTEMD_UNIT),
    active: ctl('is-active', '--quiet', SYSTEMD_UNIT),
    enabled: ctl('is-enabled', '--quiet', SYSTEMD_UNIT),
    disableNow: ctl('disable', '--now', SYSTEMD_UNIT),
  };
}

/** A command line as a shell would take it. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * `kportctl service`: the systemd user unit and the launchd agent it writes (HOME in a temp folder), checked by
 * systemd-analyze and a plist parser where those exist; and what it asks of the service manager, through a stand-in
 * systemctl that records its arguments, or none at all (then it prints the commands).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { FakeDaemon } from './fake-daemon.js';
import { runInProcess } from './memory-io.js';
import { which } from '../helpers/path.js';
import { DAEMON_NODE_FLAGS } from '../../daemon/api/launch.js';

const DAEMON_MAIN = fileURLToPath(new URL('../../daemon/main.js', import.meta.url));
/** The unit runs kportd with its node flags, as every launch of it does. */
const PROGRAM = [process.execPath, ...DAEMON_NODE_FLAGS, DAEMON_MAIN, '--foreground'];
const root = mkdtempSync(join(tmpdir(), 'kport-service-'));
after(() => rmSync(root, { recursive: true, force: true }));

function sh(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(cmd, args, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })));
}

let n = 0;
/** A fresh home, an empty bin folder for PATH, and the environment of a shell in it. */
function home(extra: Record<string, string> = {}) {
  const dir = join(root, `h${n++}`);
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const env = { HOME: dir, PATH: bin, KPORT_SOCKET: join(dir, 'none.sock'), KUBECONFIG: '/home/u/.kube/a b%c', ...extra };
  return { dir, bin, env };
}

/** A stand-in systemctl that logs each call to $SYSTEMCTL_LOG; is-active exits $ACTIVE (default 3: inactive). */
function fakeSystemctl(bin: string): string {
  const log = join(bin, '..', 'systemctl.log');
  writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\necho "$*" >> "$SYSTEMCTL_LOG"\ncase "$*" in *is-active*) exit "${ACTIVE:-3}";; esac\nexit 0\n');
  chmodSync(join(bin, 'systemctl'), 0o755);
  return log;
}

const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n') : []);

describe('kportctl service on Linux: a systemd user unit', () => {
  test('install writes ~/.config/systemd/user/kportd.service for this node and kportd; without systemctl --user, the commands to run', async () => {
    const { dir, env } = home();
    const r = await runInProcess(['service', 'install'], env, { platform: 'linux' });
    const unit = join(dir, '.config', 'systemd', 'user', 'kportd.service');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `wrote ${unit}\nsystemctl --user does not answer here; to start kportd now and at every login, run where it does:\n  systemctl --user daemon-reload\n  systemctl --user enable --now kportd.service\n`,
    );
    const text = readFileSync(unit, 'utf8');
    assert.match(text, new RegExp(`^ExecStart=${PROGRAM.map((a) => `"${a}"`).join(' ')}$`, 'm'));
    assert.match(text, /^Restart=on-failure$/m);
    assert.match(text, /^WantedBy=default\.target$/m);
    assert.match(text, new RegExp(`^Environment="PATH=${env.PATH}"$`, 'm'));
    // % is a specifier in unit files: doubled.
    assert.match(text, /^Environment="KUBECONFIG=\/home\/u\/\.kube\/a b%%c"$/m);
    const again = await runInProcess(['service', 'install'], env, { platform: 'linux' });
    assert.match(again.stdout, /^unchanged: /);
  });

  test('systemd-analyze verify accepts the unit (where systemd-analyze exists)', async (t) => {
    const analyze = which('systemd-analyze');
    if (!analyze) return t.skip('systemd-analyze is not installed here');
    const { dir, env } = home();
    await runInProcess(['service', 'install'], env, { platform: 'linux' });
    const r = await sh(analyze, ['verify', join(dir, '.config', 'systemd', 'user', 'kportd.service')]);
    assert.deepEqual([r.code, r.stderr], [0, '']);
  });

  test('$XDG_CONFIG_HOME is where systemd looks, so the unit goes there', async () => {
    const { dir, env } = home();
    const config = join(dir, 'cfg');
    await runInProcess(['service', 'install'], { ...env, XDG_CONFIG_HOME: config }, { platform: 'linux' });
    assert.ok(existsSync(join(config, 'systemd', 'user', 'kportd.service')));
  });

  test('where systemctl --user answers: enabled and started; then status; a changed unit restarts it; uninstall stops and removes it', async () => {
    const { dir, bin, env } = home();
    const log = fakeSystemctl(bin);
    const withLog = { ...env, SYSTEMCTL_LOG: log };
    const r = await runInProcess(['service', 'install'], withLog, { platform: 'linux' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nstarted kportd's login service: kportd runs now and at every login \(kportctl status\)\n$/);
    assert.deepEqual(calls(log), ['--user show-environment', '--user daemon-reload', '--user is-active --quiet kportd.service', '--user enable --now kportd.service']);

    const running = { ...withLog, ACTIVE: '0' };
    const st = await runInProcess(['service', 'status'], running, { platform: 'linux' });
    assert.match(st.stdout, /^file {5}\S+kportd\.service \(installed by kport \d+\.\d+\.\d+\)\nmanager  systemctl --user: starts it at login, running\nkportd {3}not running\n$/);

    const changed = await runInProcess(['service', 'install'], { ...running, KUBECONFIG: '/other' }, { platform: 'linux' });
    assert.match(changed.stdout, /^updated .*\nrestarted kportd's login service: the new unit is in effect\n$/);
    assert.equal(calls(log).at(-1), '--user restart kportd.service');

    const unit = join(dir, '.config', 'systemd', 'user', 'kportd.service');
    const u = await runInProcess(['service', 'uninstall'], withLog, { platform: 'linux' });
    assert.equal(u.stdout, `removed ${unit}; kportd stopped\n`);
    assert.deepEqual(calls(log).slice(-2), ['--user disable --now kportd.service', '--user daemon-reload']);
    assert.equal(existsSync(unit), false);
    assert.match((await runInProcess(['service', 'uninstall'], withLog, { platform: 'linux' })).stdout, /^not installed: /);
  });

  test('a kportd already running outside the service: enabled for the next login, not started into a clash', async () => {
    const fake = await FakeDaemon.start();
    try {
      const { bin, env } = home({ KPORT_SOCKET: fake.socket });
      const log = fakeSystemctl(bin);
      const r = await runInProcess(['service', 'install'], { ...env, SYSTEMCTL_LOG: log }, { platform: 'linux' });
      assert.match(r.stdout, /\nkportd's login service starts kportd at the next login; kportd runs outside it now \(pid 4242\)\. To hand it over now:\n {2}kportctl stop && systemctl --user enable --now kportd\.service\n$/);
      assert.equal(calls(log).at(-1), '--user enable kportd.service');
    } finally {
      await fake.close();
    }
  });

  test('a refusal from systemctl is an error with its words, exit 1', async () => {
    const { bin, env } = home();
    writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\ncase "$*" in *enable*) echo "Failed to enable unit: Access denied" >&2; exit 1;; *is-active*) exit 3;; esac\nexit 0\n');
    chmodSync(join(bin, 'systemctl'), 0o755);
    const r = await runInProcess(['service', 'install'], env, { platform: 'linux' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'kportctl: SERVICE_MANAGER: systemctl --user enable --now kportd.service failed (exit 1): Failed to enable unit: Access denied\n');
  });
});

describe('kportctl service on macOS: a launchd agent', () => {

  test('install writes ~/Library/LaunchAgents/dev.kport.kportd.plist: a valid plist running this kportd, restarted on failure', async (t) => {
    const { dir, env } = home({ KUBECONFIG: '/Users/u/.kube/a&b' });
    const r = await runInProcess(['service', 'install'], env, { platform: 'darwin' });
    const plist = join(dir, 'Library', 'LaunchAgents', 'dev.kport.kportd.plist');
    assert.equal(r.code, 0, r.stderr);
    const uid = process.getuid?.() ?? 0;
    assert.equal(r.stdout, `wrote ${plist}\nlaunchctl does not answer here; to start kportd now and at every login, run where it does:\n  launchctl bootstrap gui/${uid} ${plist}\n`);
    const text = readFileSync(plist, 'utf8');
    assert.match(text, /<key>Label<\/key>\n {2}<string>dev\.kport\.kportd<\/string>/);
    assert.ok(text.includes(PROGRAM.map((a) => `<string>${a}</string>`).join('\n    ')));
    assert.match(text, /<key>KeepAlive<\/key>\n {2}<dict>\n {4}<key>SuccessfulExit<\/key>\n {4}<false\/>/);
    assert.ok(text.includes('<string>/Users/u/.kube/a&amp;b</string>'));
    // A real plist parser: plutil on macOS, else Python's plistlib.
    const plutil = which('plutil');
    const python = which('python3');
    if (plutil) assert.equal((await sh(plutil, ['-lint', plist])).code, 0);
    else if (python) {
      const parsed = await sh(python, ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', plist]);
      assert.equal(parsed.code, 0, parsed.stderr);
      const p = JSON.parse(parsed.stdout) as { Label: string; ProgramArguments: string[]; RunAtLoad: boolean; EnvironmentVariables: Record<string, string> };
      assert.deepEqual([p.Label, p.ProgramArguments, p.RunAtLoad, p.EnvironmentVariables.KUBECONFIG], ['dev.kport.kportd', PROGRAM, true, '/Users/u/.kube/a&b']);
    } else t.diagnostic('neither plutil nor python3 is installed: the plist is not parsed');
  });

  test('other platforms: there is no login service to write', async () => {
    const { env } = home();
    const r = await runInProcess(['service', 'install'], env, { platform: 'win32' });
    assert.deepEqual([r.code, r.stderr], [1, 'kportctl: UNSUPPORTED: no login service on win32: kportctl installs a systemd user unit (Linux) or a launchd agent (macOS)\n']);
  });
});

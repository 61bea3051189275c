/**
 * Starting kportd in the background (daemon/api/launch.ts), as `kportctl start` and `kportd` do it: they
 * return once the control socket answers, kportd runs with its node flags, and a kportd that cannot start
 * says why through them. How it is invoked: its flags on node's command line, or in NODE_OPTIONS for the
 * single executable.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { DAEMON_NODE_FLAGS, invocation } from '../../daemon/api/launch.js';
import { KPORTD, KportdHarness } from '../helpers/daemon.js';
import { alive } from '../helpers/process.js';
import { waitUntil } from '../helpers/wait.js';

/** Runs `kportd ARGS` with the harness's environment. */
function kportd(k: KportdHarness, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [KPORTD, ...args], { env: k.env() }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr })));
}

for (const how of ['kportctl start', 'kportd'] as const) {
  test(`${how} returns once the socket answers: the next command is served at once`, async () => {
    const k = new KportdHarness();
    let pid = 0;
    try {
      k.writeConfig('forwards: []\n');
      const started = how === 'kportd' ? await kportd(k) : await k.ctl('start');
      assert.equal(started.code, 0, started.stderr);
      pid = Number(/kportd started \(pid (\d+)\); socket /.exec(started.stdout)?.[1]);
      const status = JSON.parse(await k.ok('status', '--json')) as { pid: number };
      assert.equal(status.pid, pid);
      if (process.platform === 'linux') {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        for (const flag of DAEMON_NODE_FLAGS) assert.ok(argv.includes(flag), `kportd runs with ${flag}: ${argv.join(' ')}`);
      }
      assert.match(await k.ok('stop'), /stopped/);
      await waitUntil(() => !alive(pid), 'the daemon to exit');
    } finally {
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      await k.cleanup();
    }
  });

  test(`${how}: a kportd that cannot start says why, and the exit code is 1`, async () => {
    const k = new KportdHarness();
    try {
      mkdirSync(k.stateDir, { recursive: true });
      writeFileSync(k.socket, 'not a socket'); // kportd refuses to replace what it did not make
      const r = how === 'kportd' ? await kportd(k) : await k.ctl('start');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^kportd: .*kportd\.sock exists and is not a socket/m);
    } finally {
      await k.cleanup();
    }
  });
}

test("with a script, kportd's flags and the caller's come before it on node's command line", () => {
  const run = invocation({ execPath: process.execPath, script: '/opt/kport/kportd.js', args: ['--foreground'], execArgv: ['--inspect'], env: {} });
  assert.deepEqual(run.argv, [...DAEMON_NODE_FLAGS, '--inspect', '/opt/kport/kportd.js', '--foreground']);
  assert.equal(run.env.MALLOC_ARENA_MAX, '2');
  assert.equal(invocation({ execPath: process.execPath, script: 'k.js', args: [], env: { MALLOC_ARENA_MAX: '4' } }).env.MALLOC_ARENA_MAX, '4', "the user's own value wins");
});

test('the single executable gets its flags in NODE_OPTIONS, and node starts with them there', () => {
  const run = invocation({ execPath: process.execPath, script: null, args: ['--foreground'], env: { NODE_OPTIONS: '--trace-warnings' } });
  assert.deepEqual(run.argv, ['kportd', '--foreground']);
  const options = run.env.NODE_OPTIONS!.split(' ');
  assert.equal(options[0], '--trace-warnings', "the user's NODE_OPTIONS are kept");
  for (const flag of DAEMON_NODE_FLAGS) assert.ok(options.includes(flag), flag);
  // Node refuses most V8 flags in NODE_OPTIONS: a refused one here would stop the single executable starting.
  const started = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: run.env.NODE_OPTIONS }, encoding: 'utf8' });
  assert.equal(started.status, 0, started.stderr);
});

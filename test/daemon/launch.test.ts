/**
 * Starting kportd in the background (daemon/api/launch.ts), as `kportctl start` and `kportd` do it: they
 * return once the control socket answers, and a kportd that cannot start says why through them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
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

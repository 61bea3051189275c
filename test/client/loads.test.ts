/**
 * kportctl's verbs need no kport.yaml, so they must not pay for loading the config stack: run against a
 * daemon, each verb's loaded-module list (recorded by a loader hook) holds no yaml, no zod and nothing of
 * the daemon but its contract (daemon/api/).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { FakeDaemon, forwardSpec, sessionStatus } from './fake-daemon.js';
import { env, KPORTCTL } from './kportctl.js';

const RECORDER = fileURLToPath(new URL('../helpers/record-loads.js', import.meta.url));

/** Runs `kportctl ARGS` with the recorder; resolves with its exit code, its output and the modules it loaded. */
function run(args: string[], socket: string, record: string): Promise<{ code: number; stdout: string; loaded: string[] }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', RECORDER, KPORTCTL, ...args], { env: env(socket, { KPORT_RECORD_LOADS: record }) }, (err, stdout) => {
      const loaded = readFileSync(record, 'utf8').split('\n').filter((u) => u.startsWith('file:'));
      resolve({ code: err ? Number(err.code) : 0, stdout, loaded });
    });
  });
}

describe('what kportctl loads', () => {
  let fake: FakeDaemon;
  const dir = mkdtempSync(join(tmpdir(), 'kport-loads-'));
  before(async () => {
    const spec = forwardSpec('web');
    fake = await FakeDaemon.start({}, [sessionStatus(spec)]);
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const args of [['list'], ['list', '-o', 'json'], ['status'], ['port', 'web'], ['wait', 'web'], ['version'], ['--help']]) {
    test(`kportctl ${args.join(' ')} loads no yaml, no zod, nothing of the daemon but its contract`, async () => {
      const r = await run(args, fake.socket, join(dir, `${args.join('-')}.txt`));
      assert.equal(r.code, 0, r.stdout);
      assert.ok(r.loaded.some((u) => u.includes('client')), 'the recorder saw kportctl load');
      assert.deepEqual(r.loaded.filter((u) => /\/node_modules\/(yaml|zod)\//.test(u) || (/\/daemon\//.test(u) && !/\/daemon\/api\//.test(u))), []);
    });
  }
});

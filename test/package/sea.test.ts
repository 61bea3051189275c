/**
 * `npm run sea`'s single executable, built here into a temp folder: `kport` is kportctl, `kport kportd` and a
 * `kportd` link to it are kportd; `kport start` launches kportd from the same binary, `kport list` lists its
 * sessions, `kport stop` stops it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildSea } from '../../build/sea.js';
import type { SimCluster } from '../cluster/cluster.js';
import { KportdHarness } from '../helpers/daemon.js';
import { demoCluster } from '../helpers/demo.js';
import { alive } from '../helpers/process.js';
import { waitUntil } from '../helpers/wait.js';
import { VERSION } from '../../daemon/api/version.js';

const dir = mkdtempSync(join(tmpdir(), 'kport-sea-'));
let kport = '';
let cluster: SimCluster;
before(async () => {
  [kport, cluster] = await Promise.all([buildSea(dir), demoCluster()]);
});
after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the executable (or a link to it) with `env`. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(file, args, { env, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr })));
}

test('kport is kportctl; kport kportd and a kportd link to it are kportd', async () => {
  assert.deepEqual(await run(kport, ['--version']), { code: 0, stdout: `kportctl ${VERSION}\n`, stderr: '' });
  assert.deepEqual(await run(kport, ['kportd', '--version']), { code: 0, stdout: `kportd ${VERSION}\n`, stderr: '' });
  const link = join(dir, 'kportd');
  symlinkSync(kport, link);
  assert.deepEqual(await run(link, ['--version']), { code: 0, stdout: `kportd ${VERSION}\n`, stderr: '' });
});

test('kport start runs kportd from the same file; kport list shows its sessions; kport stop stops it', async () => {
  const k = new KportdHarness();
  let pid = 0;
  try {
    k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nforwards:\n  - { name: db, target: sts/db, ports: [":5432"] }\n`);
    const started = await run(kport, ['start'], k.env());
    assert.equal(started.code, 0, started.stderr);
    pid = Number(/kportd started \(pid (\d+)\)/.exec(started.stdout)?.[1]);
    assert.equal((await run(kport, ['wait', 'db'], k.env())).code, 0);
    const list = await run(kport, ['list'], k.env());
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^db\s+ready\s/m);
    assert.match((await run(kport, ['stop'], k.env())).stdout, /kportd stopped/);
    await waitUntil(() => !alive(pid), 'kportd to exit');
  } finally {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    await k.cleanup();
  }
});

/** The standalone simulator: starts, prints its ready line, serves, and exits 0 on SIGTERM leaving nothing behind. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fetchText } from '../helpers/http.js';
import { alive, exited, startAndWait, type Started } from '../helpers/process.js';
import { waitUntil } from '../helpers/wait.js';

const READY = /^cluster ready: kubeconfig=(\S+) server=(https:\/\/127\.0\.0\.1:\d+)$/;
const dir = mkdtempSync(join(tmpdir(), 'kport-standalone-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function assertServes(started: Started, kubeconfig: string): Promise<void> {
  assert.equal(started.match[1], kubeconfig);
  const config = readFileSync(kubeconfig, 'utf8');
  assert.match(config, /current-context: sim/);
  const token = /token: (\S+)/.exec(config)![1]!;
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(config)![1]!, 'base64').toString();
  const res = await fetchText(`${started.match[2]}/api/v1/namespaces/default/services`, { ca, headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body).items.map((s: { metadata: { name: string } }) => s.metadata.name), ['db', 'web']);
}

test('the simulator exits 0 on SIGTERM and removes its kubeconfig', async () => {
  const kubeconfig = join(dir, 'direct.kubeconfig');
  const started = await startAndWait(process.execPath, ['dist/test/cluster/main.js', '--kubeconfig', kubeconfig, '--fast'], READY);
  await assertServes(started, kubeconfig);
  const code = exited(started.child);
  started.child.kill('SIGTERM');
  assert.equal(await code, 0);
  assert.match(started.output(), /cluster stopped/);
  assert.equal(existsSync(kubeconfig), false);
});

test('npm run cluster: SIGTERM to its process group (as a terminal or CI sends it) stops everything', async () => {
  const kubeconfig = join(dir, 'npm.kubeconfig');
  // detached: npm, its shell and the simulator form one process group, signalled together.
  const started = await startAndWait('npm', ['run', '--silent', 'cluster', '--', '--kubeconfig', kubeconfig, '--fast'], READY, { detached: true });
  await assertServes(started, kubeconfig);
  const done = exited(started.child);
  process.kill(-started.child.pid!, 'SIGTERM');
  await done;
  await waitUntil(() => started.output().includes('cluster stopped'), 'the simulator to report a clean shutdown');
  await waitUntil(() => !alive(-started.child.pid!), 'every process of the group to exit');
  assert.equal(existsSync(kubeconfig), false);
});

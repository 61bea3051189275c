/** `npm run demo`: the simulated cluster plus a real kportd, failover on a timer, Ctrl-C stops everything. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { connect } from '../../client/rpc.js';
import { httpGet } from '../helpers/forward.js';
import { exited, startAndWait } from '../helpers/process.js';
import { waitUntil } from '../helpers/wait.js';

const demo = fileURLToPath(new URL('../../demo/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kport-demo-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the demo serves the web forward, fails it over as pods are deleted, and stops cleanly on SIGINT', async () => {
  // The demo's own config with any free ports, so the test never fights a local 8080.
  const config = join(dir, 'demo.yaml');
  writeFileSync(config, 'kubeconfig: ${KPORT_DEMO_KUBECONFIG}\nforwards:\n  - { name: web, target: service/web, ports: [":80"] }\n');
  const started = await startAndWait(process.execPath, [demo], /KPORT_SOCKET=(\S+) node \S+\/kportctl\.c?js list -w/, { env: { ...process.env, KPORT_DEMO_CONFIG: config, KPORT_DEMO_DELETE_EVERY_MS: '500' } });
  const socket = started.match[1]!;
  const tempDir = join(socket, '..', '..');
  await waitUntil(() => existsSync(socket), 'kportd to listen', 15_000, 20);
  const rpc = await connect(socket);
  try {
    await rpc.call('session.wait', { name: 'web', timeoutMs: 15_000 });
    const port = (await rpc.call('session.get', { name: 'web' })).listeners[0]!.port;
    assert.match(await httpGet(port), /^web-\S+\n$/);
    await waitUntil(() => started.output().includes('deleting pod web-'), 'the demo to delete a web pod', 10_000, 20);
    await waitUntil(async () => (await rpc.call('session.get', { name: 'web' })).counters.failovers > 0, 'a failover', 15_000, 50);
    await rpc.call('session.wait', { name: 'web', timeoutMs: 15_000 });
    assert.match(await httpGet(port), /^web-\S+\n$/, 'still served after the failover');
  } finally {
    await rpc.close();
  }
  const code = exited(started.child);
  started.child.kill('SIGINT');
  assert.equal(await code, 0);
  assert.equal(existsSync(tempDir), false, 'the demo removes its temp folder');
});

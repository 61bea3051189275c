/**
 * kubectl's habits in kportctl, against a real kportd and the simulated cluster: both loopbacks for localhost,
 * the caller's $KUBECONFIG kept with the session, and `add` / `wait` telling a forward that cannot work at once.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { SimCluster } from '../cluster/cluster.js';
import { KportdHarness } from '../helpers/daemon.js';
import { httpGet } from '../helpers/forward.js';
import { occupyPort } from '../helpers/port.js';

describe("kportctl as a kubectl user types it", () => {
  let cluster: SimCluster;
  let k: KportdHarness;
  /** A second kubeconfig, its only context named sim2: only the caller's $KUBECONFIG has it. */
  let k2: string;
  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
    k = new KportdHarness();
    k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\n`);
    const doc = parse(readFileSync(cluster.kubeconfigPath, 'utf8')) as { contexts: { name: string }[]; 'current-context': string };
    doc.contexts = doc.contexts.filter((c) => c.name === 'sim').map((c) => ({ ...c, name: 'sim2' }));
    doc['current-context'] = 'sim2';
    k2 = join(k.dir, 'k2.kubeconfig');
    writeFileSync(k2, stringify(doc), { mode: 0o600 });
    await k.start();
  });
  after(async () => {
    await k.cleanup();
    await cluster.stop();
  });

  test('--address localhost listens on both loopbacks, 127.0.0.1 and ::1, as kubectl port-forward does', async () => {
    const out = await k.ok('add', 'both', 'svc/web', ':80', '--address', 'localhost', '--ephemeral');
    assert.match(out, /^added forward both \(ready\):\n {2}127\.0\.0\.1:(\d+) → svc\/web:80\n {2}\[::1\]:\1 → svc\/web:80\n$/);
    const port = Number((await k.ok('port', 'both')).trim());
    assert.match(await httpGet(port), /^web-/);
    assert.match(await httpGet(port, '/', '::1'), /^web-/);
    await k.ok('rm', 'both');
  });

  test("--address takes kubectl's comma list", async () => {
    await k.ok('add', 'comma', 'svc/web', ':80', '--address', '127.0.0.1,::1', '--ephemeral');
    const [s] = JSON.parse(await k.ok('list', 'comma', '-o', 'json')) as { listeners: { address: string }[] }[];
    assert.deepEqual(s!.listeners.map((l) => l.address), ['127.0.0.1', '::1']);
    await k.ok('delete', 'comma');
  });

  test("the caller's $KUBECONFIG is honoured for add, kept with the session and shown by list --wide", async () => {
    // kportd's own kubeconfig has no context sim2: only the caller's does.
    const r = await k.ctlWith({ KUBECONFIG: k2 }, 'add', 'w2', 'svc/web', ':80', '--context', 'sim2');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^added forward w2: 127\.0\.0\.1:\d+ → svc\/web:80 \(ready\)$/m);
    await k.ok('wait', 'w2');
    assert.match(await httpGet(Number((await k.ok('port', 'w2')).trim())), /^web-/);
    const wide = await k.ok('list', 'w2', '--wide');
    const [head, row] = wide.trimEnd().split('\n');
    assert.equal(row!.slice(head!.indexOf('KUBECONFIG')).split(/ {2,}/)[0], k2);
    assert.equal(row!.slice(head!.indexOf('CONTEXT')).split(/ {2,}/)[0], 'sim2');
    // Without it, the context is checked against kportd's kubeconfig, which does not have it.
    const without = await k.ctl('add', 'w3', 'svc/web', ':80', '--context', 'sim2');
    assert.equal(without.code, 1);
    assert.match(without.stderr, /^kportctl: INVALID_CONFIG: context: context "sim2" is not in the kubeconfig/m);
    // --kubeconfig does the same, and its current-context is the default, as kubectl's.
    const flag = await k.ctl('add', 'w4', 'svc/web', ':80', '--kubeconfig', k2, '--ephemeral');
    assert.equal(flag.code, 0, flag.stderr);
    assert.equal((JSON.parse(await k.ok('list', 'w4', '-o', 'json')) as { spec: { context: string } }[])[0]!.spec.context, 'sim2');
    assert.equal(await k.ok('rm', 'w2', 'forward/w4'), 'removed w2\nremoved w4\n');
  });

  test('a forward to a target that does not exist: add says failed and why; wait exits 1 at once with the code', async () => {
    const added = await k.ok('add', 'ghost', 'svc/no-such-service', ':80', '--ephemeral');
    assert.match(added, /^added forward ghost: 127\.0\.0\.1:\d+ → svc\/no-such-service:80 \(failed: service "no-such-service" not found in namespace "default"\)\n$/);
    const r = await k.ctl('wait', 'ghost', '--timeout', '1h');
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'kportctl: TARGET_NOT_FOUND: ghost failed: service "no-such-service" not found in namespace "default"\n']);
    await k.ok('rm', 'ghost');
  });

  test("the issue's two: no permission to port-forward, and a port the service does not have: failed, and wait exits 1 at once", async () => {
    const viewer = await k.ok('add', 'vv', 'svc/web', ':80', '--context', 'sim-viewer', '--ephemeral');
    assert.match(viewer, /\(failed: .*forbidden/i);
    const denied = await k.ctl('wait', 'vv', '--timeout', '1h');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^kportctl: FORBIDDEN: vv failed: /);
    const missing = await k.ok('add', 'w81', 'svc/web', ':80', ':81', '--ephemeral');
    assert.match(missing, /\(failed: /);
    const noPort = await k.ctl('wait', 'w81', '--timeout', '1h');
    assert.equal(noPort.code, 1);
    assert.match(noPort.stderr, /^kportctl: PORT_NOT_FOUND: w81 failed: /);
    await k.ok('rm', 'vv', 'w81');
  });

  test('a local port in use: add says so; wait exits 1 at once with PORT_IN_USE', async () => {
    const taken = await occupyPort();
    try {
      const added = await k.ok('add', 'clash', 'svc/web', `${taken.port}:80`, '--ephemeral');
      assert.equal(added, `added forward clash, not listening (failed: address 127.0.0.1:${taken.port} is in use by another process)\n`);
      const r = await k.ctl('wait', 'clash', '--timeout', '1h');
      assert.deepEqual([r.code, r.stderr], [1, `kportctl: PORT_IN_USE: clash failed: address 127.0.0.1:${taken.port} is in use by another process\n`]);
      const port = await k.ctl('port', 'clash');
      assert.match(port.stderr, /^kportctl: PORT_IN_USE: clash is not listening \(failed: /);
    } finally {
      taken.server.close();
      await k.ok('rm', 'clash');
    }
  });
});

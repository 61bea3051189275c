/** Forwards end to end through real sockets: every kind of target carries bytes both ways. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { echo, echoChecksum, ForwardHarness, forwardSpec, httpGet, localPort, waitForState } from '../helpers/forward.js';

describe('forward targets', () => {
  let cluster: SimCluster;
  let harness: ForwardHarness;
  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    cluster.service('default', 'web-numeric', { selector: { app: 'web' }, ports: [{ port: 8081, targetPort: 8080 }] });
    cluster.pod('default', 'solo', { labels: { role: 'solo' }, ports: [{ name: 'http', containerPort: 8080 }, { name: 'echo', containerPort: 7000 }] });
    await cluster.waitFor(() => cluster.readyPods('default').length === 4, 10_000, 'pods ready');
    harness = new ForwardHarness(cluster.kubeconfigPath);
  });
  after(async () => {
    await harness.stop();
    await cluster.stop();
  });

  test('pod/NAME: by number and by container port name', async () => {
    const s = await harness.start(forwardSpec('pod', { kind: 'pod', name: 'solo' }, [8080, 'echo']));
    await waitForState(s, 'ready');
    assert.equal(await httpGet(localPort(s, 0)), 'solo\n');
    assert.equal(await echo(localPort(s, 1), 'hello pod'), 'hello pod');
    assert.deepEqual(s.core.status().pods, ['solo']);
  });

  test('service/NAME with a named targetPort, and with a numeric one', async () => {
    const named = await harness.start(forwardSpec('svc-named', { kind: 'service', name: 'web' }, [80]));
    const numeric = await harness.start(forwardSpec('svc-numeric', { kind: 'service', name: 'web-numeric' }, [8081]));
    const byName = await harness.start(forwardSpec('svc-by-port-name', { kind: 'service', name: 'web' }, ['http']));
    for (const s of [named, numeric, byName]) {
      await waitForState(s, 'ready');
      assert.match(await httpGet(localPort(s)), /^web-\S+\n$/);
    }
  });

  test('deployment, statefulset and selector targets', async () => {
    const deploy = await harness.start(forwardSpec('deploy', { kind: 'deployment', name: 'web' }, ['http']));
    const sts = await harness.start(forwardSpec('sts', { kind: 'statefulset', name: 'db' }, [5432]));
    const sel = await harness.start(forwardSpec('sel', { kind: 'selector', labels: { app: 'web' } }, [8080]));
    for (const s of [deploy, sts, sel]) await waitForState(s, 'ready');
    assert.match(await httpGet(localPort(deploy)), /^web-/);
    assert.equal(await echo(localPort(sts), 'to db-0 and back'), 'to db-0 and back');
    assert.match(await httpGet(localPort(sel)), /^web-/);
    assert.deepEqual(sts.core.status().pods, ['db-0']);
  });

  test('a 50 MB transfer arrives intact both ways (checksums match)', async () => {
    const s = await harness.start(forwardSpec('bulk', { kind: 'statefulset', name: 'db' }, [5432]));
    await waitForState(s, 'ready');
    const payload = randomBytes(50 * 1024 * 1024);
    const { sent, received } = await echoChecksum(localPort(s), payload);
    assert.equal(received, sent);
    const c = s.core.status().counters;
    assert.equal(c.bytesOut, payload.length);
    assert.equal(c.bytesIn, payload.length);
  });

  test('200 concurrent connections through one forward all complete with their own data', async () => {
    const s = await harness.start(forwardSpec('many', { kind: 'service', name: 'db' }, [5432]));
    await waitForState(s, 'ready');
    const texts = Array.from({ length: 200 }, (_, i) => `connection ${i} ${randomBytes(8).toString('hex')}`);
    const results = await Promise.all(texts.map((t) => echo(localPort(s), t)));
    assert.deepEqual(results, texts);
    assert.equal(s.core.status().counters.connectionsTotal, 200);
  });

  test('the local port stays bound, and real port numbers are reported where 0 was asked', async () => {
    const s = await harness.start(forwardSpec('ports', { kind: 'pod', name: 'solo' }, [8080, 7000]));
    const listeners = s.core.status().listeners;
    assert.equal(listeners.length, 2);
    assert.ok(listeners.every((l) => l.address === '127.0.0.1' && l.port > 0));
    assert.deepEqual(listeners.map((l) => l.remote), [8080, 7000]);
  });
});

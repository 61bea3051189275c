/** Self-healing: pod deletion, balancing, API server restarts, held connections, backpressure. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { echo, ForwardHarness, forwardSpec, httpGet, localPort, open, recordStates, waitForState } from '../helpers/forward.js';

describe('self-healing forwards', () => {
  let cluster: SimCluster;
  let harness: ForwardHarness;
  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
    harness = new ForwardHarness(cluster.kubeconfigPath);
  });
  after(async () => {
    await harness.stop();
    await cluster.stop();
  });

  test('deleting the pod behind a forward: the port stays bound, the replacement serves, ready → waiting → ready', async () => {
    const s = await harness.start(forwardSpec('db', { kind: 'statefulset', name: 'db' }, [5432]));
    await waitForState(s, 'ready');
    const port = localPort(s);
    assert.equal(await echo(port, 'before'), 'before');
    const states = recordStates(s);
    const oldUid = cluster.get('pods', 'default', 'db-0')!.metadata.uid;
    cluster.deletePod('default', 'db-0');
    await waitForState(s, 'waiting');
    // Opened while no pod is ready: accepted (the listener never closed), held, then served by the replacement.
    assert.equal(await echo(port, 'after'), 'after');
    assert.notEqual(cluster.get('pods', 'default', 'db-0')!.metadata.uid, oldUid);
    assert.deepEqual(states, ['ready', 'waiting', 'ready']);
    assert.equal(s.core.status().counters.failovers, 1);
    assert.equal(localPort(s), port);
  });

  test('an open connection to a pod that goes away is closed; the next one goes to another pod', async () => {
    const s = await harness.start(forwardSpec('web-failover', { kind: 'service', name: 'web' }, [80], { balance: 'first' }));
    await waitForState(s, 'ready');
    const pods = s.core.status().pods;
    const conn = await open(localPort(s));
    const closed = new Promise((r) => conn.once('close', r));
    conn.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const servedBy = await new Promise<string>((r) => conn.once('data', (d: Buffer) => r(/\r\n\r\n(\S+)\n/.exec(d.toString())![1]!)));
    assert.ok(pods.includes(servedBy));
    cluster.deletePod('default', servedBy);
    await closed;
    const next = (await httpGet(localPort(s))).trim();
    assert.notEqual(next, servedBy);
    assert.ok(s.core.status().counters.failovers >= 1);
  });

  test('round-robin spreads 30 connections over 3 ready pods; first sends them all to one', async () => {
    cluster.scale('deployments', 'default', 'web', 3);
    await cluster.waitFor(() => cluster.readyPods('default', 'app=web').length === 3 && cluster.pods('default', 'app=web').length === 3, 10_000, '3 web pods');
    const rr = await harness.start(forwardSpec('rr', { kind: 'service', name: 'web' }, [80]));
    const first = await harness.start(forwardSpec('first', { kind: 'service', name: 'web' }, [80], { balance: 'first' }));
    for (const s of [rr, first]) await waitForState(s, 'ready');
    await cluster.waitFor(() => rr.core.status().pods.length === 3, 5_000, 'the forward to see 3 pods');
    const count = async (port: number) => {
      const hits = new Map<string, number>();
      for (let i = 0; i < 30; i++) {
        const pod = (await httpGet(port)).trim();
        hits.set(pod, (hits.get(pod) ?? 0) + 1);
      }
      return [...hits.values()].sort();
    };
    assert.deepEqual(await count(localPort(rr)), [10, 10, 10]);
    assert.deepEqual(await count(localPort(first)), [30]);
    cluster.scale('deployments', 'default', 'web', 2);
  });

  test('restarting the API server: forwards come back by themselves', async () => {
    const s = await harness.start(forwardSpec('survivor', { kind: 'service', name: 'db' }, [5432]));
    await waitForState(s, 'ready');
    await cluster.stopApi();
    await waitForState(s, 'waiting');
    assert.match(s.core.status().reason, /API server unreachable/);
    // A connection made while the API server is down waits for it instead of being refused.
    const held = echo(localPort(s), 'held through the outage');
    await cluster.startApi();
    await waitForState(s, 'ready');
    assert.equal(await held, 'held through the outage');
    assert.equal(await echo(localPort(s), 'and after'), 'and after');
  });

  test('a held connection is closed after connectTimeout when no pod becomes ready', async () => {
    cluster.deployment('default', 'idle', { replicas: 0, labels: { app: 'idle' }, ports: [{ containerPort: 7000 }] });
    const s = await harness.start(forwardSpec('idle', { kind: 'deployment', name: 'idle' }, [7000], { connectTimeoutMs: 200 }));
    await waitForState(s, 'waiting');
    const conn = await open(localPort(s));
    await new Promise((r) => conn.once('close', r));
    assert.equal(s.core.status().lastError?.code, 'CONNECT_TIMEOUT');
    assert.match(s.core.status().lastError!.message, /no ready pod for deployment\/idle within 0\.2 s/);
    cluster.scale('deployments', 'default', 'idle', 1);
    await waitForState(s, 'ready');
    assert.equal(await echo(localPort(s), 'woken'), 'woken');
  });

  test('a slow local reader does not make the daemon buffer the transfer (backpressure)', async () => {
    const s = await harness.start(forwardSpec('slow', { kind: 'statefulset', name: 'db' }, [5432]));
    await waitForState(s, 'ready');
    const total = 24 * 1024 * 1024;
    const payload = randomBytes(total);
    const conn = await open(localPort(s));
    const hash = createHash('sha256');
    let received = 0;
    let peak = 0;
    const done = new Promise<void>((resolve) => {
      conn.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
        peak = Math.max(peak, s.bufferedBytes());
        if (received >= total) return resolve();
        // A slow consumer: take one chunk, then look away for a few milliseconds.
        conn.pause();
        setTimeout(() => conn.resume(), 4);
      });
    });
    (async () => {
      for (let off = 0; off < total; off += 256 * 1024) {
        if (!conn.write(payload.subarray(off, off + 256 * 1024))) await new Promise((r) => conn.once('drain', r));
        peak = Math.max(peak, s.bufferedBytes());
      }
    })();
    await done;
    conn.destroy();
    assert.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'));
    assert.ok(peak < 4 * 1024 * 1024, `the daemon buffered up to ${peak} bytes for one connection`);
  });
});

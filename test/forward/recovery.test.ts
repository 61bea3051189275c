/**
 * Recovery follows the cluster, not a timer: once the API server is back (or port-forward stops
 * being refused), connections held through the outage are served, even when the backoff grown
 * during the outage would have had them wait past their connectTimeout.
 */
import assert from 'node:assert/strict';
import { setTimeout as outage } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { echo, ForwardHarness, forwardSpec, localPort, waitForState } from '../helpers/forward.js';

describe('recovery after an outage', () => {
  let cluster: SimCluster;
  let harness: ForwardHarness;
  before(async () => {
    cluster = await SimCluster.start();
    cluster.pod('default', 'rec', { ports: [{ name: 'echo', containerPort: 7000 }] });
    await cluster.waitFor(() => cluster.readyPods('default').length === 1, 10_000, 'pod ready');
    harness = new ForwardHarness(cluster.kubeconfigPath);
  });
  after(async () => {
    await harness.stop();
    await cluster.stop();
  });

  test('an 8 s API outage: a connection held near its end is served once the API server is back', async () => {
    // By the end of 8 s of failures the watches' backoff has reached ~8 s: waiting it out would
    // take the held connection past its 5 s connectTimeout.
    const s = await harness.start(forwardSpec('api-outage', { kind: 'pod', name: 'rec' }, [7000], { connectTimeoutMs: 5_000 }));
    await waitForState(s, 'ready');
    await cluster.stopApi();
    await waitForState(s, 'waiting');
    await outage(7_500); // the fault's length, not a synchronisation
    const held = echo(localPort(s), 'held through the outage');
    await outage(500);
    await cluster.startApi();
    assert.equal(await held, 'held through the outage');
    assert.equal(s.core.state, 'ready');
  });

  test('port-forward refused for 4.6 s: a connection held from the start is served once it is accepted again', async () => {
    // Retries of a dial back off 250 ms, 500 ms, 1 s, 2 s, 4 s under the old 30 s cap: the attempt after
    // the fault lifts would come after the 6 s connectTimeout.
    const s = await harness.start(forwardSpec('refused', { kind: 'pod', name: 'rec' }, [7000], { connectTimeoutMs: 6_000 }));
    await waitForState(s, 'ready');
    cluster.faults.refusePortForward = { code: 500, message: 'error dialing backend: kubelet unreachable' };
    try {
      const held = echo(localPort(s), 'held while refused');
      await outage(4_600);
      cluster.faults.refusePortForward = null;
      assert.equal(await held, 'held while refused');
    } finally {
      cluster.faults.refusePortForward = null;
    }
  });
});

/** @kubernetes/client-node against the simulator: it must work unchanged. */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';

describe('@kubernetes/client-node against the simulator', () => {
  let cluster: SimCluster;
  let kc: k8s.KubeConfig;
  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
  });
  after(() => cluster.stop());

  test('lists pods and services through the typed API', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
    assert.equal(pods.items.length, 2);
    assert.ok(pods.items.every((p) => p.status?.phase === 'Running'));
    const svc = await core.readNamespacedService({ namespace: 'default', name: 'web' });
    assert.equal(svc.spec?.ports?.[0]?.targetPort, 'http');
  });

  test('a watch sees a pod deletion', async () => {
    const victim = cluster.readyPods('default', 'app=web')[0]!.metadata.name;
    const watch = new k8s.Watch(kc);
    let abort: AbortController | undefined;
    const deleted = new Promise<string>((resolve, reject) => {
      void watch
        .watch('/api/v1/namespaces/default/pods', {}, (type, obj: k8s.V1Pod) => {
          if (type === 'DELETED') resolve(obj.metadata!.name!);
        }, (err) => err && reject(err))
        .then((a) => {
          abort = a;
          cluster.deletePod('default', victim);
        });
    });
    assert.equal(await deleted, victim);
    abort?.abort();
  });

  test('its PortForward class round-trips bytes to an echo backend', async () => {
    const forward = new k8s.PortForward(kc);
    const server: Server = createServer((socket) => void forward.portForward('default', 'db-0', [5432], socket, null, socket));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const echoed = await new Promise<string>((resolve, reject) => {
        const c = connect((server.address() as AddressInfo).port, '127.0.0.1', () => c.write('round trip'));
        let got = '';
        c.on('data', (d) => {
          got += d;
          if (got.length >= 10) (c.destroy(), resolve(got));
        });
        c.on('error', reject);
      });
      assert.equal(echoed, 'round trip');
    } finally {
      // client-node never ends the local socket when the stream closes: cut what is left.
      cluster.dropStreams();
      await new Promise((r) => server.close(r));
    }
  });
});

/** Forwards that cannot work say why, clearly, and keep retrying where retrying can help. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { echo, ForwardHarness, forwardSpec, httpGet, localPort, open, waitForState } from '../helpers/forward.js';

describe('forward errors', () => {
  let cluster: SimCluster;
  let harness: ForwardHarness;
  let dir: string;
  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
    harness = new ForwardHarness(cluster.kubeconfigPath);
    dir = mkdtempSync(join(tmpdir(), 'kport-forward-errors-'));
  });
  after(async () => {
    await harness.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an unknown pod: failed with TARGET_NOT_FOUND, connections refused at once; recovers when it appears', async () => {
    const s = await harness.start(forwardSpec('typo', { kind: 'pod', name: 'later' }, [7000]));
    await waitForState(s, 'failed');
    assert.deepEqual(s.core.status().lastError && { code: s.core.status().lastError!.code, message: s.core.status().lastError!.message }, {
      code: 'TARGET_NOT_FOUND',
      message: 'pod "later" not found in namespace "default"',
    });
    const conn = await open(localPort(s));
    await new Promise((r) => conn.once('close', r));
    cluster.pod('default', 'later', { ports: [{ containerPort: 7000 }] });
    await waitForState(s, 'ready');
    assert.equal(await echo(localPort(s), 'found'), 'found');
  });

  test('an unknown namespace is named as such', async () => {
    const s = await harness.start(forwardSpec('no-ns', { kind: 'deployment', name: 'web' }, [80], { namespace: 'nowhere' }));
    await waitForState(s, 'failed');
    assert.equal(s.core.status().lastError?.code, 'NAMESPACE_NOT_FOUND');
    assert.equal(s.core.status().reason, 'namespace "nowhere" not found');
  });

  test('an unknown port name or service port: failed with PORT_NOT_FOUND before any connection, as kubectl refuses it', async () => {
    const s = await harness.start(forwardSpec('bad-port', { kind: 'deployment', name: 'web' }, ['grpc']));
    await waitForState(s, 'failed');
    assert.equal(s.core.status().lastError?.code, 'PORT_NOT_FOUND');
    assert.match(s.core.status().lastError!.message, /^pod web-\S+ has no container port named "grpc"$/);
    assert.equal(s.core.status().counters.connectionsTotal, 0);
    // One good mapping does not make up for a bad one (kportctl add w svc/web 18081:80 18082:81).
    const svc = await harness.start(forwardSpec('bad-svc-port', { kind: 'service', name: 'web' }, [80, 81]));
    await waitForState(svc, 'failed');
    assert.equal(svc.core.status().lastError?.message, 'service/web has no port 81 (its ports: 80/http)');
  });

  test('a port nothing listens on in the pod: the kubelet\'s error-channel text is the last error', async () => {
    const s = await harness.start(forwardSpec('refused', { kind: 'statefulset', name: 'db' }, [6543]));
    await waitForState(s, 'ready');
    const conn = await open(localPort(s));
    await new Promise((r) => conn.once('close', r));
    assert.equal(s.core.status().lastError?.code, 'STREAM_ERROR');
    assert.match(s.core.status().lastError!.message, /^error forwarding port 6543 to pod db-0, uid .*connection refused/);
  });

  test('forbidden (403): a user who may read pods but not port-forward is failed before any connection', async () => {
    const s = await harness.start(forwardSpec('viewer', { kind: 'statefulset', name: 'db' }, [5432], { context: 'sim-viewer' }), { slowRetryMs: 60_000 });
    await waitForState(s, 'failed');
    assert.equal(s.core.status().lastError?.code, 'FORBIDDEN');
    assert.match(s.core.status().reason, /^forbidden: the user of context "sim-viewer" may not (create or get|create|get) pods\/portforward in namespace "default" \(SelfSubjectAccessReview/);
    assert.equal(s.core.status().counters.connectionsTotal, 0);
  });

  test('a cluster that refuses SelfSubjectAccessReviews: the first stream\'s 403 decides, as before', async () => {
    cluster.faults.refuseAccessReviews = true;
    try {
      const s = await harness.start(forwardSpec('viewer-no-review', { kind: 'statefulset', name: 'db' }, [5432], { context: 'sim-viewer' }), { slowRetryMs: 60_000 });
      await waitForState(s, 'ready');
      const conn = await open(localPort(s));
      await new Promise((r) => conn.once('close', r));
      await waitForState(s, 'failed');
      assert.equal(s.core.status().lastError?.code, 'FORBIDDEN');
      assert.match(s.core.status().reason, /^forbidden \(403\): pods "db-0" is forbidden: User "sim-viewer" cannot (get|create) resource "pods\/portforward"/);
    } finally {
      cluster.faults.refuseAccessReviews = false;
    }
  });

  test('unauthorized (401): reported as rejected credentials, not as an outage; a fixed kubeconfig is picked up', async () => {
    const kubeconfig = join(dir, 'bad-token.kubeconfig');
    writeFileSync(kubeconfig, cluster.kubeconfig({ token: 'expired-token' }));
    const other = new ForwardHarness(kubeconfig);
    try {
      const s = await other.start(forwardSpec('expired', { kind: 'statefulset', name: 'db' }, [5432]));
      await waitForState(s, 'failed');
      assert.equal(s.core.status().lastError?.code, 'UNAUTHORIZED');
      assert.match(s.core.status().reason, /rejected the credentials \(401 Unauthorized\)/);
      // Fresh credentials written to the kubeconfig (as a login tool does) are picked up without a restart.
      writeFileSync(kubeconfig, cluster.kubeconfig());
      await waitForState(s, 'ready');
      assert.equal(await echo(localPort(s), 'logged in again'), 'logged in again');
    } finally {
      await other.stop();
    }
  });

  test('an unknown context fails the session with the contexts there are', async () => {
    const s = await harness.start(forwardSpec('ctx', { kind: 'statefulset', name: 'db' }, [5432], { context: 'prod' }), { slowRetryMs: 60_000 });
    await waitForState(s, 'failed');
    assert.equal(s.core.status().lastError?.code, 'CONTEXT_NOT_FOUND');
    assert.equal(s.core.status().reason, 'context "prod" is not in the kubeconfig (contexts: sim, sim-viewer, sim-cert)');
  });

  test('a local port in use: failed with a clear message, the others unaffected, bound once it frees up', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as AddressInfo).port;
    const spec = forwardSpec('clash', { kind: 'statefulset', name: 'db' }, [5432]);
    spec.ports[0]!.local = taken;
    const s = await harness.start(spec, { slowRetryMs: 50 });
    const neighbour = await harness.start(forwardSpec('neighbour', { kind: 'statefulset', name: 'db' }, [5432]));
    await waitForState(s, 'failed');
    assert.equal(s.core.status().reason, `address 127.0.0.1:${taken} is in use by another process`);
    assert.equal(s.core.status().lastError?.code, 'PORT_IN_USE');
    await waitForState(neighbour, 'ready');
    assert.equal(await echo(localPort(neighbour), 'fine'), 'fine');
    await new Promise((r) => squatter.close(r));
    await waitForState(s, 'ready');
    assert.equal(localPort(s), taken);
    assert.equal(await echo(taken, 'mine now'), 'mine now');
  });

  test('a service without a selector resolves through its EndpointSlices', async () => {
    cluster.pod('default', 'backend', { labels: { role: 'backend' }, ports: [{ name: 'http', containerPort: 8080 }] });
    await cluster.waitFor(() => cluster.readyPods('default', 'role=backend').length === 1, 5_000, 'backend ready');
    cluster.service('default', 'manual', { ports: [{ port: 80, targetPort: 8080 }] });
    const s = await harness.start(forwardSpec('manual', { kind: 'service', name: 'manual' }, [80], { connectTimeoutMs: 10_000 }));
    await waitForState(s, 'waiting');
    cluster.create('endpointslices', { metadata: { name: 'manual-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'manual' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.9.9'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'default', name: 'backend' } }], ports: [{ port: 8080 }] }, 'discovery.k8s.io');
    await waitForState(s, 'ready');
    assert.equal(await httpGet(localPort(s)), 'backend\n');
  });
});

describe('forwards on a Kubernetes 1.20 API server', () => {
  test('a service without a selector resolves through Endpoints (no discovery.k8s.io/v1 there)', async () => {
    const cluster = await SimCluster.start({ legacy: true });
    const harness = new ForwardHarness(cluster.kubeconfigPath);
    try {
      cluster.pod('default', 'old', { ports: [{ name: 'http', containerPort: 8080 }] });
      cluster.service('default', 'legacy', { ports: [{ port: 80, targetPort: 8080 }] });
      cluster.create('endpoints', { metadata: { name: 'legacy', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.9.8', targetRef: { kind: 'Pod', namespace: 'default', name: 'old' } }], ports: [{ port: 8080 }] }] });
      const s = await harness.start(forwardSpec('legacy', { kind: 'service', name: 'legacy' }, [80]));
      await waitForState(s, 'ready');
      assert.equal(await httpGet(localPort(s)), 'old\n');
    } finally {
      await harness.stop();
      await cluster.stop();
    }
  });
});

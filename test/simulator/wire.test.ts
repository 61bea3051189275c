/** The simulated API server on the wire: auth, discovery, lists, watches, streams and faults. */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { api, streamLines } from '../helpers/http.js';
import { openPortForward, opened } from '../helpers/portforward.js';

const json = (text: string) => JSON.parse(text) as Record<string, any>;

describe('simulated API server', () => {
  let cluster: SimCluster;
  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    cluster.pod('default', 'multi', {
      labels: { app: 'multi' },
      ports: [{ containerPort: 7000 }, { name: 'http', containerPort: 8080 }, { containerPort: 9000 }],
      annotations: { 'sim.kport.dev/backends': '9000=refuse' },
    });
    await cluster.waitFor(() => cluster.readyPods('default').length === 4, 10_000, 'demo pods ready');
  });
  after(() => cluster.stop());

  test('answers 401 with a Status body without a token or with a wrong one', async () => {
    for (const token of [null, 'not-the-token']) {
      const res = await api(cluster, '/api/v1/pods', { token });
      assert.equal(res.status, 401);
      assert.deepEqual(json(res.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
  });

  test('accepts a client certificate signed by its CA', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request(`${cluster.url}/api/v1/namespaces`, { ca: cluster.pki.caCert, cert: cluster.pki.clientCert, key: cluster.pki.clientKey, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(status, 200);
  });

  test('serves discovery: version, groups and resource lists with subresources', async () => {
    assert.match(json((await api(cluster, '/version')).body).gitVersion, /^v1\.31/);
    assert.deepEqual(json((await api(cluster, '/api')).body).versions, ['v1']);
    const groups = json((await api(cluster, '/apis')).body).groups.map((g: { name: string }) => g.name);
    assert.deepEqual(groups, ['apps', 'discovery.k8s.io', 'authorization.k8s.io']);
    const core = json((await api(cluster, '/api/v1')).body).resources.map((r: { name: string }) => r.name);
    for (const r of ['namespaces', 'pods', 'pods/portforward', 'pods/proxy', 'services', 'services/proxy', 'endpoints']) assert.ok(core.includes(r), r);
    const apps = json((await api(cluster, '/apis/apps/v1')).body).resources.map((r: { name: string }) => r.name);
    assert.deepEqual(apps, ['deployments', 'replicasets', 'statefulsets']);
    assert.equal((await api(cluster, '/apis/nope/v1')).status, 404);
  });

  test('lists with a label selector, and 404s a missing object by name', async () => {
    const list = json((await api(cluster, '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).body);
    assert.equal(list.kind, 'PodList');
    assert.equal(list.items.length, 2);
    assert.ok(Number(list.metadata.resourceVersion) > 0);
    const none = json((await api(cluster, '/api/v1/namespaces/default/pods?labelSelector=app+in+(nope)')).body);
    assert.equal(none.items.length, 0);
    const missing = await api(cluster, '/api/v1/namespaces/default/pods/nope');
    assert.equal(missing.status, 404);
    assert.equal(json(missing.body).message, 'pods "nope" not found');
  });

  test('creates with POST and refuses a duplicate with 409', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'posted' }, spec: { selector: { app: 'web' }, ports: [{ port: 81 }] } });
    const created = await api(cluster, '/api/v1/namespaces/default/services', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(created.status, 201);
    assert.match(json(created.body).spec.clusterIP, /^10\.96\./);
    const again = await api(cluster, '/api/v1/namespaces/default/services', { method: 'POST', body });
    assert.equal(again.status, 409);
    assert.equal((await api(cluster, '/api/v1/namespaces/default/services/posted', { method: 'DELETE' })).status, 200);
  });

  test('watch from a resourceVersion sees a pod deletion and its replacement', async () => {
    const rv = json((await api(cluster, '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).body).metadata.resourceVersion;
    const watch = await streamLines(cluster, `/api/v1/namespaces/default/pods?watch=1&labelSelector=app%3Dweb&resourceVersion=${rv}`);
    try {
      assert.equal(watch.status, 200);
      const victim = cluster.readyPods('default', 'app=web')[0]!.metadata.name;
      cluster.deletePod('default', victim);
      const seen: string[] = [];
      while (!seen.some((s) => s.startsWith('ADDED ')) || !seen.includes(`DELETED ${victim}`)) {
        const e = json(await watch.next());
        seen.push(`${e.type} ${e.object.metadata.name}`);
      }
      assert.ok(seen.includes(`MODIFIED ${victim}`), `terminating first: ${seen.join(', ')}`);
    } finally {
      watch.close();
    }
  });

  test('watch from a compacted resourceVersion answers 410 Gone', async () => {
    const rv = json((await api(cluster, '/api/v1/namespaces/default/pods')).body).metadata.resourceVersion;
    cluster.setPodReady('default', 'multi', false);
    cluster.expireWatches();
    const watch = await streamLines(cluster, `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${Number(rv) - 1}`);
    const event = json(await watch.next());
    assert.equal(event.type, 'ERROR');
    assert.equal(event.object.code, 410);
    assert.equal(event.object.reason, 'Expired');
    await watch.ended;
    cluster.setPodReady('default', 'multi', true);
  });

  test('port-forward carries two ports in one request, each with its own channels', async () => {
    const pf = opened(await openPortForward(cluster, 'default', 'multi', [7000, 8080]));
    pf.send(0, 'ping');
    pf.send(1, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await pf.until(() => pf.data[0]!.toString() === 'ping', 'echo');
    await pf.until(() => pf.data[1]!.toString().includes('\r\n\r\nmulti\n'), 'HTTP answer');
    assert.match(pf.data[1]!.toString(), /^HTTP\/1\.1 200 OK/);
    assert.deepEqual(pf.errors, ['', '']);
    pf.ws.close();
  });

  test('port-forward writes the error channel for an undeclared port and for a refused backend', async () => {
    for (const port of [7777, 9000]) {
      const pf = opened(await openPortForward(cluster, 'default', 'multi', [port]));
      await pf.until(() => pf.errors[0] !== '', 'error channel text');
      assert.match(pf.errors[0]!, new RegExp(`^error forwarding port ${port} to pod multi, uid .*connection refused`));
      assert.equal(await pf.closed, 1000);
    }
  });

  test('deleting a pod closes its port-forward streams', async () => {
    const pod = cluster.pod('default', 'doomed', { ports: [{ containerPort: 7000 }] });
    await cluster.waitFor(() => cluster.readyPods('default').some((p) => p.metadata.uid === pod.metadata.uid));
    const pf = opened(await openPortForward(cluster, 'default', 'doomed', [7000]));
    pf.send(0, 'x');
    await pf.until(() => pf.data[0]!.length === 1, 'echo');
    cluster.deletePod('default', 'doomed');
    await pf.closed;
  });

  test('port-forward failures come as Status answers before the upgrade', async () => {
    const cases: [string, number[], string | null | undefined, number, RegExp][] = [
      ['nope', [80], undefined, 404, /pods "nope" not found/],
      ['multi', [80], null, 401, /Unauthorized/],
      ['multi', [70000], undefined, 400, /invalid port/],
    ];
    for (const [pod, ports, token, status, message] of cases) {
      const r = await openPortForward(cluster, 'default', pod, ports, { token });
      assert.ok('status' in r, `${pod} should fail`);
      assert.equal(r.status, status);
      assert.match(json(r.body).message, message);
    }
    const viewer = await openPortForward(cluster, 'default', 'multi', [7000], { token: cluster.tokens.viewer });
    assert.ok('status' in viewer);
    assert.equal(viewer.status, 403);
    assert.match(json(viewer.body).message, /User "sim-viewer" cannot get resource "pods\/portforward"/);
  });

  test('fault: refused port-forward upgrades', async () => {
    cluster.faults.refusePortForward = { code: 500, message: 'error dialing backend: kubelet unreachable' };
    try {
      const r = await openPortForward(cluster, 'default', 'multi', [7000]);
      assert.ok('status' in r);
      assert.equal(r.status, 500);
      assert.match(json(r.body).message, /kubelet unreachable/);
    } finally {
      cluster.faults.refusePortForward = null;
    }
  });

  test('fault: dropping streams cuts them without a close handshake', async () => {
    const pf = opened(await openPortForward(cluster, 'default', 'multi', [7000]));
    assert.equal(cluster.dropStreams(), 1);
    assert.equal(await pf.closed, 1006);
  });

  test('fault: latency holds every request for at least the given time', async () => {
    cluster.faults.latencyMs = 60;
    try {
      const start = performance.now();
      assert.equal((await api(cluster, '/api/v1/namespaces')).status, 200);
      assert.ok(performance.now() - start >= 59, 'the answer came before the injected latency');
    } finally {
      cluster.faults.latencyMs = 0;
    }
  });

  test('fault: an API server restart breaks watches and serves again on the same port', async () => {
    const port = cluster.port;
    const watch = await streamLines(cluster, '/api/v1/namespaces/default/pods?watch=1');
    await watch.next();
    await cluster.restartApi();
    await watch.ended;
    assert.equal(cluster.port, port);
    assert.equal((await api(cluster, '/api/v1/namespaces')).status, 200);
  });

  test('fault: watches can be made to expire early', async () => {
    cluster.faults.watchTimeoutMs = 50;
    try {
      const watch = await streamLines(cluster, '/api/v1/namespaces/default/services?watch=1');
      await watch.ended;
      assert.ok(watch.lines.length >= 2, 'the initial ADDED events came first');
    } finally {
      cluster.faults.watchTimeoutMs = null;
    }
  });

  test('services/NAME:PORT/proxy and pods/NAME:PORT/proxy reach the backing HTTP servers', async () => {
    const viaService = await api(cluster, '/api/v1/namespaces/default/services/web:80/proxy/some/path?x=1');
    assert.equal(viaService.status, 200);
    assert.match(viaService.body, /^web-.+\n$/);
    const named = await api(cluster, '/api/v1/namespaces/default/services/web:http/proxy/');
    assert.equal(named.status, 200);
    const viaPod = await api(cluster, '/api/v1/namespaces/default/pods/multi:8080/proxy/');
    assert.equal(viaPod.body, 'multi\n');
    const noEndpoints = await api(cluster, '/api/v1/namespaces/default/services/nope/proxy/');
    assert.equal(noEndpoints.status, 404);
  });
});

describe('simulated API server as Kubernetes 1.20', () => {
  test('serves no discovery.k8s.io/v1 but still keeps Endpoints', async () => {
    const cluster = await SimCluster.start({ legacy: true, world: 'demo' });
    try {
      assert.match(json((await api(cluster, '/version')).body).gitVersion, /^v1\.20/);
      assert.deepEqual(json((await api(cluster, '/apis')).body).groups.map((g: { name: string }) => g.name), ['apps', 'authorization.k8s.io']);
      assert.equal((await api(cluster, '/apis/discovery.k8s.io/v1/endpointslices')).status, 404);
      const readyAddresses = () => (cluster.get('endpoints', 'default', 'web')?.subsets as { addresses?: unknown[] }[] | undefined)?.[0]?.addresses?.length;
      await cluster.waitFor(() => readyAddresses() === 2, 10_000, 'endpoints with both web pods');
      const ep = json((await api(cluster, '/api/v1/namespaces/default/endpoints/web')).body);
      assert.equal(ep.subsets[0].addresses.length, 2);
      assert.equal(ep.subsets[0].ports[0].port, 8080);
    } finally {
      await cluster.stop();
    }
  });
});

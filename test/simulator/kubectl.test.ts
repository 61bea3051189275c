/** The real kubectl against the simulator (skipped, with the reason printed, where kubectl is absent). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { fetchText } from '../helpers/http.js';
import { findKubectl, kubectl, kubectlOrSkip } from '../helpers/kubectl.js';
import { startAndWait, stop } from '../helpers/process.js';

describe('kubectl against the simulator', kubectlOrSkip(), () => {
  let cluster: SimCluster;
  const run = (...args: string[]) => kubectl(cluster.kubeconfigPath, args);
  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
  });
  after(() => cluster?.stop());

  test('get pods -A prints a table of every pod', async () => {
    const r = await run('get', 'pods', '-A');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    assert.equal(lines.length, 4);
    assert.ok(lines.slice(1).every((l) => /^default\s+\S+\s+1\/1\s+Running\s+0\s+\S+$/.test(l)), r.stdout);
  });

  test('get svc and get endpoints', async () => {
    const svc = await run('get', 'svc');
    assert.equal(svc.code, 0, svc.stderr);
    assert.match(svc.stdout, /^web\s+ClusterIP\s+10\.96\.\S+\s+<none>\s+80\/TCP/m);
    const ep = await run('get', 'endpoints', 'web', '-o', 'jsonpath={.subsets[0].addresses[*].ip}');
    assert.equal(ep.code, 0, ep.stderr);
    assert.equal(ep.stdout.split(' ').length, 2);
  });

  test('delete pod: the replacement appears', async () => {
    const victim = cluster.readyPods('default', 'app=web')[0]!.metadata.name;
    const r = await run('delete', 'pod', victim);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`pod "${victim}" deleted`));
    await cluster.waitFor(() => cluster.readyPods('default', 'app=web').length === 2, 5_000, 'replacement ready');
    const after = await run('get', 'pods', '-l', 'app=web', '-o', 'name');
    assert.equal(after.stdout.trim().split('\n').length, 2);
    assert.ok(!after.stdout.includes(victim));
  });

  test('get --raw through the service proxy', async () => {
    const r = await run('get', '--raw', '/api/v1/namespaces/default/services/web:80/proxy/');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^web-\S+\n$/);
  });

  test('create -f and a wrong token', async () => {
    const r = await run('create', 'namespace', 'made-by-kubectl');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(cluster.get('namespaces', undefined, 'made-by-kubectl'));
    const viewer = await run('--context', 'sim-viewer', 'delete', 'namespace', 'made-by-kubectl');
    assert.notEqual(viewer.code, 0);
    assert.match(viewer.stderr, /forbidden: User "sim-viewer" cannot delete/);
  });

  test('kubectl proxy serves the API and the service proxy', async () => {
    const proxy = await startAndWait(findKubectl()!, ['--kubeconfig', cluster.kubeconfigPath, 'proxy', '--port=0'], /Starting to serve on 127\.0\.0\.1:(\d+)/);
    try {
      const base = `http://127.0.0.1:${proxy.match[1]}`;
      const pods = await fetchText(`${base}/api/v1/namespaces/default/pods`);
      assert.equal(pods.status, 200);
      assert.equal(JSON.parse(pods.body).items.length, 3);
      const web = await fetchText(`${base}/api/v1/namespaces/default/services/web/proxy/`);
      assert.match(web.body, /^web-/);
    } finally {
      await stop(proxy.child);
    }
  });
});

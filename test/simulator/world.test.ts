/** The simulated controllers and kubelet: replica counts, replacements, rollouts, endpoints. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { parseFieldSelector, parseLabelSelector } from '../cluster/selectors.js';
import type { KubeObject } from '../cluster/store.js';

const phase = (p: KubeObject | undefined) => (p?.status as { phase?: string } | undefined)?.phase;
const readyIps = (ep: KubeObject | undefined) =>
  ((ep?.subsets as { addresses?: { ip: string }[] }[] | undefined) ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.ip);

describe('simulated world', () => {
  let cluster: SimCluster;
  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
  });
  after(() => cluster.stop());

  test('a deleted deployment pod is replaced: Pending → Running → Ready, endpoints follow', async () => {
    const [victim] = cluster.readyPods('default', 'app=web');
    const phases = new Set<string>();
    const unsubscribe = cluster.store.subscribe((e) => {
      if (e.resource.plural === 'pods' && e.object.metadata.name !== victim!.metadata.name && e.object.metadata.labels?.app === 'web') {
        phases.add(`${phase(e.object)}${cluster.readyPods('default').some((p) => p.metadata.uid === e.object.metadata.uid) ? '+ready' : ''}`);
      }
    });
    cluster.deletePod('default', victim!.metadata.name);
    await cluster.waitFor(() => !cluster.get('pods', 'default', victim!.metadata.name), 5_000, 'victim gone');
    await cluster.waitFor(() => cluster.readyPods('default', 'app=web').length === 2, 5_000, 'replacement ready');
    await cluster.waitFor(() => readyIps(cluster.get('endpoints', 'default', 'web')).length === 2, 5_000, 'endpoints');
    unsubscribe();
    assert.deepEqual([...phases], ['Pending', 'Running', 'Running+ready']);
    const ips = cluster.readyPods('default', 'app=web').map((p) => (p.status as { podIP: string }).podIP).sort();
    assert.deepEqual(readyIps(cluster.get('endpoints', 'default', 'web')).sort(), ips);
  });

  test('a statefulset pod comes back under the same name with a new uid', async () => {
    const before = cluster.get('pods', 'default', 'db-0')!;
    cluster.deletePod('default', 'db-0');
    await cluster.waitFor(() => cluster.readyPods('default', 'app=db')[0]?.metadata.uid !== undefined && cluster.readyPods('default', 'app=db')[0]!.metadata.uid !== before.metadata.uid, 5_000, 'db-0 back');
    assert.equal(cluster.readyPods('default', 'app=db')[0]!.metadata.name, 'db-0');
  });

  test('readiness flips drive endpoints: an unready pod moves to notReadyAddresses', async () => {
    const [pod] = cluster.readyPods('default', 'app=web');
    const ip = (pod!.status as { podIP: string }).podIP;
    assert.ok(cluster.setPodReady('default', pod!.metadata.name, false));
    await cluster.waitFor(() => !readyIps(cluster.get('endpoints', 'default', 'web')).includes(ip), 5_000, 'address removed');
    const subsets = cluster.get('endpoints', 'default', 'web')!.subsets as { notReadyAddresses?: { ip: string }[] }[];
    assert.deepEqual(subsets[0]!.notReadyAddresses?.map((a) => a.ip), [ip]);
    cluster.setPodReady('default', pod!.metadata.name, true);
    await cluster.waitFor(() => readyIps(cluster.get('endpoints', 'default', 'web')).includes(ip), 5_000, 'address back');
  });

  test('a rollout replaces every pod of a deployment with a new replicaset', async () => {
    const old = new Set(cluster.pods('default', 'app=web').map((p) => p.metadata.name));
    cluster.rollout('default', 'web');
    await cluster.waitFor(() => {
      const ready = cluster.readyPods('default', 'app=web');
      return ready.length === 2 && ready.every((p) => !old.has(p.metadata.name)) && cluster.pods('default', 'app=web').length === 2;
    }, 10_000, 'rollout done');
    const hashes = new Set(cluster.pods('default', 'app=web').map((p) => p.metadata.labels?.['pod-template-hash']));
    assert.equal(hashes.size, 1);
  });

  test('scaling and cascading deletion', async () => {
    cluster.deployment('default', 'tmp', { replicas: 1, labels: { app: 'tmp' }, ports: [{ containerPort: 7000 }] });
    await cluster.waitFor(() => cluster.readyPods('default', 'app=tmp').length === 1, 5_000, 'tmp up');
    cluster.scale('deployments', 'default', 'tmp', 3);
    await cluster.waitFor(() => cluster.readyPods('default', 'app=tmp').length === 3, 5_000, 'scaled to 3');
    cluster.delete('deployments', 'default', 'tmp', 'apps');
    await cluster.waitFor(() => cluster.pods('default', 'app=tmp').length === 0, 5_000, 'pods collected');
  });
});

describe('selectors', () => {
  test('label selector syntax', () => {
    const cases: [string, Record<string, string>, boolean][] = [
      ['app=web', { app: 'web' }, true],
      ['app==web', { app: 'db' }, false],
      ['app!=web', {}, true],
      ['env in (a, b),app', { env: 'b', app: 'x' }, true],
      ['env notin (a,b)', { env: 'a' }, false],
      ['!legacy', { legacy: '1' }, false],
      ['', { any: 'thing' }, true],
    ];
    for (const [sel, labels, want] of cases) assert.equal(parseLabelSelector(sel)(labels), want, sel);
    assert.throws(() => parseLabelSelector('a in b'), /unable to parse requirement/);
  });

  test('field selector on dotted paths', () => {
    const pod = { metadata: { name: 'x', namespace: 'default' }, status: { phase: 'Running' } };
    assert.equal(parseFieldSelector('metadata.name=x,status.phase!=Pending')(pod), true);
    assert.equal(parseFieldSelector('metadata.name=y')(pod), false);
  });
});

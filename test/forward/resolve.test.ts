/** Target resolution and balancing, as kubectl resolves targets, over a fake cache. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Target } from '../../config/types.js';
import { balancerFor } from '../../daemon/forward/balancer.js';
import type { Pod, Service } from '../../daemon/kube/objects.js';
import { candidates, remotePort, selectorMatches, type TargetView } from '../../daemon/kube/resolve.js';

function pod(name: string, o: { labels?: Record<string, string>; ready?: boolean; phase?: string; deleting?: boolean; readySince?: string; ports?: { name?: string; containerPort: number }[] } = {}): Pod {
  return {
    metadata: { name, labels: o.labels ?? { app: 'web' }, creationTimestamp: '2026-01-01T00:00:00Z', deletionTimestamp: o.deleting ? '2026-01-02T00:00:00Z' : undefined },
    spec: { containers: [{ name: 'c', ports: o.ports ?? [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readySince ?? '2026-01-01T00:00:10Z' }] },
  };
}

function view(pods: Pod[], services: Service[] = [], endpoints: Record<string, string[]> = {}): TargetView {
  return {
    namespace: 'default',
    pods,
    service: (n) => services.find((s) => s.metadata.name === n),
    endpointPods: (n) => (endpoints[n] ? { ready: endpoints[n]! } : undefined),
  };
}

const web: Service = { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { port: 81, targetPort: 9090 }] } };
const names = (c: ReturnType<typeof candidates>) => (c.ok ? c.pods.map((p) => p.metadata.name) : c.error.message);

test('a pod target is the pod itself, and only while it is ready', () => {
  const v = view([pod('a'), pod('b', { ready: false }), pod('c', { deleting: true })]);
  assert.deepEqual(names(candidates({ kind: 'pod', name: 'a' }, v, null)), ['a']);
  assert.equal(names(candidates({ kind: 'pod', name: 'b' }, v, null)), 'no ready pod for pod/b: the pod is not ready (Running)');
  assert.equal(names(candidates({ kind: 'pod', name: 'c' }, v, null)), 'no ready pod for pod/c: the pod is not ready (Terminating)');
  const gone = candidates({ kind: 'pod', name: 'zzz' }, v, null);
  assert.ok(!gone.ok && gone.missing && gone.error.code === 'TARGET_NOT_FOUND');
  assert.equal(names(gone), 'pod "zzz" not found in namespace "default"');
});

test('a service resolves to the ready pods its selector matches, sorted by name', () => {
  const v = view([pod('c'), pod('a'), pod('x', { labels: { app: 'other' } }), pod('b', { phase: 'Pending', ready: false })], [web]);
  assert.deepEqual(names(candidates({ kind: 'service', name: 'web' }, v, null)), ['a', 'c']);
  const missing = candidates({ kind: 'service', name: 'nope' }, v, null);
  assert.ok(!missing.ok && missing.missing);
});

test('a service without a selector resolves through its endpoints\' pods', () => {
  const headless: Service = { metadata: { name: 'ext' }, spec: { ports: [{ port: 5432 }] } };
  const v = view([pod('db-0'), pod('db-1')], [headless], { ext: ['db-1'] });
  assert.deepEqual(names(candidates({ kind: 'service', name: 'ext' }, v, null)), ['db-1']);
  assert.match(names(candidates({ kind: 'service', name: 'ext' }, view([pod('db-0')], [headless]), null)) as string, /waiting for its endpoints/);
});

test('workloads use their selector (matchLabels and matchExpressions); selectors use labels', () => {
  const pods = [pod('a', { labels: { app: 'web', tier: 'front' } }), pod('b', { labels: { app: 'web', tier: 'back' } })];
  const t: Target = { kind: 'deployment', name: 'web' };
  assert.match(names(candidates(t, view(pods), null)) as string, /looking up the deployment/);
  assert.deepEqual(names(candidates(t, view(pods), { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] })), ['b']);
  assert.deepEqual(names(candidates({ kind: 'selector', labels: { tier: 'front' } }, view(pods), null)), ['a']);
  assert.equal(selectorMatches({}, { app: 'web' }), false, 'an empty selector selects nothing');
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, {}), true);
});

test('ports: a service port maps to its targetPort, and a name to the pod\'s container port', () => {
  const p = pod('a', { ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9100 }] });
  const v = view([p], [web]);
  const svc: Target = { kind: 'service', name: 'web' };
  assert.equal(remotePort(svc, 80, p, v), 8080);
  assert.equal(remotePort(svc, 'http', p, v), 8080);
  assert.equal(remotePort(svc, 81, p, v), 9090);
  const noPort = remotePort(svc, 82, p, v);
  assert.ok(noPort instanceof Error && noPort.code === 'PORT_NOT_FOUND');
  assert.equal(noPort.message, 'service/web has no port 82 (its ports: 80/http, 81)');
  assert.equal(remotePort({ kind: 'pod', name: 'a' }, 'metrics', p, v), 9100);
  assert.equal(remotePort({ kind: 'pod', name: 'a' }, 7000, p, v), 7000);
  const unnamed = remotePort({ kind: 'pod', name: 'a' }, 'grpc', p, v);
  assert.ok(unnamed instanceof Error);
  assert.equal(unnamed.message, 'pod a has no container port named "grpc"');
});

test('round-robin cycles through every ready pod; first keeps kubectl\'s pick while it stays ready', () => {
  const pods = [pod('a', { readySince: '2026-01-01T00:00:30Z' }), pod('b', { readySince: '2026-01-01T00:00:10Z' }), pod('c', { readySince: '2026-01-01T00:00:20Z' })];
  const rr = balancerFor('round-robin');
  assert.deepEqual(Array.from({ length: 6 }, () => rr.pick(pods).metadata.name), ['a', 'b', 'c', 'a', 'b', 'c']);
  const first = balancerFor('first');
  assert.equal(first.pick(pods).metadata.name, 'b', 'ready the longest');
  assert.equal(first.pick([pods[0]!, pods[1]!]).metadata.name, 'b', 'sticky');
  assert.equal(first.pick([pods[0]!, pods[2]!]).metadata.name, 'c', 'moves on once b is gone');
});

/** Cluster names as the gateway reads them, and how each resolves in its namespace's cache. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KportError } from '../../daemon/api/errors.js';
import type { Pod, Service } from '../../daemon/kube/objects.js';
import type { TargetView } from '../../daemon/kube/resolve.js';
import { parseDestination } from '../../daemon/gateway/names.js';
import { destinationLabel, resolveRoute, type Named } from '../../daemon/gateway/route.js';

const rules = { clusterDomain: 'cluster.local', namespace: 'default' };
const svc = (service: string, namespace = 'default') => ({ kind: 'service', service, namespace });

test('the service forms, the headless pod form and IP literals', () => {
  const cases: [string, unknown][] = [
    ['web.shop.svc.cluster.local', svc('web', 'shop')],
    ['web.shop.svc.cluster.local.', svc('web', 'shop')],
    ['WEB.Shop.SVC', svc('web', 'shop')],
    ['web.shop', svc('web', 'shop')],
    ['web', svc('web')],
    ['db-0.db.data.svc.cluster.local', { kind: 'hostname', hostname: 'db-0', service: 'db', namespace: 'data' }],
    ['db-0.db.data.svc', { kind: 'hostname', hostname: 'db-0', service: 'db', namespace: 'data' }],
    ['10.96.0.12', { kind: 'ip', ip: '10.96.0.12' }],
    ['FD00::A', { kind: 'ip', ip: 'fd00::a' }],
    ['[fd00::a]', { kind: 'ip', ip: 'fd00::a' }],
  ];
  for (const [host, want] of cases) assert.deepEqual(parseDestination(host, rules), want, host);
  assert.deepEqual(parseDestination('web.shop.svc.corp.example', { clusterDomain: 'corp.example', namespace: 'x' }), svc('web', 'shop'));
});

test('names that are not the cluster\'s are refused as TARGET_NOT_FOUND, saying which forms are', () => {
  const refused = (host: string) => {
    const r = parseDestination(host, rules);
    assert.ok(r instanceof KportError, host);
    assert.equal(r.code, 'TARGET_NOT_FOUND');
    return r.message.replace(/ \(the gateway resolves.*$/, '').replace(/; the gateway resolves.*$/, '');
  };
  assert.equal(refused('www.example.com'), '"www.example.com" is not a cluster name (it does not end in .svc or .svc.cluster.local');
  assert.equal(refused('web.shop.svc.other.domain'), '"web.shop.svc.other.domain" is not a cluster name (it does not end in .svc or .svc.cluster.local');
  assert.equal(refused('a.b.c.d.svc'), '"a.b.c.d.svc" is not a cluster name (4 names before .svc');
  assert.equal(refused('web.svc'), '"web.svc" is not a cluster name (1 names before .svc');
  assert.match(refused('9web.shop'), /"9web.shop" is not a cluster name \("9web" is not a valid service name/);
  assert.match(refused(`web.${'n'.repeat(64)}`), /is not a valid namespace: it has 64 characters/);
  assert.equal(refused(''), '"" is not a cluster name (a name has 1 to 253 characters');
});

const pod = (name: string, labels: Record<string, string>, o: { ready?: boolean; hostname?: string; subdomain?: string; ports?: { name: string; containerPort: number }[] } = {}): Pod => ({
  metadata: { name, labels },
  spec: { containers: [{ name: 'app', ports: o.ports ?? [] }], hostname: o.hostname, subdomain: o.subdomain },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

const services: Record<string, Service> = {
  web: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
  db: { metadata: { name: 'db' }, spec: { selector: { app: 'db' }, clusterIP: 'None', ports: [{ port: 5432, targetPort: 5432 }] } },
  cache: { metadata: { name: 'cache' }, spec: { selector: { app: 'cache' }, clusterIP: '10.96.0.11', ports: [{ port: 6379 }] } },
  ext: { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } },
};
const view: TargetView = {
  namespace: 'default',
  pods: [
    pod('web-b', { app: 'web' }, { ports: [{ name: 'http', containerPort: 8080 }] }),
    pod('web-a', { app: 'web' }, { ports: [{ name: 'http', containerPort: 8081 }] }),
    pod('db-0', { app: 'db' }, { hostname: 'db-0', subdomain: 'db' }),
    pod('db-1', { app: 'db' }, { hostname: 'db-1', subdomain: 'db', ready: false }),
    pod('cache-x', { app: 'cache' }, { hostname: 'cache-x', subdomain: 'cache' }),
  ],
  service: (name) => services[name],
  endpointPods: () => undefined,
};

test('a service routes to its ready pods by name, through the targetPort (named ones per pod)', () => {
  const r = resolveRoute({ kind: 'service', service: 'web', namespace: 'default' }, 80, view);
  assert.ok(r.ok);
  assert.deepEqual(r.route.pods.map((p) => p.metadata.name), ['web-a', 'web-b']);
  assert.deepEqual(r.route.pods.map((p) => r.route.podPort(p)), [8081, 8080]);
});

test('pods by hostname under a headless service, and by name (a pod IP), dial the port as asked', () => {
  const byHost = resolveRoute({ kind: 'hostname', hostname: 'db-0', service: 'db', namespace: 'default' }, 5432, view);
  assert.ok(byHost.ok);
  assert.deepEqual(byHost.route.pods.map((p) => [p.metadata.name, byHost.route.podPort(p)]), [['db-0', 5432]]);
  const byName = resolveRoute({ kind: 'pod', pod: 'web-a', namespace: 'default' }, 9999, view);
  assert.ok(byName.ok);
  assert.equal(byName.route.podPort(byName.route.pods[0]!), 9999);
});

test('why there is no route: absent, unready (waiting may help) or refused (it cannot)', () => {
  const why = (named: Named, port: number) => {
    const r = resolveRoute(named, port, view);
    return r.ok ? 'ok' : [r.why, r.error.code, r.error.message];
  };
  const ns = 'default';
  assert.deepEqual(why({ kind: 'service', service: 'nope', namespace: ns }, 80), ['absent', 'TARGET_NOT_FOUND', 'service "nope" not found in namespace "default"']);
  assert.deepEqual(why({ kind: 'service', service: 'web', namespace: ns }, 81), ['refused', 'PORT_NOT_FOUND', 'service/web has no port 81 (its ports: 80/http)']);
  assert.deepEqual(why({ kind: 'service', service: 'ext', namespace: ns }, 80), ['refused', 'TARGET_NOT_FOUND', 'service/ext is an ExternalName service (db.example.com): a host outside the cluster, which the gateway does not reach']);
  assert.deepEqual(why({ kind: 'hostname', hostname: 'db-1', service: 'db', namespace: ns }, 5432), ['unready', 'NO_READY_PODS', 'no ready pod for pod/db-1: the pod is not ready (Running)']);
  assert.deepEqual(why({ kind: 'hostname', hostname: 'db-7', service: 'db', namespace: ns }, 5432), ['absent', 'TARGET_NOT_FOUND', 'a pod with hostname "db-7" under service "db" not found in namespace "default"']);
  assert.deepEqual(why({ kind: 'hostname', hostname: 'cache-x', service: 'cache', namespace: ns }, 6379), [
    'refused',
    'TARGET_NOT_FOUND',
    'service/cache is not headless (clusterIP 10.96.0.11): only a headless service names its pods (cache-x.cache.default.svc)',
  ]);
  assert.deepEqual(why({ kind: 'pod', pod: 'gone', namespace: ns }, 80), ['absent', 'TARGET_NOT_FOUND', 'pod "gone" not found in namespace "default"']);
});

test('destinations are labelled by what they resolved to', () => {
  assert.equal(destinationLabel({ kind: 'service', service: 'web', namespace: 'shop' }, 80), 'svc/web.shop:80');
  assert.equal(destinationLabel({ kind: 'hostname', hostname: 'db-0', service: 'db', namespace: 'data' }, 5432), 'pod/db-0.db.data:5432');
  assert.equal(destinationLabel({ kind: 'pod', pod: 'web-a', namespace: 'shop' }, 8080), 'pod/web-a.shop:8080');
});

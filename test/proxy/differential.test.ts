/**
 * The same requests through `kubectl proxy` and through a kport proxy session, against one simulated
 * cluster: status codes, headers and bodies must match. kport's answers are asserted on their own too, so
 * the file still proves something where kubectl is absent (that half is skipped with the reason printed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { findKubectl, kubectlOrSkip } from '../helpers/kubectl.js';
import { startAndWait, stop, type Started } from '../helpers/process.js';
import { httpLines, send, startProxy, type Answer, type TestProxy } from './fixtures.js';

/** Which proxy on each side: kubectl's defaults, `rejectMethods: ^POST$`, or `apiPrefix: /k8s`. */
type Flavour = 'defaults' | 'noPost' | 'prefixed';

interface Case {
  name: string;
  flavour?: Flavour;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** The body; a function when each side must create a differently named object. */
  body?: string | ((side: string) => string);
  /** What kport must answer, kubectl or not. */
  status: number;
  match?: RegExp;
  /** Turns an answer body into its comparable form (only what must differ is removed). */
  normalise?: (body: string) => unknown;
}

const NAMESPACE = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

/** A created object differs only in its identity: name, uid, resourceVersion, creation time. */
function withoutIdentity(body: string): unknown {
  const o = JSON.parse(body) as { metadata: Record<string, unknown> };
  for (const k of ['name', 'uid', 'resourceVersion', 'creationTimestamp']) delete o.metadata[k];
  return o;
}

// Read-only cases first, so no write moves a resourceVersion between the two sides of a comparison.
const CASES: Case[] = [
  { name: 'allowed GET', path: '/api/v1/namespaces/default/pods/db-0', status: 200, match: /"name":"db-0"/ },
  { name: 'list with labelSelector', path: '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb', status: 200, match: /"kind":"PodList"/ },
  { name: 'service-proxy GET', path: '/api/v1/namespaces/default/services/one:80/proxy/', status: 200, match: /^one-\S+\n$/ },
  { name: '404 from the API server', path: '/api/v1/namespaces/default/pods/nope', status: 404, match: /pods \\"nope\\" not found/ },
  { name: 'an unclean path is redirected to its clean form', path: '/api/v1/../../version?x=1', status: 301, match: /^<a href="\/version\?x=1">Moved Permanently<\/a>\.\n\n$/ },
  { name: 'rejected exec path', path: '/api/v1/namespaces/default/pods/db-0/exec?command=ls', status: 403, match: /^Forbidden\n$/ },
  { name: 'bad Host header', path: '/version', headers: { host: 'evil.com' }, status: 403, match: /^Forbidden\n$/ },
  { name: 'IPv6 Host with a port (refused by the default rules, in kubectl too)', path: '/version', headers: { host: '[::1]:8001' }, status: 403, match: /^Forbidden\n$/ },
  { name: 'rejected method', flavour: 'noPost', method: 'POST', path: '/api/v1/namespaces', body: NAMESPACE('never-created'), status: 403, match: /^Forbidden\n$/ },
  { name: 'API prefix: stripped before relaying', flavour: 'prefixed', path: '/k8s/api/v1/namespaces/default/pods/db-0', status: 200, match: /"name":"db-0"/ },
  { name: 'API prefix: the prefix itself is redirected to its slash', flavour: 'prefixed', path: '/k8s', status: 301, match: /href="\/k8s\/"/ },
  { name: 'API prefix: a path outside it is 404', flavour: 'prefixed', path: '/api/v1/namespaces', status: 404, match: /^404 page not found\n$/ },
  { name: 'POST of the wrong kind (the body reaches the API server)', method: 'POST', path: '/api/v1/namespaces', body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }), status: 400, match: /kind Pod is not Namespace/ },
  { name: 'POST with a body', method: 'POST', path: '/api/v1/namespaces', body: (side) => NAMESPACE(`created-via-${side}`), status: 201, match: /"phase":"Active"/, normalise: withoutIdentity },
];

/** The parts of an answer that must be the same on both sides. */
function comparable(a: Answer, normalise?: (body: string) => unknown): object {
  const headers = { ...a.headers };
  for (const h of ['date', 'connection', 'keep-alive', 'transfer-encoding']) delete headers[h];
  if (!normalise) return { status: a.status, headers, body: a.body };
  delete headers['content-length']; // the identities differ in length
  return { status: a.status, headers, body: normalise(a.body) };
}

const watchPath = (name: string) => `/api/v1/namespaces?watch=1&fieldSelector=metadata.name%3D${name}`;

describe('kport proxy vs kubectl proxy', () => {
  let cluster: SimCluster;
  const kport: Partial<Record<Flavour, TestProxy>> = {};

  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    // A one-replica service, so that both sides reach the same pod through the service proxy.
    cluster.deployment('default', 'one', { replicas: 1, labels: { app: 'one' }, ports: [{ name: 'http', containerPort: 8080 }] });
    cluster.service('default', 'one', { selector: { app: 'one' }, ports: [{ port: 80, targetPort: 'http' }] });
    await cluster.waitFor(() => cluster.readyPods('default').length === 4, 10_000, 'pods ready');
    kport.defaults = await startProxy(cluster.kubeconfigPath);
    kport.noPost = await startProxy(cluster.kubeconfigPath, { name: 'no-post', rejectMethods: ['^POST$'] });
    kport.prefixed = await startProxy(cluster.kubeconfigPath, { name: 'prefixed', apiPrefix: '/k8s' });
  });
  after(async () => {
    await Promise.all(Object.values(kport).map((p) => p.stop()));
    await cluster?.stop();
  });

  const ask = (base: string, c: Case, side: string) =>
    send(base, c.path, { method: c.method, headers: { ...(c.body ? { 'content-type': 'application/json' } : {}), ...c.headers }, body: typeof c.body === 'function' ? c.body(side) : c.body });

  describe('kport answers', () => {
    for (const c of CASES) {
      test(c.name, async () => {
        const r = await ask(kport[c.flavour ?? 'defaults']!.url, c, 'kport-alone');
        assert.equal(r.status, c.status, r.body);
        if (c.match) assert.match(r.body, c.match);
        if (c.status === 403) assert.deepEqual([r.headers['content-type'], r.headers['x-content-type-options']], ['text/plain; charset=utf-8', 'nosniff']);
      });
    }

    test('a watch receives an event', async () => {
      const watch = await httpLines(kport.defaults!.url + watchPath('watched-alone'));
      assert.equal(watch.status, 200);
      cluster.namespace('watched-alone');
      const event = JSON.parse(await watch.next()) as { type: string; object: { metadata: { name: string } } };
      assert.deepEqual([event.type, event.object.metadata.name], ['ADDED', 'watched-alone']);
      watch.close();
    });
  });

  describe('the same answers as kubectl proxy', kubectlOrSkip(), () => {
    const kubectl: Partial<Record<Flavour, { started: Started; url: string }>> = {};
    let cache: string;

    before(async () => {
      cache = mkdtempSync(join(tmpdir(), 'kport-kubectl-cache-'));
      const start = async (extra: string[]) => {
        const args = ['proxy', '--port=0', `--kubeconfig=${cluster.kubeconfigPath}`, `--cache-dir=${cache}`, ...extra];
        const started = await startAndWait(findKubectl()!, args, /Starting to serve on 127\.0\.0\.1:(\d+)/);
        return { started, url: `http://127.0.0.1:${started.match[1]}` };
      };
      kubectl.defaults = await start([]);
      kubectl.noPost = await start(['--reject-methods=^POST$']);
      kubectl.prefixed = await start(['--api-prefix=/k8s']);
    });
    after(async () => {
      await Promise.all(Object.values(kubectl).map((k) => stop(k.started.child)));
      if (cache) rmSync(cache, { recursive: true, force: true });
    });

    for (const c of CASES) {
      test(c.name, async () => {
        const flavour = c.flavour ?? 'defaults';
        const theirs = await ask(kubectl[flavour]!.url, c, 'kubectl');
        const ours = await ask(kport[flavour]!.url, c, 'kport');
        assert.deepEqual(comparable(ours, c.normalise), comparable(theirs, c.normalise));
      });
    }

    test('a watch receives the same event', async () => {
      const theirs = await httpLines(kubectl.defaults!.url + watchPath('watched-by-both'));
      const ours = await httpLines(kport.defaults!.url + watchPath('watched-by-both'));
      assert.deepEqual([ours.status, ours.headers['content-type']], [theirs.status, theirs.headers['content-type']]);
      cluster.namespace('watched-by-both');
      const [a, b] = await Promise.all([ours.next(), theirs.next()]);
      assert.equal(a, b);
      assert.equal((JSON.parse(a) as { type: string }).type, 'ADDED');
      ours.close();
      theirs.close();
    });
  });
});

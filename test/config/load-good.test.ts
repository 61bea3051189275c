/** A corpus of good files, each loaded to the exact desired state expected. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfigFile, loadConfigText } from '../../config/load.js';
import type { DesiredState, ForwardSpec, LoadResult, ProxySpec } from '../../config/types.js';
import { forwardSpec, proxySpec as proxy } from '../helpers/specs.js';
import { sandbox, warningsOf, type Sandbox } from './fixtures.js';

let box: Sandbox;
before(async () => {
  box = await sandbox();
});
after(() => box.cleanup());

// Expected values come from test/helpers/specs.ts, which writes kport's defaults out (not from config/defaults.ts).
const forward = (name: string, fields: Partial<ForwardSpec>): ForwardSpec => forwardSpec(name, { namespace: 'team', ports: [], ...fields });

function stateOf(result: LoadResult): DesiredState {
  if (!result.ok) throw new Error(`load failed:\n${result.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`).join('\n')}`);
  return result.state;
}

const port = (spec: string, local: number, remote: number | string) => ({ local, remote, spec });

test('the smallest forward takes every default, and the kubeconfig current-context and its namespace', async () => {
  const yaml = 'forwards:\n  - name: web\n    target: svc/web\n    ports: ["8080:80"]\n';
  const result = await loadConfigText(yaml, 'k.yaml', box.env());
  assert.deepEqual(stateOf(result), {
    file: join(box.dir, 'k.yaml'),
    kubeconfig: [join(box.home, '.kube', 'config')],
    defaults: { context: null, namespace: null, addresses: ['127.0.0.1'], connectTimeoutMs: 30_000, transport: 'auto' },
    forwards: [forward('web', { ports: [port('8080:80', 8080, 80)] })],
    proxies: [],
    gateways: [],
    metrics: null,
  });
  assert.deepEqual(warningsOf(result), []);
});

test('empty files and empty sections load to an empty state', async () => {
  for (const yaml of ['', '# nothing yet\n', 'forwards:\nproxies:\ngateways:\ndefaults:\nmetrics:\n', 'forwards: []\nproxies: []\n']) {
    const state = stateOf(await loadConfigText(yaml, null, box.env()));
    assert.deepEqual(state, {
      file: null,
      kubeconfig: [join(box.home, '.kube', 'config')],
      defaults: { context: null, namespace: null, addresses: ['127.0.0.1'], connectTimeoutMs: 30_000, transport: 'auto' },
      forwards: [],
      proxies: [],
      gateways: [],
      metrics: null,
    }, JSON.stringify(yaml));
  }
});

test('every key of a forward, and how defaults, entries and the kubeconfig combine', async () => {
  const yaml = `
defaults:
  context: staging
  address: localhost           # both loopbacks, as kubectl
  connectTimeout: 2m
  transport: spdy
forwards:
  - name: web
    target: deploy/web
    ports: ["8080:80", "8443:https", "5432", 6379, ":80", "0:http"]
  - name: api
    context: dev
    namespace: backend
    selector: { app: api, "app.kubernetes.io/part-of": shop }
    ports: ["9000:8080"]
    address: 0.0.0.0
    balance: first
    connectTimeout: 1.5
    transport: websocket
    enabled: false
  - name: pod.one
    context: dev
    target: pod/web-0
    ports: [1]
    address: "0:0:0:0:0:0:0:1"
    connectTimeout: 1h30m
  - name: sts_db
    target: statefulsets/db
    ports: ["15432:5432"]
  - name: rs
    target: rs/web-5d4f
    ports: ["1:1"]
    address: [192.168.1.10, 127.0.0.2]
`;
  const result = await loadConfigText(yaml, 'k.yaml', box.env());
  assert.deepEqual(stateOf(result).forwards, [
    forward('web', {
      transport: 'spdy',
      context: 'staging',
      namespace: 'default', // staging has no namespace
      target: { kind: 'deployment', name: 'web' },
      ports: [
        port('8080:80', 8080, 80),
        port('8443:https', 8443, 'https'),
        port('5432', 5432, 5432),
        port('6379', 6379, 6379),
        port(':80', 0, 80),
        port('0:http', 0, 'http'),
      ],
      addresses: ['127.0.0.1', '::1'],
      connectTimeoutMs: 120_000,
    }),
    forward('api', {
      namespace: 'backend',
      target: { kind: 'selector', labels: { app: 'api', 'app.kubernetes.io/part-of': 'shop' } },
      ports: [port('9000:8080', 9000, 8080)],
      addresses: ['0.0.0.0'],
      exposed: true,
      balance: 'first',
      connectTimeoutMs: 1500,
      transport: 'websocket',
      enabled: false,
    }),
    forward('pod.one', {
      transport: 'spdy',
      target: { kind: 'pod', name: 'web-0' },
      ports: [port('1', 1, 1)],
      addresses: ['::1'],
      connectTimeoutMs: 5_400_000,
    }),
    forward('sts_db', {
      transport: 'spdy',
      context: 'staging',
      namespace: 'default',
      target: { kind: 'statefulset', name: 'db' },
      ports: [port('15432:5432', 15432, 5432)],
      addresses: ['127.0.0.1', '::1'],
      connectTimeoutMs: 120_000,
    }),
    forward('rs', {
      transport: 'spdy',
      context: 'staging',
      namespace: 'default',
      target: { kind: 'replicaset', name: 'web-5d4f' },
      ports: [port('1:1', 1, 1)],
      addresses: ['192.168.1.10', '127.0.0.2'],
      exposed: true,
      connectTimeoutMs: 120_000,
    }),
  ]);
  assert.deepEqual(stateOf(result).defaults, {
    context: 'staging',
    namespace: null,
    addresses: ['127.0.0.1', '::1'],
    connectTimeoutMs: 120_000,
    transport: 'spdy',
  });
  assert.deepEqual(warningsOf(result), [
    'k.yaml:16:14: warning: forwards[1].address: "0.0.0.0" exposes this forward beyond this machine',
    'k.yaml:33:14: warning: forwards[4].address: "192.168.1.10" exposes this forward beyond this machine',
  ]);
});

test('every key of a proxy', async () => {
  const yaml = `
defaults:
  namespace: ignored-by-proxies
proxies:
  - name: k8s
  - name: full
    context: staging
    port: 0
    address: ["::1"]
    apiPrefix: /k8s/
    acceptPaths: ["^/api", "^/apis"]
    rejectPaths: []
    acceptHosts: ['^example\\.test$']
    rejectMethods: ["^POST$", "^DELETE$"]
    disableFilter: true
    www: ./static
    wwwPrefix: /ui/
    enabled: false
  - name: sock
    unixSocket: \${XDG_RUNTIME_DIR}/kport/k8s.sock
  - name: home-sock
    unixSocket: ~/k8s.sock
`;
  const result = await loadConfigText(yaml, 'conf/k.yaml', box.env({ XDG_RUNTIME_DIR: '/run/user/1000' }));
  assert.deepEqual(stateOf(result).proxies, [
    proxy('k8s', {}),
    proxy('full', {
      context: 'staging',
      port: 0,
      addresses: ['::1'],
      apiPrefix: '/k8s/',
      acceptPaths: ['^/api', '^/apis'],
      rejectPaths: [],
      acceptHosts: ['^example\\.test$'],
      rejectMethods: ['^POST$', '^DELETE$'],
      disableFilter: true,
      www: join(box.dir, 'conf', 'static'),
      wwwPrefix: '/ui/',
      enabled: false,
    }),
    proxy('sock', { port: 0, addresses: [], unixSocket: '/run/user/1000/kport/k8s.sock' }),
    proxy('home-sock', { port: 0, addresses: [], unixSocket: join(box.home, 'k8s.sock') }),
  ]);
  assert.deepEqual(warningsOf(result), [
    'conf/k.yaml:15:20: warning: proxies[1].disableFilter: the request filter is off: any local process or web page can reach the API server with your credentials',
  ]);
});

test('kubeconfig: a list, expanded and relative to the file; merged as kubectl merges', async () => {
  await box.write('a.kubeconfig', 'contexts:\n- name: only-a\n  context: {namespace: ns-a}\n- name: dev\n  context: {namespace: from-a}\n');
  await box.write('b.kubeconfig', 'current-context: only-a\n');
  const file = await box.write(
    'kport.yaml',
    'kubeconfig: [a.kubeconfig, "${DIR}/b.kubeconfig", ~/.kube/config]\nforwards:\n  - {name: a, target: svc/a, ports: [1]}\n  - {name: b, context: dev, target: svc/b, ports: [2]}\n  - {name: c, context: staging, target: svc/c, ports: [3]}\n',
  );
  // cwd is elsewhere: relative paths follow the file, not the working directory.
  const state = stateOf(await loadConfigFile(file, { ...box.env({ DIR: box.dir }), cwd: '/' }));
  assert.deepEqual(state.kubeconfig, [join(box.dir, 'a.kubeconfig'), join(box.dir, 'b.kubeconfig'), join(box.home, '.kube', 'config')]);
  assert.deepEqual(
    state.forwards.map((f) => [f.name, f.context, f.namespace]),
    [
      ['a', 'only-a', 'ns-a'], // current-context from the first file that sets one
      ['b', 'dev', 'from-a'], // the first file defining dev wins
      ['c', 'staging', 'default'],
    ],
  );
  assert.equal(state.file, file);
});

test("a session's own kubeconfig: its contexts and current-context, relative to the file", async () => {
  await box.write('own.kubeconfig', 'current-context: mine\ncontexts:\n- name: mine\n  context: {namespace: ns-mine}\n');
  const yaml = 'forwards:\n  - {name: a, kubeconfig: own.kubeconfig, target: svc/a, ports: [1]}\n  - {name: b, target: svc/b, ports: [2]}\nproxies:\n  - {name: p, kubeconfig: [own.kubeconfig], context: mine, port: 0}\n';
  const state = stateOf(await loadConfigText(yaml, 'k.yaml', box.env()));
  const own = [join(box.dir, 'own.kubeconfig')];
  assert.deepEqual(state.forwards.map((f) => [f.name, f.kubeconfig, f.context, f.namespace]), [['a', own, 'mine', 'ns-mine'], ['b', null, 'dev', 'team']]);
  assert.deepEqual([state.proxies[0]!.kubeconfig, state.proxies[0]!.context], [own, 'mine']);
  const wrong = await loadConfigText('forwards:\n  - {name: a, kubeconfig: own.kubeconfig, context: dev, target: svc/a, ports: [1]}\n', 'k.yaml', box.env());
  assert.deepEqual(wrong.ok ? [] : wrong.errors.map((e) => `${e.line}:${e.col}: ${e.path}: ${e.message}`), ['2:52: forwards[0].context: context "dev" is not in the kubeconfig (contexts: mine)']);
});

test('$KUBECONFIG with several files, missing ones skipped', async () => {
  await box.write('env-a.kubeconfig', 'contexts:\n- name: env-a\n  context: {}\n');
  const list = [join(box.dir, 'missing'), join(box.dir, 'env-a.kubeconfig'), join(box.home, '.kube', 'config')].join(':');
  const yaml = 'forwards:\n  - {name: a, context: env-a, target: svc/a, ports: [1]}\n  - {name: b, target: svc/b, ports: [2]}\n';
  const state = stateOf(await loadConfigText(yaml, null, box.env({ KUBECONFIG: list })));
  assert.deepEqual(state.kubeconfig, list.split(':'));
  assert.deepEqual(state.forwards.map((f) => [f.context, f.namespace]), [['env-a', 'default'], ['dev', 'team']]);
});

test('without a readable kubeconfig, contexts are kept as written (or null) and not checked', async () => {
  const yaml = 'forwards:\n  - {name: a, target: svc/a, ports: [1]}\n  - {name: b, context: anything, target: svc/b, ports: [2]}\n';
  const result = await loadConfigText(yaml, 'k.yaml', { ...box.env(), home: join(box.dir, 'nohome') });
  assert.deepEqual(stateOf(result).forwards.map((f) => [f.context, f.namespace]), [[null, 'default'], ['anything', 'default']]);
  assert.deepEqual(warningsOf(result), [
    `warning: no kubeconfig found (looked for "${join(box.dir, 'nohome', '.kube', 'config')}"); contexts are not checked`,
  ]);
  const named = await loadConfigText('kubeconfig: nope.yaml\n', 'k.yaml', box.env());
  assert.deepEqual(warningsOf(named), [
    `k.yaml:1:13: warning: kubeconfig: no kubeconfig found (looked for "${join(box.dir, 'nope.yaml')}"); contexts are not checked`,
  ]);
});

test('anchors, aliases and merge keys', async () => {
  const shared = `
forwards:
  - &base
    name: web
    target: svc/web
    ports: &p ["8080:80"]
    namespace: shop
  - <<: *base
    name: web2
    ports: ["8081:80"]
  - name: web3
    target: svc/web
    ports: *p
    address: 127.0.0.3
`;
  const state = stateOf(await loadConfigText(shared, null, box.env()));
  assert.deepEqual(
    state.forwards.map((f) => [f.name, f.namespace, f.ports.map((p) => p.spec)]),
    [
      ['web', 'shop', ['8080:80']],
      ['web2', 'shop', ['8081:80']],
      ['web3', 'team', ['8080:80']],
    ],
  );
});

test('a session whose settings are equal loads to an equal spec, whatever the key order', async () => {
  const a = await loadConfigText('forwards:\n  - {name: w, target: svc/w, ports: [1], selector: null}\n', null, box.env());
  assert.equal(a.ok, false); // selector: null is a type error, not "unset"
  const one = stateOf(await loadConfigText('forwards:\n  - {name: w, selector: {a: "1", b: "2"}, ports: [1]}\n', null, box.env()));
  const two = stateOf(await loadConfigText('forwards:\n  - {ports: [1], selector: {b: "2", a: "1"}, name: w}\n', null, box.env()));
  assert.deepEqual(one, two);
});

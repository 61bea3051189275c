/** resolveEntry: one entry on its own, as `kportctl add` sends it, against a loaded state and existing sessions. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatIssue } from '../../config/issues.js';
import { loadConfigText, resolveEntry, restoreSpec } from '../../config/load.js';
import type { DesiredState } from '../../config/types.js';
import { sandbox, type Sandbox } from './fixtures.js';

let box: Sandbox;
let state: DesiredState;
before(async () => {
  box = await sandbox();
  const yaml = [
    'defaults:',
    '  context: staging',
    '  namespace: shop',
    '  connectTimeout: 5s',
    'forwards:',
    '  - {name: web, target: svc/web, ports: ["8080:80"]}',
    '  - {name: off, target: svc/web, ports: ["9090:80"], enabled: false}',
    'proxies:',
    '  - {name: k8s, address: "::"}',
    '',
  ].join('\n');
  const loaded = await loadConfigText(yaml, 'kport.yaml', box.env());
  assert.ok(loaded.ok);
  state = loaded.state;
});
after(() => box.cleanup());

const existing = () => [...state.forwards, ...state.proxies];

test('a good entry resolves with the file\'s defaults', async () => {
  const result = await resolveEntry('forward', { name: 'db', target: 'sts/db', ports: ['15432:5432'] }, { state, existing: existing() }, box.env());
  assert.deepEqual(result, {
    ok: true,
    spec: {
      kind: 'forward',
      name: 'db',
      context: 'staging',
      kubeconfig: null,
      namespace: 'shop',
      target: { kind: 'statefulset', name: 'db' },
      ports: [{ local: 15432, remote: 5432, spec: '15432:5432' }],
      addresses: ['127.0.0.1'],
      exposed: false,
      balance: 'round-robin',
      connectTimeoutMs: 5000,
      transport: 'auto',
      enabled: true,
    },
    warnings: [],
  });
});

test('without a state, the environment\'s kubeconfig and the built-in defaults apply', async () => {
  const result = await resolveEntry('proxy', { name: 'p', port: 0, unixSocket: undefined, www: 'ui' }, { state: null, existing: [] }, box.env());
  assert.ok(result.ok);
  assert.equal(result.spec.context, 'dev');
  assert.equal(result.spec.kind === 'proxy' && result.spec.www, join(box.dir, 'ui'));
});

test("an entry with its own kubeconfig (kportctl add's --kubeconfig or $KUBECONFIG) is checked against it, not the file's", async () => {
  const other = await box.write('other.kubeconfig', 'current-context: sim2\ncontexts:\n  - {name: sim2, context: {namespace: two}}\n  - {name: sim3, context: {}}\n');
  const own = await resolveEntry('forward', { name: 'w2', target: 'svc/web', ports: ['18081:80'], kubeconfig: [other] }, { state, existing: existing() }, box.env());
  assert.ok(own.ok, JSON.stringify(own));
  // Its kubeconfig's current-context and that context's namespace; defaults.context belongs to the file's kubeconfig.
  assert.deepEqual([own.spec.kubeconfig, own.spec.context, own.spec.kind === 'forward' && own.spec.namespace], [[other], 'sim2', 'shop']);
  const named = await resolveEntry('forward', { name: 'w3', target: 'svc/web', ports: ['18082:80'], kubeconfig: [other], context: 'sim3' }, { state, existing: existing() }, box.env());
  assert.equal(named.ok && named.spec.context, 'sim3');
  const wrong = await resolveEntry('forward', { name: 'w4', target: 'svc/web', ports: ['18083:80'], kubeconfig: [other], context: 'staging' }, { state, existing: existing() }, box.env());
  assert.deepEqual(wrong.ok ? [] : wrong.errors.map(formatIssue), ['context: context "staging" is not in the kubeconfig (contexts: sim2, sim3)']);
  const relative = await resolveEntry('forward', { name: 'w5', target: 'svc/web', ports: ['18084:80'], kubeconfig: 'other.kubeconfig' }, { state, existing: existing() }, box.env());
  assert.deepEqual(relative.ok && relative.spec.kubeconfig, [other]);
});

test('errors carry paths relative to the entry and no position', async () => {
  const result = await resolveEntry(
    'forward',
    { name: 'web', target: 'svc/web', ports: ['8081:80', '80:abc!'], balance: 'rr', extra: 1 },
    { state, existing: existing() },
    box.env(),
  );
  assert.deepEqual(result.ok ? [] : result.errors.map(formatIssue), [
    'ports[1]: "80:abc!" is not a port or port name',
    'balance: expected one of "round-robin", "first", got "rr"',
    'extra: unknown key "extra" (keys here: name, target, selector, ports, context, kubeconfig, namespace, address, balance, connectTimeout, transport, enabled)',
  ]);
});

test('names and binds are checked against the existing sessions', async () => {
  const result = await resolveEntry(
    'forward',
    { name: 'k8s', target: 'svc/web', ports: ['8080:80', '9090:80', '8001:80', '7000:70', '7000:71'], context: 'nope' },
    { state, existing: existing() },
    box.env(),
  );
  assert.deepEqual(result.ok ? [] : result.errors.map(formatIssue), [
    'context: context "nope" is not in the kubeconfig (contexts: dev, staging)',
    'name: "k8s" is already used by proxy "k8s"',
    'ports[0]: 127.0.0.1:8080 is already bound by forward "web"',
    // 9090 belongs to a disabled forward: no clash.
    'ports[2]: 127.0.0.1:8001 overlaps [::]:8001, bound by proxy "k8s"',
    'ports[4]: local port 7000 is already used by ports[3]',
  ]);
});

test('warnings come back with the spec', async () => {
  const result = await resolveEntry('proxy', { name: 'open', port: 0, address: '0.0.0.0', disableFilter: true }, { state, existing: existing() }, box.env());
  assert.ok(result.ok);
  assert.deepEqual(result.warnings.map(formatIssue), [
    'warning: address: "0.0.0.0" exposes this proxy beyond this machine',
    'warning: disableFilter: the request filter is off: any local process or web page can reach the API server with your credentials',
  ]);
});

test('an entry that is not an object', async () => {
  for (const entry of [null, 'web', [], 5]) {
    const result = await resolveEntry('forward', entry, { state, existing: [] }, box.env());
    assert.equal(result.ok, false, JSON.stringify(entry));
  }
});

test('paths with a literal $ (written $$) survive being stored and read back', async () => {
  const added = await resolveEntry('proxy', { name: 'p', unixSocket: '/tmp/a$$b.sock', www: '/srv/$$www', kubeconfig: ['/k/$$1'] }, { state: null, existing: [] }, box.env());
  assert.ok(added.ok, JSON.stringify(added));
  assert.deepEqual([added.spec.kind === 'proxy' && added.spec.unixSocket, added.spec.kind === 'proxy' && added.spec.www, added.spec.kubeconfig], ['/tmp/a$b.sock', '/srv/$www', ['/k/$1']]);
  const restored = restoreSpec(JSON.parse(JSON.stringify(added.spec)), box.env());
  assert.ok(restored.ok, JSON.stringify(restored));
  assert.deepEqual(restored.spec, added.spec);
});

/** The `gateways:` section: every default, the exposure warning, the namespace rules, and its place among sessions. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCheck } from '../../config/check.js';
import { loadConfigText, resolveEntry, restoreSpec } from '../../config/load.js';
import type { GatewaySpec, LoadResult } from '../../config/types.js';
import { gatewaySpec } from '../helpers/specs.js';
import { errorsOf, sandbox, warningsOf, type Sandbox } from './fixtures.js';

let box: Sandbox;
before(async () => {
  box = await sandbox();
});
after(() => box.cleanup());

const load = (yaml: string): Promise<LoadResult> => loadConfigText(yaml, 'k.yaml', box.env());

function gatewaysOf(result: LoadResult): GatewaySpec[] {
  assert.ok(result.ok, JSON.stringify(result));
  return result.state.gateways;
}

test('the smallest gateway takes every default: port 1080, loopback, the context and its namespace, cluster.local', async () => {
  const result = await load('gateways:\n  - name: cluster\n');
  assert.deepEqual(gatewaysOf(result), [gatewaySpec('cluster', { namespace: 'team' })]);
  assert.deepEqual(warningsOf(result), []);
});

test('every key as written', async () => {
  const yaml = [
    'gateways:',
    '  - name: stg',
    '    port: 0',
    '    address: ["::1"]',
    '    context: staging',
    '    namespace: shop',
    '    clusterDomain: corp.example',
    '    namespaces: [shop, data]',
    '    connectTimeout: 5s',
    '    transport: websocket',
    '    namespaceIdle: 90',
    '    enabled: false',
    '',
  ].join('\n');
  const over = { port: 0, addresses: ['::1'], context: 'staging', namespace: 'shop', clusterDomain: 'corp.example', namespaces: ['shop', 'data'] };
  assert.deepEqual(gatewaysOf(await load(yaml)), [gatewaySpec('stg', { ...over, connectTimeoutMs: 5_000, transport: 'websocket', namespaceIdleMs: 90_000, enabled: false })]);
});

test('defaults apply as to forwards; a non-loopback address loads with the exposure warning', async () => {
  const inherited = await load('defaults:\n  namespace: shop\n  connectTimeout: 2s\n  transport: spdy\ngateways:\n  - name: g\n');
  assert.deepEqual(gatewaysOf(inherited), [gatewaySpec('g', { namespace: 'shop', connectTimeoutMs: 2_000, transport: 'spdy' })]);
  const open = await load('gateways:\n  - name: g\n    address: 0.0.0.0\n');
  assert.equal(gatewaysOf(open)[0]!.exposed, true);
  assert.deepEqual(warningsOf(open), ['k.yaml:3:14: warning: gateways[0].address: "0.0.0.0" exposes this gateway beyond this machine']);
});

test('mistakes are placed in the file', async () => {
  const yaml = [
    'gateways:',
    '  - name: g',
    '    namespace: shop',
    '    namespaces: [data, data]',
    '    clusterDomain: "Cluster Local"',
    '    port: 70000',
    '    socks: true',
    '',
  ].join('\n');
  assert.deepEqual(errorsOf(await load(yaml)), [
    'k.yaml:4:24: gateways[0].namespaces[1]: "data" is already in this list (namespaces[0])',
    'k.yaml:5:20: gateways[0].clusterDomain: "Cluster Local" is not a valid cluster domain: use lowercase letters, digits, \'-\' and \'.\', each dot-separated part starting and ending with a letter or digit',
    'k.yaml:6:11: gateways[0].port: port 70000 is out of range (0–65535)',
    'k.yaml:7:5: gateways[0].socks: unknown key "socks" (keys here: name, port, address, context, kubeconfig, namespace, clusterDomain, namespaces, connectTimeout, transport, namespaceIdle, enabled)',
  ]);
});

test('the namespace of bare names must be one the gateway may reach', async () => {
  const result = await load('gateways:\n  - name: g\n    namespaces: [shop]\n');
  assert.deepEqual(errorsOf(result), [
    'k.yaml:3:17: gateways[0].namespaces: the gateway\'s namespace "team" is not in this list: bare names (`web`) resolve there and would always be refused',
  ]);
});

test('names are unique across forwards, proxies and gateways; ports clash as for any session', async () => {
  const yaml = [
    'forwards:',
    '  - {name: web, target: svc/web, ports: ["1080:80"]}',
    'proxies:',
    '  - {name: api}',
    'gateways:',
    '  - {name: web, port: 8001}',
    '',
  ].join('\n');
  assert.deepEqual(errorsOf(await load(yaml)), [
    'k.yaml:6:12: gateways[0].name: "web" is already used by forwards[0]',
    'k.yaml:6:23: gateways[0].port: 127.0.0.1:8001 is already bound by proxies[0].port',
  ]);
});

test('kportd check counts gateways', async () => {
  const file = await box.write('check.yaml', 'gateways:\n  - name: a\n  - name: b\n    port: 1081\n    enabled: false\n');
  const { code, text } = await runCheck(file, { HOME: box.home });
  assert.equal(code, 0, text);
  assert.equal(text, 'ok: 0 forwards, 0 proxies, 2 gateways (1 disabled)\n');
});

test('an entry added with kportctl, stored and read back, is the same gateway', async () => {
  const added = await resolveEntry('gateway', { name: 'g', port: 0, namespaces: ['team', 'x'], namespaceIdle: '1m' }, { state: null, existing: [] }, box.env());
  assert.ok(added.ok, JSON.stringify(added));
  assert.deepEqual(added.spec, gatewaySpec('g', { port: 0, namespace: 'team', namespaces: ['team', 'x'], namespaceIdleMs: 60_000 }));
  const stored: unknown = JSON.parse(JSON.stringify(added.spec));
  const restored = restoreSpec(stored, box.env());
  assert.ok(restored.ok, JSON.stringify(restored));
  assert.deepEqual(restored.spec, { ...added.spec, context: 'dev' });
});

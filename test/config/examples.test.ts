/** The shipped examples load, so they cannot rot. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../config/load.js';
import { KUBECONFIG, sandbox, warningsOf, type Sandbox } from './fixtures.js';

// Compiled to dist/test/config/: the package root is three folders up.
const examples = fileURLToPath(new URL('../../../config/examples/', import.meta.url));

let box: Sandbox;
before(async () => {
  box = await sandbox();
});
after(() => box.cleanup());

test('kport.example.yaml loads, uses every key, and declares the schema', async () => {
  const file = join(examples, 'kport.example.yaml');
  await box.write('home/.kube/staging.yaml', 'contexts: [{name: staging, context: {namespace: stg}}]\n');
  const result = await loadConfigFile(file, box.env({ HOME: box.home, XDG_RUNTIME_DIR: '/run/user/1000' }));
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(warningsOf(result), []);
  const { state } = result;
  assert.deepEqual(state.forwards.map((f) => [f.name, f.context, f.namespace, f.target.kind]), [
    ['web', 'dev', 'shop', 'service'],
    ['api', 'dev', 'backend', 'selector'],
    ['db', 'staging', 'shop', 'statefulset'],
  ]);
  assert.deepEqual(state.proxies.map((p) => [p.name, p.port, p.unixSocket]), [
    ['k8s', 8001, null],
    ['k8s-socket', 0, '/run/user/1000/kport-k8s.sock'],
  ]);
  assert.deepEqual(state.gateways.map((g) => [g.name, g.port, g.context, g.namespace, g.namespaces, g.namespaceIdleMs]), [
    ['cluster', 1080, 'dev', 'shop', ['shop', 'backend'], 300_000],
  ]);
  assert.deepEqual(state.metrics, { address: '127.0.0.1', port: 9464 });
  // Every key of the schema appears in the example.
  const text = await readFile(file, 'utf8');
  const schema = JSON.parse(await readFile(join(examples, '..', 'kport.schema.json'), 'utf8'));
  const keys = [
    ...Object.keys(schema.properties),
    ...Object.keys(schema.properties.defaults.anyOf[0].properties),
    ...Object.keys(schema.properties.forwards.anyOf[0].items.properties),
    ...Object.keys(schema.properties.proxies.anyOf[0].items.properties),
    ...Object.keys(schema.properties.gateways.anyOf[0].items.properties),
    ...Object.keys(schema.properties.metrics.anyOf[0].properties),
  ];
  for (const key of keys) assert.match(text, new RegExp(`^\\s*(- )?${key}:`, 'm'), `the example does not show ${key}`);
  assert.match(text, /^# yaml-language-server: \$schema=\.\.\/kport\.schema\.json$/m);
});

test('demo.yaml loads against the simulated cluster\'s kubeconfig', async () => {
  const kubeconfig = await box.write('sim.kubeconfig', KUBECONFIG.replace('current-context: dev', 'current-context: sim').replace('- name: staging', '- name: sim'));
  const file = join(examples, 'demo.yaml');
  const result = await loadConfigFile(file, box.env({ KPORT_DEMO_KUBECONFIG: kubeconfig }));
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(
    [...result.state.forwards, ...result.state.proxies].map((s) => [s.name, s.context, s.kind === 'forward' ? s.ports.map((p) => p.spec) : s.port]),
    [
      ['web', 'sim', ['8080:80']],
      ['db', 'sim', ['15432:5432']],
      ['api', 'sim', 8001],
    ],
  );
  assert.match(await readFile(file, 'utf8'), /^# yaml-language-server: \$schema=\.\.\/kport\.schema\.json$/m);
  // Without the variable the demo says what is missing.
  const unset = await loadConfigFile(file, box.env());
  assert.deepEqual(unset.ok ? [] : unset.errors.map((e) => e.message), ['"${KPORT_DEMO_KUBECONFIG}": $KPORT_DEMO_KUBECONFIG is not set']);
});

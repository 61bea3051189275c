/** The `metrics:` section: off unless written, loopback unless told otherwise, every mistake placed in the file. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCheck } from '../../config/check.js';
import { loadConfigText } from '../../config/load.js';
import type { LoadResult } from '../../config/types.js';
import { errorsOf, sandbox, warningsOf, type Sandbox } from './fixtures.js';

let box: Sandbox;
before(async () => {
  box = await sandbox();
});
after(() => box.cleanup());

const load = (yaml: string): Promise<LoadResult> => loadConfigText(yaml, 'k.yaml', box.env());

function metricsOf(result: LoadResult) {
  assert.ok(result.ok, JSON.stringify(result));
  return result.state.metrics;
}

test('no section, or an empty one, means no metrics server', async () => {
  assert.equal(metricsOf(await load('forwards: []\n')), null);
  assert.equal(metricsOf(await load('metrics:\n')), null);
});

test('loopback by default; localhost is 127.0.0.1; defaults.address does not apply', async () => {
  const fromDefaults = await load('defaults:\n  address: 0.0.0.0\nmetrics:\n  port: 9464\n');
  assert.deepEqual(metricsOf(fromDefaults), { address: '127.0.0.1', port: 9464 });
  assert.deepEqual(warningsOf(fromDefaults), []);
  assert.deepEqual(metricsOf(await load('metrics: { address: localhost, port: 0 }\n')), { address: '127.0.0.1', port: 0 });
  assert.deepEqual(metricsOf(await load('metrics: { address: "::1", port: 9464 }\n')), { address: '::1', port: 9464 });
});

test('a non-loopback address loads, with the exposure warning forwards get', async () => {
  const result = await load('metrics:\n  address: 0.0.0.0\n  port: 9464\n');
  assert.deepEqual(metricsOf(result), { address: '0.0.0.0', port: 9464 });
  assert.deepEqual(warningsOf(result), ['k.yaml:2:12: warning: metrics.address: "0.0.0.0" exposes kportd\'s metrics beyond this machine']);
});

test('mistakes are errors with their line, column and key path', async () => {
  const cases: Array<[string, string[]]> = [
    ['metrics:\n  address: nope\n  port: 9464\n', ['k.yaml:2:12: metrics.address: "nope" is not an IP address (or localhost)']],
    ['metrics:\n  address: "[::1]"\n  port: 9464\n', ['k.yaml:2:12: metrics.address: "[::1]" is not an IP address: write IPv6 addresses without brackets']],
    ['metrics:\n  address: [127.0.0.1, "::1"]\n  port: 9464\n', ['k.yaml:2:12: metrics.address: expected a string, got a list']],
    ['metrics:\n  address: 127.0.0.1\n', ['k.yaml:2:3: metrics.port: is required']],
    ['metrics:\n  port: 70000\n', ['k.yaml:2:9: metrics.port: port 70000 is out of range (0–65535)']],
    ['metrics:\n  port: "9464"\n', ['k.yaml:2:9: metrics.port: expected a number, got "9464" (write it without quotes: 9464)']],
    ['metrics:\n  port: 9464\n  path: /m\n', ['k.yaml:3:3: metrics.path: unknown key "path" (keys here: address, port)']],
    ['metrics: 9464\n', ['k.yaml:1:10: metrics: expected a mapping, got 9464']],
  ];
  for (const [yaml, errors] of cases) assert.deepEqual(errorsOf(await load(yaml)), errors, yaml);
});

test('a bad metrics section is reported beside the errors of the rest of the file', async () => {
  const result = await load('forwards:\n  - {name: a, target: svc/a, ports: ["80:abc!"]}\nmetrics:\n  address: nope\n  port: 1\n');
  assert.deepEqual(errorsOf(result), [
    'k.yaml:2:38: forwards[0].ports[0]: "80:abc!" is not a port or port name',
    'k.yaml:4:12: metrics.address: "nope" is not an IP address (or localhost)',
  ]);
});

test('kportd check names where the metrics are served', async () => {
  const file = await box.write('m.yaml', 'metrics: { port: 9464 }\n');
  assert.deepEqual(await runCheck(file, { HOME: box.home }), { code: 0, text: 'ok: 0 forwards, 0 proxies, metrics on 127.0.0.1:9464\n' });
});

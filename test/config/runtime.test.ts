/**
 * Sessions added at runtime (kportctl add) against kport.yaml: the file always loads, and a runtime session that
 * takes a name or a local bind of the file's is displaced, with a reason that names the file's line.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfigText } from '../../config/load.js';
import { forwardSpec, proxySpec } from '../helpers/specs.js';
import { sandbox, type Sandbox } from './fixtures.js';

let box: Sandbox;
before(async () => {
  box = await sandbox();
});
after(() => box.cleanup());

const yaml = [
  'forwards:',
  '  - {name: web, target: svc/web, ports: ["8080:80"]}',
  'proxies:',
  '  - name: k8s',
  '    unixSocket: /tmp/k8s.sock',
  '',
].join('\n');

test('the file loads; runtime sessions clashing with it are displaced, naming its line', async () => {
  const runtime = [
    forwardSpec('web', { ports: [{ local: 9000, remote: 80, spec: '9000:80' }] }),
    forwardSpec('db', { ports: [{ local: 5432, remote: 5432, spec: '5432' }, { local: 8080, remote: 80, spec: '8080:80' }] }),
    proxySpec('p', { port: 0, addresses: [], unixSocket: '/tmp/k8s.sock' }),
    forwardSpec('free', { ports: [{ local: 8081, remote: 80, spec: '8081:80' }] }),
    forwardSpec('late', { ports: [{ local: 8081, remote: 80, spec: '8081:80' }] }),
  ];
  const result = await loadConfigText(yaml, 'kport.yaml', box.env(), runtime);
  assert.ok(result.ok);
  assert.deepEqual(result.state.forwards.map((f) => f.name), ['web']);
  assert.deepEqual(result.displaced, [
    { name: 'web', message: 'name: "web" is already used by forwards[0] at kport.yaml:2:5' },
    { name: 'db', message: 'ports[1]: 127.0.0.1:8080 is already bound by forwards[0] at kport.yaml:2:5' },
    { name: 'p', message: 'unixSocket: "/tmp/k8s.sock" is already used by proxies[0] at kport.yaml:4:5' },
    { name: 'late', message: 'ports[0]: 127.0.0.1:8081 is already bound by forward "free", added with kportctl' },
  ]);
});

test('a disabled runtime session takes no port, so it clashes with nothing', async () => {
  const runtime = [forwardSpec('off', { enabled: false })];
  const result = await loadConfigText(yaml, 'kport.yaml', box.env(), runtime);
  assert.ok(result.ok);
  assert.deepEqual(result.displaced, []);
});

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCheck } from '../../config/check.js';
import { sandbox, type Sandbox } from './fixtures.js';

let box: Sandbox;
before(async () => {
  box = await sandbox();
});
after(() => box.cleanup());

test('a good file: ok with counts, exit 0', async () => {
  const file = await box.write(
    'good.yaml',
    'forwards:\n  - {name: a, target: svc/a, ports: [1]}\n  - {name: b, target: svc/b, ports: [2], enabled: false}\nproxies:\n  - {name: p, address: 0.0.0.0}\n',
  );
  assert.deepEqual(await runCheck(file, { HOME: box.home }), {
    code: 0,
    text: `${file}:5:24: warning: proxies[0].address: "0.0.0.0" exposes this proxy beyond this machine\nok: 2 forwards (1 disabled), 1 proxy\n`,
  });
});

test('a bad file: every error, then a count, exit 1', async () => {
  const file = await box.write('bad.yaml', 'forwards:\n  - {name: a, target: svc/a, ports: ["80:abc!"]}\n  - {name: a, target: pod/x, ports: [1]}\n');
  assert.deepEqual(await runCheck(file, { HOME: box.home }), {
    code: 1,
    text: [
      `${file}:2:38: forwards[0].ports[0]: "80:abc!" is not a port or port name`,
      `${file}:3:12: forwards[1].name: "a" is already used by forwards[0]`,
      `failed: 2 errors in ${file}`,
      '',
    ].join('\n'),
  });
});

test('a missing file, named or the default', async () => {
  const missing = join(box.dir, 'missing.yaml');
  assert.deepEqual(await runCheck(missing, { HOME: box.home }), {
    code: 1,
    text: `${missing}: cannot read: no such file\nfailed: 1 error in ${missing}\n`,
  });
  const fallback = join(box.home, '.config', 'kport', 'kport.yaml');
  assert.deepEqual(await runCheck(undefined, { HOME: box.home }), {
    code: 1,
    text: `${fallback}: cannot read: no such file\nfailed: 1 error in ${fallback}\n(that is the default file: pass FILE, or set $KPORT_CONFIG)\n`,
  });
});

test('the default file comes from $KPORT_CONFIG', async () => {
  const file = await box.write('env.yaml', 'proxies: [{name: p}]\n');
  assert.deepEqual(await runCheck(undefined, { HOME: box.home, KPORT_CONFIG: file }), { code: 0, text: 'ok: 0 forwards, 1 proxy\n' });
});

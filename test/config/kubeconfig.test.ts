import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readKubeconfig } from '../../config/kubeconfig.js';
import { sandbox, type Sandbox } from './fixtures.js';

let box: Sandbox;
before(async () => {
  box = await sandbox();
});
after(() => box.cleanup());

test('merges files as kubectl does: first definition of a context wins, first current-context wins', async () => {
  const a = await box.write('a.yaml', 'contexts:\n- name: dev\n  context: {namespace: from-a}\n');
  const b = await box.write(
    'b.yaml',
    'current-context: prod\ncontexts:\n- name: dev\n  context: {namespace: from-b}\n- name: prod\n  context: {}\n',
  );
  const c = await box.write('c.yaml', 'current-context: dev\n');
  const read = await readKubeconfig([a, join(box.dir, 'missing.yaml'), b, c]);
  assert.equal(read.unchecked, null);
  assert.deepEqual(read.view?.currentContext, 'prod');
  assert.deepEqual([...(read.view?.contexts ?? [])], [
    ['dev', { namespace: 'from-a' }],
    ['prod', { namespace: null }],
  ]);
});

test('an empty file is an empty kubeconfig', async () => {
  const empty = await box.write('empty.yaml', '');
  const read = await readKubeconfig([empty]);
  assert.deepEqual(read.view, { contexts: new Map(), currentContext: null });
});

test('tolerates odd entries, as kubectl tolerates extra fields', async () => {
  const odd = await box.write('odd.yaml', 'contexts:\n- 5\n- name: 7\n- name: ok\n  context: 3\ncurrent-context: ""\n');
  const read = await readKubeconfig([odd]);
  assert.deepEqual(read.view, { contexts: new Map([['ok', { namespace: null }]]), currentContext: null });
});

test('contexts are not checked when no file exists or one cannot be read', async () => {
  const none = join(box.dir, 'none.yaml');
  assert.deepEqual(await readKubeconfig([none]), {
    view: null,
    unchecked: `no kubeconfig found (looked for "${none}"); contexts are not checked`,
  });
  const broken = await box.write('broken.yaml', 'contexts: [\n');
  const read = await readKubeconfig([broken]);
  assert.equal(read.view, null);
  assert.match(read.unchecked ?? '', new RegExp(`^kubeconfig ${broken}:1:11: the list opened here with "\\[" is not closed.*; contexts are not checked$`));
  const list = await box.write('list.yaml', '- a\n');
  assert.deepEqual((await readKubeconfig([list])).unchecked, `kubeconfig ${list}: not a kubeconfig (no mapping at the top); contexts are not checked`);
  const folder = join(box.dir, 'folder');
  await mkdir(folder);
  assert.deepEqual((await readKubeconfig([folder])).unchecked, `kubeconfig ${folder}: cannot read: is a folder; contexts are not checked`);
});

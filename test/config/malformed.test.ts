/**
 * Hostile or broken input gets one clear error, in bounded time and memory: never a crash, a hang or a stack
 * overflow. The timeouts are a safety net only; nothing here asserts on time.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfigFile, loadConfigText } from '../../config/load.js';
import { errorsOf, sandbox, type Sandbox } from './fixtures.js';

let box: Sandbox;
before(async () => {
  box = await sandbox();
});
after(() => box.cleanup());

const SAFETY_NET = { timeout: 60_000 };

test('binary garbage is not a text file', SAFETY_NET, async () => {
  // 0xff never occurs in UTF-8, so these bytes are garbage whatever the random rest is.
  const file = join(box.dir, 'garbage.bin');
  await writeFile(file, Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), randomBytes(64 * 1024)]));
  assert.deepEqual(errorsOf(await loadConfigFile(file, box.env())), [`${file}: not a text file: it is not valid UTF-8`]);
});

test('NUL bytes in otherwise valid text', SAFETY_NET, async () => {
  assert.deepEqual(errorsOf(await loadConfigText('forwards: []\n\u0000\n', 'k.yaml', box.env())), ['k.yaml: not a text file: it contains NUL bytes']);
});

test('a 10 MB file is refused without being parsed', SAFETY_NET, async () => {
  const file = join(box.dir, 'big.yaml');
  await writeFile(file, `forwards:\n${'  - {name: a, target: svc/a, ports: [1]}\n'.repeat(260_000)}`);
  assert.deepEqual(errorsOf(await loadConfigFile(file, box.env())), [`${file}: file is 10.2 MiB; kport.yaml is limited to 1 MiB`]);
  const text = `a: "${'x'.repeat(10 * 1024 * 1024)}"\n`;
  assert.deepEqual(errorsOf(await loadConfigText(text, 'k.yaml', box.env())), ['k.yaml: file is 10.0 MiB; kport.yaml is limited to 1 MiB']);
});

test('nesting deeper than 64 levels, in every YAML form, up to the size limit', SAFETY_NET, async () => {
  const cases: Array<[string, string]> = [
    ['['.repeat(100_000), 'k.yaml:1:65: nesting is deeper than 64 levels'],
    [`forwards: ${'['.repeat(1024 * 1024 - 20)}`, 'k.yaml:1:74: nesting is deeper than 64 levels'],
    ['{a: '.repeat(100_000), 'k.yaml:1:257: nesting is deeper than 64 levels'],
    [`${'- '.repeat(100_000)}x`, 'k.yaml:1:129: nesting is deeper than 64 levels'],
    [`${'? '.repeat(100_000)}x`, 'k.yaml:1:129: nesting is deeper than 64 levels'],
    [Array.from({ length: 70 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'), 'k.yaml:65:65: nesting is deeper than 64 levels'],
  ];
  for (const [text, error] of cases) assert.deepEqual(errorsOf(await loadConfigText(text, 'k.yaml', box.env())), [error]);
  // 64 levels is fine for the parser; the schema then says what is wrong.
  const ok = await loadConfigText(`forwards: ${'['.repeat(63)}${']'.repeat(63)}`, 'k.yaml', box.env());
  assert.deepEqual(errorsOf(ok), ['k.yaml:1:12: forwards[0]: expected a mapping, got a list']);
});

test('an alias bomb', SAFETY_NET, async () => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  assert.deepEqual(errorsOf(await loadConfigText(`${levels.join('\n')}\n`, 'k.yaml', box.env())), [
    'k.yaml: aliases expand to too much data (an alias bomb?): use anchors to share small values only',
  ]);
});

test('an alias that contains itself', SAFETY_NET, async () => {
  const result = await loadConfigText('forwards: &x [*x]\nproxies: &y [{name: a, acceptPaths: *y}]\n', 'k.yaml', box.env());
  assert.deepEqual(errorsOf(result), [
    'k.yaml:1:15: forwards[0]: expected a mapping, got a list',
    'k.yaml:2:14: proxies[0].acceptPaths[0]: expected a string, got a mapping',
  ]);
});

test('prototype keys are only unknown keys', SAFETY_NET, async () => {
  const result = await loadConfigText('__proto__: {polluted: true}\nforwards:\n  - {name: a, target: svc/a, ports: [1], constructor: 1}\n', 'k.yaml', box.env());
  assert.deepEqual(errorsOf(result), [
    'k.yaml:1:1: __proto__: unknown key "__proto__" (keys here: kubeconfig, defaults, forwards, proxies, gateways, metrics)',
    'k.yaml:3:42: forwards[0].constructor: unknown key "constructor" (keys here: name, target, selector, ports, context, kubeconfig, namespace, address, balance, connectTimeout, transport, enabled)',
  ]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('YAML tags that are not plain values', SAFETY_NET, async () => {
  const result = await loadConfigText('forwards:\n  - name: !!binary aGVsbG8=\n    target: !custom svc/a\n    ports: !!set {1, 2}\n', 'k.yaml', box.env());
  assert.equal(result.ok, false);
  assert.deepEqual(result.warnings.map((w) => `${w.line}:${w.col}: ${w.message}`), ['3:13: Unresolved tag: !custom']);
});

test('very many entries and very long values stay within the size limit and load', SAFETY_NET, async () => {
  const many = `forwards:\n${Array.from({ length: 10_000 }, (_, i) => `  - {name: f${i}, target: svc/a, ports: ["${10_000 + i}:80"]}`).join('\n')}\n`;
  const result = await loadConfigText(many, 'k.yaml', box.env());
  assert.equal(result.ok && result.state.forwards.length, 10_000);
  const long = `forwards:\n  - name: ${'a'.repeat(900_000)}\n`;
  assert.deepEqual(errorsOf(await loadConfigText(long, 'k.yaml', box.env())), [
    'k.yaml:2:5: forwards[0].ports: is required',
    'k.yaml:2:5: forwards[0]: needs a target (KIND/NAME) or a selector',
    `k.yaml:2:11: forwards[0].name: "${'a'.repeat(60)}…" is not a valid name: it has 900000 characters, at most 63 are allowed`,
  ]);
});

test('files that cannot be read', SAFETY_NET, async () => {
  const missing = join(box.dir, 'missing.yaml');
  assert.deepEqual(errorsOf(await loadConfigFile(missing, box.env())), [`${missing}: cannot read: no such file`]);
  const folder = join(box.dir, 'folder.yaml');
  await mkdir(folder);
  assert.deepEqual(errorsOf(await loadConfigFile(folder, box.env())), [`${folder}: cannot read: is a folder`]);
  if (process.platform !== 'win32') {
    // Opening a FIFO for reading waits for a writer; it must be refused instead.
    const fifo = join(box.dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    assert.deepEqual(errorsOf(await loadConfigFile(fifo, box.env())), [`${fifo}: cannot read: not a regular file`]);
  }
});

test('an alias with no anchor before it is placed, not taken for an alias bomb', SAFETY_NET, async () => {
  assert.deepEqual(errorsOf(await loadConfigText('forwards: *f\nproxies: &f []\n', 'k.yaml', box.env())), [
    'k.yaml:1:11: alias *f has no anchor &f before it',
  ]);
  assert.deepEqual(errorsOf(await loadConfigText('forwards:\n  - <<: [*base]\n', 'k.yaml', box.env())), [
    'k.yaml:2:10: alias *base has no anchor &base before it',
  ]);
});

test('a merge key whose source is not a mapping is placed where the merge is written', SAFETY_NET, async () => {
  const list = 'ports: &a ["8080:80"]\nforwards:\n  - name: web\n    <<: *a\n';
  assert.deepEqual(errorsOf(await loadConfigText(list, 'k.yaml', box.env())), [
    'k.yaml:4:9: a merge (<<) needs a mapping, or a list of mappings: *a is a list of strings',
  ]);
  const inList = 'a: &a {name: web}\nb: &b 5\nforwards:\n  - <<: [*a, *b]\n';
  assert.deepEqual(errorsOf(await loadConfigText(inList, 'k.yaml', box.env())), [
    'k.yaml:4:14: a merge (<<) needs a mapping, or a list of mappings: *b is a number',
  ]);
  const inline = 'forwards:\n  - <<: [[1, 2]]\n';
  assert.deepEqual(errorsOf(await loadConfigText(inline, 'k.yaml', box.env())), [
    'k.yaml:2:10: a merge (<<) needs a mapping, or a list of mappings: this is a list',
  ]);
});

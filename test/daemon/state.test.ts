/**
 * sessions.json: every entry is checked by kport.yaml's schema; what fails is moved aside into a file named in a
 * warning and the rest load. Nothing the user added is dropped silently. The last test runs a real kportd on it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ConfigEnv } from '../../config/types.js';
import { SessionStore } from '../../daemon/state.js';
import { KportdHarness } from '../helpers/daemon.js';
import { capturingLogger } from '../helpers/log.js';
import { forwardSpec, gatewaySpec, proxySpec } from '../helpers/specs.js';

const dir = mkdtempSync(join(tmpdir(), 'kport-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env: ConfigEnv = { env: {}, home: join(dir, 'home'), cwd: dir };

const good = [
  forwardSpec('web'),
  forwardSpec('api', { target: { kind: 'selector', labels: { app: 'api' } }, ports: [{ local: 0, remote: 'http', spec: ':http' }], connectTimeoutMs: 1_500 }),
  proxySpec('k8s'),
  proxySpec('sock', { port: 0, addresses: [], unixSocket: join(dir, 'p.sock'), www: dir, disableFilter: true }),
  gatewaySpec('gw', { port: 0, namespaces: ['default', 'data'], namespaceIdleMs: 1_500, clusterDomain: 'corp.example' }),
];

/** Shapes that once stopped kportd from starting, or loaded wrong. */
const bad: Array<[string, unknown]> = [
  ['only kind, name and enabled', { kind: 'forward', name: 'x', enabled: true }],
  ['target: null', { ...forwardSpec('t'), target: null }],
  ['ports a string', { ...forwardSpec('p'), ports: '8080:80' }],
  ['addresses a number', { ...forwardSpec('a'), addresses: 5 }],
  ['an unknown kind', { kind: 'tunnel', name: 'g' }],
  ['not a mapping', 'web'],
  ['a bad port spec', { ...forwardSpec('b'), ports: [{ local: 1, remote: 'x!', spec: '1:x!' }] }],
  ['an unknown key', { ...forwardSpec('u'), colour: 'red' }],
  ['the same name as an earlier entry', forwardSpec('web', { ports: [{ local: 9090, remote: 80, spec: '9090:80' }] })],
];

function storeWith(name: string, sessions: unknown[]) {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ version: 1, sessions }));
  const { log, lines } = capturingLogger();
  return { file, store: new SessionStore(file, log), lines };
}

test('every valid entry comes back as it was stored', () => {
  const { store } = storeWith('good.json', good);
  assert.deepEqual(store.load(env).sessions, good);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('good.json.')), []);
});

test('what kport.yaml would take is taken: a proxy with only kind and name gets its defaults', () => {
  const { store } = storeWith('minimal.json', [{ kind: 'proxy', name: 'q' }]);
  assert.deepEqual(store.load(env).sessions, [proxySpec('q', { context: null })]);
});

test('invalid entries and later duplicates are moved aside, named in a warning; the rest load', () => {
  const { file, store, lines } = storeWith('mixed.json', [...good, ...bad.map(([, entry]) => entry)]);
  assert.deepEqual(store.load(env).sessions, good);
  const aside = readdirSync(dir).filter((f) => f.startsWith('mixed.json.rejected-'));
  assert.equal(aside.length, 1);
  const rejected = JSON.parse(readFileSync(join(dir, aside[0]!), 'utf8')) as { version: number; sessions: unknown[]; errors: string[][] };
  assert.equal(rejected.version, 1);
  assert.deepEqual(rejected.sessions, bad.map(([, entry]) => entry));
  for (const [i, [what]] of bad.entries()) assert.ok(rejected.errors[i]!.length > 0, `no reason given for ${what}`);
  assert.match(rejected.errors.at(-1)![0]!, /"web" is already used by sessions\[0\]/);
  const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string; movedTo?: string }).find((l) => l.level === 40);
  assert.equal(warning?.movedTo, join(dir, aside[0]!));
  assert.match(warning!.msg, /9 of 14 runtime sessions are invalid/);
  // What is left on disk is what loaded, so the next start does not reject them again.
  assert.deepEqual((JSON.parse(readFileSync(file, 'utf8')) as { sessions: unknown[] }).sessions, good);
});

test('kept ports and enable/disable overrides come back; wrong shapes are left out with a warning; a rejected entry keeps them', () => {
  const { file, store, lines } = storeWith('extras.json', []);
  const kept = forwardSpec('kept', { ports: [{ local: 0, remote: 80, spec: ':80' }, { local: 8443, remote: 443, spec: '8443:443' }] });
  store.save({ sessions: [kept, proxySpec('p', { port: 0 })], enabled: new Map([['db', true], ['kept', false]]), ports: new Map([['kept', [40123, null]], ['gone', [1]]]) });
  const back = store.load(env);
  assert.deepEqual(back.sessions.map((x) => x.name), ['kept', 'p']);
  assert.deepEqual([...back.enabled], [['db', true], ['kept', false]]);
  // Ports of a session no longer stored are not written.
  assert.deepEqual([...back.ports], [['kept', [40123, null]]]);

  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...data, sessions: [...(data.sessions as unknown[]), { kind: 'forward', name: 'broken' }], enabled: { db: 'yes', kept: false }, ports: { kept: [70000], p: [40124] } }));
  const again = store.load(env);
  assert.deepEqual([...again.enabled], [['kept', false]]);
  assert.deepEqual([...again.ports], [['p', [40124]]]);
  const warned = lines.map((l) => JSON.parse(l) as { msg: string; sessions?: string[] }).filter((l) => /wrong shape/.test(l.msg));
  assert.deepEqual(warned.map((w) => w.sessions), [['db'], ['kept']]);
  // The broken entry was moved aside; what stays on disk still has the overrides and ports.
  const left = JSON.parse(readFileSync(file, 'utf8')) as { enabled: unknown; ports: unknown; sessions: unknown[] };
  assert.equal(left.sessions.length, 2);
  assert.deepEqual(left.enabled, { db: 'yes', kept: false });
});

test('kportd starts on a sessions.json of invalid entries and runs the valid ones', async () => {
  const k = new KportdHarness();
  try {
    mkdirSync(k.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(k.stateDir, 'sessions.json'), JSON.stringify({ version: 1, sessions: [{ kind: 'forward', name: 'x', enabled: true }, { ...forwardSpec('t'), target: null }, forwardSpec('kept', { ports: [{ local: 0, remote: 80, spec: ':80' }] })] }));
    await k.start();
    assert.deepEqual((JSON.parse(await k.ok('list', '--json')) as { name: string }[]).map((s) => s.name), ['kept']);
    assert.match(k.output, /2 of 3 runtime sessions are invalid/);
    assert.ok(readdirSync(k.stateDir).some((f) => f.startsWith('sessions.json.rejected-')));
    assert.doesNotMatch(k.output, /uncaught exception|TypeError/);
  } finally {
    await k.cleanup();
  }
});

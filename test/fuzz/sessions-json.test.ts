/**
 * sessions.json fuzzed before a real kportd starts: valid forwards and proxies, the same with a field of the wrong
 * type, missing or unknown, unknown kinds, duplicate names, a name kport.yaml declares, any JSON, and files that
 * are not a sessions file at all. The daemon starts every time, and nothing is lost silently: each entry is listed,
 * kept behind kport.yaml's session of the same name, or moved aside into the `…rejected-TIME` file; a file that
 * is not a sessions file is moved aside whole.
 *
 * Every entry that could load binds port 0 (any free port): nothing here takes a port another test may need.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { SessionSpec } from '../../config/types.js';
import type { SessionStatus } from '../../daemon/api/session.js';
import { KUBECONFIG, sandbox, type Sandbox } from '../config/fixtures.js';
import { KportdHarness } from '../helpers/daemon.js';
import { fuzz } from '../helpers/fuzz.js';
import { forwardSpec, proxySpec } from '../helpers/specs.js';

/** kport.yaml declares a forward of this name: a runtime session that takes it waits behind it. */
const DECLARED = 'declared';
const NAMES = ['a', 'b', 'c', DECLARED];

const anyPort = { ports: [{ local: 0, remote: 80, spec: ':80' }] };
const validArb: fc.Arbitrary<SessionSpec> = fc.oneof(
  fc.record({ name: fc.constantFrom(...NAMES), over: fc.constantFrom({}, { enabled: false }, { transport: 'websocket' as const }, { target: { kind: 'selector' as const, labels: { app: 'x' } } }, { connectTimeoutMs: 1_500 }) }).map(({ name, over }) => forwardSpec(name, { ...anyPort, ...over })),
  fc.record({ name: fc.constantFrom(...NAMES), over: fc.constantFrom({}, { enabled: false }, { apiPrefix: '/api/' }, { disableFilter: true }) }).map(({ name, over }) => proxySpec(name, { port: 0, ...over })),
);

/** Values of the wrong type for a field, none of which binds a real port or a socket if it were taken. */
const WRONG: unknown[] = [true, -1, 1.5, 70_000, '', ' ', 'UPPER!', [], [null], [{}], [[80]], {}, { kind: 'x' }];
const json = fc.jsonValue({ maxDepth: 3 });

/**
 * What may be done to a stored spec's field. A proxy's port is never dropped or nulled (it would become 8001) and
 * its unixSocket is left alone (a string there is a socket file in the working directory).
 */
type Edit = { set: string; value: unknown } | { drop: string } | { add: string; value: unknown };
function editsOf(spec: SessionSpec): fc.Arbitrary<Edit> {
  const keys = Object.keys(spec).filter((k) => k !== 'unixSocket');
  const droppable = keys.filter((k) => !(spec.kind === 'proxy' && k === 'port'));
  const wrong = (key: string) => (spec.kind === 'proxy' && key === 'port' ? fc.constantFrom(...WRONG) : fc.oneof(fc.constantFrom(null, ...WRONG), key === 'ports' || key === 'addresses' ? fc.constant(null) : json));
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...keys).chain((key) => wrong(key).map((value): Edit => ({ set: key, value }))) },
    { weight: 1, arbitrary: fc.constantFrom(...droppable).map((key): Edit => ({ drop: key })) },
    { weight: 1, arbitrary: fc.record({ add: fc.constantFrom('colour', '__proto__', 'constructor', 'Name'), value: json }) },
  );
}

function edited(spec: SessionSpec, edits: Edit[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec };
  for (const e of edits) {
    if ('drop' in e) delete out[e.drop];
    // defineProperty: "__proto__" must become a key, as JSON.parse makes it, not the prototype.
    else Object.defineProperty(out, 'set' in e ? e.set : e.add, { value: e.value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const entryArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: validArb },
  { weight: 4, arbitrary: validArb.chain((spec) => fc.array(editsOf(spec), { minLength: 1, maxLength: 3 }).map((edits) => edited(spec, edits))) },
  { weight: 1, arbitrary: fc.record({ kind: fc.oneof(fc.constantFrom('gateway', 'Forward', 'forward ', ''), json), name: fc.constantFrom(...NAMES) }) },
  { weight: 1, arbitrary: json },
);

/** What is written as sessions.json: a sessions file, or something that is not one. */
type StateFile = { sessions: unknown[] } | { notSessions: unknown } | { bytes: Uint8Array } | { cut: unknown[]; at: number };
const fileArb: fc.Arbitrary<StateFile> = fc.oneof(
  { weight: 12, arbitrary: fc.array(entryArb, { maxLength: 8 }).map((sessions): StateFile => ({ sessions })) },
  { weight: 1, arbitrary: fc.oneof(json, fc.constantFrom({ version: 2, sessions: [] }, { version: '1', sessions: [] }, { version: 1, sessions: {} }, { version: 1 })).map((notSessions): StateFile => ({ notSessions })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 32 }).map((bytes): StateFile => ({ bytes })) },
  { weight: 1, arbitrary: fc.record({ cut: fc.array(validArb, { minLength: 1, maxLength: 3 }), at: fc.nat() }) },
);

function fileBytes(f: StateFile): Buffer {
  if ('sessions' in f) return Buffer.from(JSON.stringify({ version: 1, sessions: f.sessions }));
  if ('notSessions' in f) return Buffer.from(JSON.stringify(f.notSessions) ?? '');
  if ('bytes' in f) return Buffer.from(f.bytes);
  const whole = JSON.stringify({ version: 1, sessions: f.cut });
  return Buffer.from(whole.slice(0, f.at % whole.length));
}

/** The entries of a sessions file (what kportd reads as one), or null when the bytes are not one. */
function storedEntries(bytes: Buffer): unknown[] | null {
  try {
    const data = JSON.parse(bytes.toString('utf8')) as { version?: unknown; sessions?: unknown };
    return typeof data === 'object' && data !== null && data.version === 1 && Array.isArray(data.sessions) ? data.sessions : null;
  } catch {
    return null;
  }
}

/** True when `part` is `whole` with some items left out, in the same order. */
function isSubsequence(part: unknown[], whole: unknown[]): boolean {
  let at = 0;
  for (const item of whole) if (at < part.length && JSON.stringify(item) === JSON.stringify(part[at])) at++;
  return at === part.length;
}

let box: Sandbox;
let kubeconfig: string;
before(async () => {
  box = await sandbox();
  // Nothing listens on port 1: the sessions fail to reach an API server, which is all this needs.
  kubeconfig = await box.write('kubeconfig', KUBECONFIG.replace('6443', '1'));
});
after(() => box.cleanup());

test('kportd starts on any sessions.json, and every entry is listed, kept, or moved aside', async (t) => {
  await fuzz(
    t,
    fileArb,
    async (file) => {
      const k = new KportdHarness();
      try {
        k.writeConfig(`kubeconfig: ${kubeconfig}\nforwards:\n  - name: ${DECLARED}\n    target: svc/${DECLARED}\n    ports: [":80"]\n`);
        mkdirSync(k.stateDir, { recursive: true, mode: 0o700 });
        const state = join(k.stateDir, 'sessions.json');
        const written = fileBytes(file);
        writeFileSync(state, written);
        await k.start();
        const rpc = await k.rpc();
        let listed: SessionStatus[];
        let warnings: string[];
        try {
          warnings = (await rpc.call('daemon.status', {})).config.warnings.map((w) => w.message);
          listed = await rpc.call('session.list', {});
        } finally {
          await rpc.close();
        }
        assert.doesNotMatch(k.output, /uncaught|unhandled|TypeError/i, 'kportd logged a crash');

        const files = readdirSync(k.stateDir);
        const aside = (what: string) => files.filter((f) => f.startsWith(`sessions.json.${what}-`));
        const runtime = listed.filter((s) => s.source === 'runtime').map((s) => s.name);
        const entries = storedEntries(written);
        if (entries === null) {
          // Not a sessions file: moved aside as it was, and nothing of it runs.
          assert.equal(aside('corrupt').length, 1, `files: ${files.join(', ')}`);
          assert.deepEqual(readFileSync(join(k.stateDir, aside('corrupt')[0]!)), written);
          assert.deepEqual(runtime, []);
          return;
        }
        assert.deepEqual(aside('corrupt'), []);
        const rejectedFiles = aside('rejected');
        assert.ok(rejectedFiles.length <= 1, `files: ${files.join(', ')}`);
        const rejected = rejectedFiles.length === 0 ? { sessions: [], errors: [] } : (JSON.parse(readFileSync(join(k.stateDir, rejectedFiles[0]!), 'utf8')) as { sessions: unknown[]; errors: string[][] });
        const kept = (JSON.parse(readFileSync(state, 'utf8')) as { sessions: { name: string }[] }).sessions;
        // Nothing lost: every entry is kept or rejected, a rejected one as it was written and with its reasons.
        assert.equal(kept.length + rejected.sessions.length, entries.length, `kept ${JSON.stringify(kept)}; rejected ${JSON.stringify(rejected)}`);
        assert.ok(isSubsequence(rejected.sessions, entries), 'the rejected entries are not the entries as written');
        assert.equal(rejected.errors.length, rejected.sessions.length);
        for (const reasons of rejected.errors) assert.ok(reasons.length > 0 && reasons.every((r) => r.trim() !== ''), 'a rejected entry without a reason');
        // Every kept entry runs (listed, whatever its state), or waits behind kport.yaml's session of its name, said in status.
        for (const { name } of kept) {
          if (name === DECLARED) assert.ok(warnings.some((w) => w.includes(`"${DECLARED}"`)), `no warning about the runtime "${DECLARED}": ${JSON.stringify(warnings)}`);
          else assert.ok(runtime.includes(name), `kept "${name}" is not listed: ${JSON.stringify(listed.map((s) => [s.name, s.source]))}`);
        }
        assert.deepEqual([...runtime].sort(), kept.map((s) => s.name).filter((n) => n !== DECLARED).sort());
      } finally {
        await k.cleanup();
      }
    },
    { numRuns: 15, timeLimitMs: 30_000 },
  );
});

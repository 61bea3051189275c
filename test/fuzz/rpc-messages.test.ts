/**
 * The control socket of a real kportd, fuzzed: arbitrary JSON, request-shaped objects with wrong types in each
 * field, batches (empty, mixed, nested, at and over the cap), unknown methods, huge and deeply nested ids and
 * params, text that is not JSON, binary frames, messages over the size limit. Every request with an id gets
 * exactly one answer, shaped as JSON-RPC 2.0 says; notifications get none; a batch is answered with an array; and
 * afterwards the daemon answers and its forward still carries bytes. One daemon serves every run.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { PARAMS } from '../../daemon/api/params.js';
import { HARD_MESSAGE_LIMIT, MAX_BATCH, MAX_MESSAGE_BYTES } from '../../daemon/api/rpc.js';
import { demoDaemon, type DemoDaemon } from '../helpers/demo.js';
import { echo } from '../helpers/forward.js';
import { fuzz, settles } from '../helpers/fuzz.js';
import { RawRpc } from '../helpers/raw-rpc.js';

// ---- what is sent --------------------------------------------------------------------------------------

/** A JSON value as written: any JSON, an integer too large for a double, or nesting `depth` deep. */
type Leaf = { json: unknown } | { bigint: bigint } | { deep: number; form: 'array' | 'object' };

function leafText(l: Leaf): string {
  if ('json' in l) return JSON.stringify(l.json) ?? 'null';
  if ('bigint' in l) return l.bigint.toString();
  return l.form === 'array' ? `${'['.repeat(l.deep)}${']'.repeat(l.deep)}` : `${'{"a":'.repeat(l.deep)}1${'}'.repeat(l.deep)}`;
}

/** A request object, each member present (a Leaf) or not (null), plus members JSON-RPC does not have. */
interface RequestShape {
  jsonrpc: Leaf | null;
  method: Leaf | null;
  params: Leaf | null;
  id: Leaf | null;
  extra: Record<string, unknown>;
}

/** One element of a message: a request-shaped object, any JSON value, or a batch of elements. */
type Item = { request: RequestShape } | { value: unknown } | { batch: Item[] };

function itemText(item: Item): string {
  if ('value' in item) return JSON.stringify(item.value) ?? 'null';
  if ('batch' in item) return `[${item.batch.map(itemText).join(',')}]`;
  const { extra, ...members } = item.request;
  const parts = Object.entries(members).flatMap(([k, v]) => (v === null ? [] : [`"${k}":${leafText(v)}`]));
  for (const [k, v] of Object.entries(extra)) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`);
  return `{${parts.join(',')}}`;
}

/** One WebSocket message. */
type Frame =
  | { item: Item }
  | { repeated: Item; count: number }
  | { notJson: string }
  | { cut: Item; at: number }
  | { binary: Uint8Array }
  | { binaryOf: Item }
  | { oversized: number }
  | { invalidUtf8: Uint8Array };

function frameBytes(f: Frame): { data: Buffer; binary: boolean } {
  const text = (s: string) => ({ data: Buffer.from(s, 'utf8'), binary: false });
  if ('item' in f) return text(itemText(f.item));
  if ('repeated' in f) return text(`[${Array.from({ length: f.count }, () => itemText(f.repeated)).join(',')}]`);
  if ('notJson' in f) return text(f.notJson);
  if ('cut' in f) {
    const whole = itemText(f.cut);
    return text(whole.slice(0, f.at % Math.max(whole.length, 1)));
  }
  if ('binary' in f) return { data: Buffer.from(f.binary), binary: true };
  if ('binaryOf' in f) return { data: Buffer.from(itemText(f.binaryOf), 'utf8'), binary: true };
  // 0xff is never UTF-8: a text frame holding it breaks the WebSocket protocol itself.
  if ('invalidUtf8' in f) return { data: Buffer.concat([Buffer.from(f.invalidUtf8), Buffer.from([0xff])]), binary: false };
  return text(`{"jsonrpc":"2.0","method":"daemon.status","id":1,"pad":"${'x'.repeat(MAX_MESSAGE_BYTES + f.oversized)}"}`);
}

// Every method but daemon.shutdown, which would end the daemon this suite shares (that is its job).
const METHODS = Object.keys(PARAMS).filter((m) => m !== 'daemon.shutdown');

// Strings of any code points, lone surrogates too (JSON.stringify escapes them).
const json = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }));
const leaf = (a: fc.Arbitrary<unknown>) => a.map((v): Leaf => ({ json: v }));
// At most 20,000 levels (about 100 KB), so that most messages stay under HARD_MESSAGE_LIMIT.
const deep = fc.record({ deep: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1_000, max: 20_000 })), form: fc.constantFrom('array' as const, 'object' as const) });

const jsonrpcArb = fc.oneof({ weight: 8, arbitrary: leaf(fc.constant('2.0')) }, { weight: 1, arbitrary: leaf(fc.constantFrom('1.0', '2', '2.00', 2, null, [], {})) }, { weight: 1, arbitrary: leaf(json) });
const methodArb = fc.oneof(
  { weight: 8, arbitrary: leaf(fc.constantFrom(...METHODS)) },
  { weight: 2, arbitrary: leaf(fc.constantFrom('no.such', '', 'rpc.discover', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'DAEMON.STATUS', 'daemon.status ')) },
  { weight: 1, arbitrary: leaf(fc.string({ maxLength: 12 }).filter((m) => m !== 'daemon.shutdown')) },
  { weight: 1, arbitrary: leaf(json.filter((v) => typeof v !== 'string')) },
);

/** Request-shaped objects, batches of them and any JSON; `deepOk`: ids and params may be nested very deep. */
function itemsOf(deepOk: boolean): fc.Arbitrary<Item> {
  const deepLeaf = deepOk ? [{ weight: 1, arbitrary: deep }] : [];
  // Params right for some method (a wait never longer than a second), for none, or of no allowed type at all.
  const paramsArb = fc.oneof(
    { weight: 4, arbitrary: leaf(fc.constantFrom({}, [], { name: 'db' }, { name: 'nope' }, { name: '' }, { logs: true }, { logs: false }, { lines: 1 }, { lines: 10_000 }, { lines: 0 })) },
    { weight: 2, arbitrary: leaf(fc.record({ name: fc.constantFrom('db', 'nope'), timeoutMs: fc.oneof(fc.integer({ min: 0, max: 1_000 }), json) })) },
    { weight: 2, arbitrary: leaf(fc.record({ kind: fc.oneof(fc.constantFrom('forward', 'proxy'), json), entry: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 4 }), json), ephemeral: fc.boolean() }, { requiredKeys: ['kind', 'entry'] })) },
    { weight: 2, arbitrary: leaf(json) },
    ...deepLeaf,
  );
  const idArb = fc.oneof(
    { weight: 4, arbitrary: leaf(fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null))) },
    { weight: 2, arbitrary: leaf(fc.oneof(fc.double(), fc.constantFrom(2 ** 53 + 1, -0, Number.MAX_VALUE, Number.MIN_VALUE, 1.5, -1))) },
    { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map((b): Leaf => ({ bigint: b })) },
    { weight: 2, arbitrary: leaf(fc.oneof(fc.boolean(), fc.array(json, { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 4 }), json, { maxKeys: 2 }))) },
    ...deepLeaf,
  );
  const requestArb: fc.Arbitrary<RequestShape> = fc.record({
    jsonrpc: fc.option(jsonrpcArb, { freq: 12, nil: null }),
    method: fc.option(methodArb, { freq: 12, nil: null }),
    params: fc.option(paramsArb, { freq: 2, nil: null }),
    // About one in four is a notification.
    id: fc.option(idArb, { freq: 4, nil: null }),
    extra: fc.oneof({ weight: 6, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 2 }) }),
  });
  return fc.letrec<{ item: Item }>((tie) => ({
    item: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 6, arbitrary: requestArb.map((request): Item => ({ request })) },
      { weight: 1, arbitrary: json.map((value): Item => ({ value })) },
      { weight: 1, arbitrary: fc.array(tie('item'), { maxLength: 5 }).map((batch): Item => ({ batch })) },
    ),
  })).item;
}

const itemArb = itemsOf(true);

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 12, arbitrary: itemArb.map((item): Frame => ({ item })) },
  { weight: 1, arbitrary: fc.record({ repeated: itemsOf(false), count: fc.constantFrom(MAX_BATCH - 1, MAX_BATCH, MAX_BATCH + 1, 150) }) },
  { weight: 1, arbitrary: fc.record({ notJson: fc.oneof(fc.string({ maxLength: 24 }), fc.string({ maxLength: 24, unit: 'binary' })) }) },
  { weight: 1, arbitrary: fc.record({ cut: itemArb, at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ binary: fc.uint8Array({ maxLength: 48 }) }) },
  { weight: 1, arbitrary: fc.record({ binaryOf: itemArb }) },
  { weight: 1, arbitrary: fc.record({ oversized: fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.constant(HARD_MESSAGE_LIMIT - MAX_MESSAGE_BYTES)) }) },
  { weight: 1, arbitrary: fc.record({ invalidUtf8: fc.uint8Array({ maxLength: 16 }) }) },
);

/**
 * The close codes a message that breaks the WebSocket itself gets instead of an answer (1006: the close frame was
 * cut off behind the rest of the message); null for a message JSON-RPC answers.
 */
function closesWith(f: { data: Buffer; binary: boolean }): number[] | null {
  if (f.data.length > HARD_MESSAGE_LIMIT) return [1009, 1006];
  if (!f.binary && !isUtf8(f.data)) return [1007, 1006];
  return null;
}

// ---- what must come back (JSON-RPC 2.0, §4–§6) ------------------------------------------------------------

/** One answer expected: its id (as JSON text, the way it comes back) and what it must be, where that is known. */
interface Expected {
  id: string;
  /** The error code it must carry; null: a result or any error (a call of a known method). */
  code: number | null;
}

/** What a message must be answered with: nothing, one answer, or an array of answers. */
type Expectation = { none: true } | { single: Expected } | { batch: Expected[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const idText = (id: unknown) => JSON.stringify(id) ?? 'null';
const INVALID = -32600;

/** The answer to one request object, or null for a notification (a valid request without an id). */
function answerTo(v: unknown): Expected | null {
  if (!isObject(v)) return { id: 'null', code: INVALID };
  const hasId = Object.hasOwn(v, 'id');
  const idOk = typeof v.id === 'string' || typeof v.id === 'number' || v.id === null;
  // The id is echoed whenever it can be read as one; otherwise the answer's id is null.
  const id = hasId && idOk ? idText(v.id) : 'null';
  if (hasId && !idOk) return { id, code: INVALID };
  const paramsOk = v.params === undefined || typeof v.params === 'object';
  if (v.jsonrpc !== '2.0' || typeof v.method !== 'string' || !paramsOk || v.params === null) return { id, code: INVALID };
  if (!hasId) return null;
  return { id, code: METHODS.includes(v.method) ? null : -32601 };
}

function expectationOf(data: Buffer): Expectation {
  if (data.length > MAX_MESSAGE_BYTES) return { single: { id: 'null', code: INVALID } };
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return { single: { id: 'null', code: -32700 } };
  }
  if (!Array.isArray(value)) {
    const a = answerTo(value);
    return a ? { single: a } : { none: true };
  }
  if (value.length === 0 || value.length > MAX_BATCH) return { single: { id: 'null', code: INVALID } };
  const answers = value.map(answerTo).filter((a) => a !== null);
  return answers.length > 0 ? { batch: answers } : { none: true };
}

/** Checks one answer object's shape (§5) and returns its id as JSON text. */
function shaped(a: unknown, where: string): { id: string; code: number | null } {
  assert.ok(isObject(a), `${where}: an answer that is not an object: ${JSON.stringify(a)}`);
  assert.equal(a.jsonrpc, '2.0', `${where}: jsonrpc is not "2.0": ${JSON.stringify(a)}`);
  assert.ok(Object.hasOwn(a, 'id'), `${where}: an answer without an id: ${JSON.stringify(a)}`);
  assert.ok(Object.hasOwn(a, 'result') !== Object.hasOwn(a, 'error'), `${where}: not exactly one of result and error: ${JSON.stringify(a)}`);
  if (!Object.hasOwn(a, 'error')) return { id: idText(a.id), code: null };
  const e = a.error;
  assert.ok(isObject(e) && Number.isInteger(e.code) && typeof e.message === 'string', `${where}: a malformed error: ${JSON.stringify(a)}`);
  return { id: idText(a.id), code: e.code as number };
}

/** The multiset of answers as comparable keys: `S id` for a single answer, `B id,id…` (sorted) for a batch. */
const key = (ids: string[], batch: boolean) => (batch ? `B ${[...ids].sort().join(',')}` : `S ${ids[0]}`);
const counted = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());

// ---- the daemon ---------------------------------------------------------------------------------------------

let demo: DemoDaemon;
before(async () => (demo = await demoDaemon()));
after(() => demo.stop());

const SENTINEL = '\u0000kport-fuzz-sentinel';

test('every message to a real kportd is answered as JSON-RPC 2.0 says, and the daemon and its forward carry on', async (t) => {
  await fuzz(
    t,
    fc.array(frameArb, { minLength: 1, maxLength: 4 }),
    async (frames) => {
      const rpc = await RawRpc.open(demo.k.socket);
      try {
        const sent = frames.map(frameBytes);
        // A message that breaks the WebSocket (too large to read, text that is not UTF-8) closes the connection:
        // what was answered before it may still arrive, shaped as any answer; nothing after it is sent.
        const breaking = sent.findIndex((f) => closesWith(f) !== null);
        if (breaking >= 0) {
          for (const { data, binary } of sent.slice(0, breaking + 1)) rpc.ws.send(data, { binary });
          const code = await settles(rpc.closed, 'the close of a connection sent a message that breaks the WebSocket');
          assert.ok(closesWith(sent[breaking]!)!.includes(code), `closed with ${code}`);
          for (const [i, a] of rpc.messages.entries()) if (!(isObject(a) && Object.hasOwn(a, 'method'))) for (const x of Array.isArray(a) ? a : [a]) shaped(x, `answer ${i}`);
          return;
        }
        const expected = sent.map(({ data, binary }) => {
          rpc.ws.send(data, { binary });
          return expectationOf(data);
        });
        // Answers, not notifications of a subscription a frame may have made.
        const answers = () => rpc.messages.filter((m) => !(isObject(m) && Object.hasOwn(m, 'method')));
        const count = expected.filter((e) => !('none' in e)).length;
        // A session.wait of db with no timeoutMs waits up to its default 30 s, when an earlier run disabled db.
        await rpc.until(() => answers().length >= count, `${count} answers`, 40_000);
        // Anything still to come for these frames would arrive before the answer to a call sent after them.
        rpc.send(JSON.stringify({ jsonrpc: '2.0', method: 'daemon.status', id: SENTINEL }));
        await rpc.until(() => answers().some((a) => isObject(a) && a.id === SENTINEL), 'the daemon.status sent after the frames');

        const got = answers().filter((a) => !(isObject(a) && a.id === SENTINEL));
        const want = expected.flatMap((e) => ('single' in e ? [{ batch: false, items: [e.single] }] : 'batch' in e ? [{ batch: true, items: e.batch }] : []));
        const gotKeys = got.map((a, i) => {
          const batch = Array.isArray(a);
          if (batch) assert.ok(a.length > 0, `answer ${i}: an empty array`);
          const items = (batch ? a : [a]).map((x) => shaped(x, `answer ${i}`));
          return { key: key(items.map((x) => x.id), batch), items };
        });
        assert.deepEqual(counted(gotKeys.map((g) => g.key)), counted(want.map((w) => key(w.items.map((x) => x.id), w.batch))), `answers ${JSON.stringify(got).slice(0, 2_000)}`);
        // Where an id stands for one answer only, its error code is the one the spec gives.
        const all = (list: { items: { id: string; code: number | null }[] }[]) => list.flatMap((l) => l.items);
        const unique = [...counted(all(want).map((w) => w.id))].filter(([, n]) => n === 1).map(([id]) => id);
        for (const id of unique) {
          const w = all(want).find((x) => x.id === id)!;
          if (w.code !== null) assert.equal(all(gotKeys).find((x) => x.id === id)?.code, w.code, `the answer with id ${id}`);
        }
      } finally {
        await rpc.close();
      }
    },
    { numRuns: 60, timeLimitMs: 30_000 },
  );

  // The daemon is alive, and its forward still carries bytes.
  const client = await demo.k.rpc();
  try {
    const status = await client.call('daemon.status', {});
    assert.equal(status.pid, demo.k.child!.pid);
    // A message may have been a well-formed session.disable of db: doing what it asked is no failure.
    await client.call('session.enable', { name: 'db' });
    await client.call('session.wait', { name: 'db', timeoutMs: 10_000 });
    const db = await client.call('session.get', { name: 'db' });
    assert.equal(await echo(db.listeners[0]!.port, 'still forwarding'), 'still forwarding');
  } finally {
    await client.close();
  }
});

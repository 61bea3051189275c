/**
 * What a SPDY server may send, fuzzed: the pure FrameReader on arbitrary and mutated bytes, and the client
 * SpdySession with port-forward connections open on it, fed valid SYN_REPLY / DATA / RST_STREAM / PING / GOAWAY /
 * SETTINGS frames mixed with arbitrary control frames and garbage, split at random points. Nothing throws; every
 * connection ends, cleanly or with a KportError; the session stays usable or closes with one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KportError } from '../../daemon/api/errors.js';
import {
  dataHeader,
  FrameError,
  FrameReader,
  goAway,
  headersFrame,
  ping,
  rstStream,
  settings,
  SPDY_VERSION,
  synReply,
  synStream,
  windowUpdate,
  type Frame,
} from '../../daemon/kube/transport/spdy/framer.js';
import { HeaderDecoder, HeaderEncoder, type Headers } from '../../daemon/kube/transport/spdy/headers.js';
import { PortForwardStream } from '../../daemon/kube/transport/spdy/portforward.js';
import { assertClearError, fuzz } from '../helpers/fuzz.js';
import { outcome } from '../helpers/pod-stream.js';
import { scripted } from '../helpers/spdy-peer.js';

/** One thing the server sends: a frame kport knows, any control frame (well delimited), or raw bytes. */
type ServerFrame =
  | { type: 'syn_reply' | 'headers' | 'syn_stream'; streamId: number; fin: boolean; headers: Headers }
  | { type: 'data'; streamId: number; fin: boolean; payload: Uint8Array }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGood: number; status: number }
  | { type: 'settings'; entries: { id: number; value: number; flags: number }[] }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'control'; frameType: number; flags: number; payload: Uint8Array }
  | { type: 'garbage'; bytes: Uint8Array };

/** Connections opened on the session: pair k has error stream 4k+1 and data stream 4k+3. */
const MAX_PAIRS = 3;
const errorId = (k: number) => 4 * k + 1;
const dataId = (k: number) => 4 * k + 3;

const u32 = fc.nat({ max: 0xffffffff });
const streamIdArb = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 2 * MAX_PAIRS }).map((i) => 2 * i + 1) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 0x7fffffff }) },
);
const headersArb = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.string({ maxLength: 16 }), { maxKeys: 3 });
const payloadArb = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .constantFrom('', ' \n', 'error forwarding port 80 to pod x, uid : connection refused', '{"message":"lost"}', '{"message":" "}', '{"message":7}', '{"closeConnection":true}', 'null', '\u00e9')
    .map((s) => new Uint8Array(Buffer.from(s))),
);

const knownFrameArb: fc.Arbitrary<ServerFrame> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constantFrom('syn_reply' as const, 'headers' as const), streamId: streamIdArb, fin: fc.boolean(), headers: headersArb }) },
  { weight: 6, arbitrary: fc.record({ type: fc.constant('data' as const), streamId: streamIdArb, fin: fc.boolean(), payload: payloadArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('rst_stream' as const), streamId: streamIdArb, status: fc.integer({ min: 1, max: 0xffffffff }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('syn_stream' as const), streamId: fc.integer({ min: 1, max: 0x7fffffff }), fin: fc.boolean(), headers: headersArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('ping' as const), id: u32 }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('goaway' as const), lastGood: fc.oneof(fc.constant(0), streamIdArb), status: u32 }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('settings' as const),
      entries: fc.array(fc.record({ id: fc.oneof(fc.constant(4), fc.nat({ max: 0xffffff })), value: u32, flags: fc.nat({ max: 0xff }) }), { maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('window_update' as const), streamId: streamIdArb, delta: fc.nat({ max: 0x7fffffff }) }) },
);

const brokenFrameArb: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({ type: fc.constant('control' as const), frameType: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.nat({ max: 0xffff })), flags: fc.nat({ max: 0xff }), payload: fc.uint8Array({ maxLength: 48 }) }),
  fc.record({ type: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
);

/** Well-formed frames only, or with broken ones mixed in. */
const framesArb = fc.oneof(fc.array(knownFrameArb, { maxLength: 24 }), fc.array(fc.oneof({ weight: 4, arbitrary: knownFrameArb }, { weight: 1, arbitrary: brokenFrameArb }), { maxLength: 24 }));

/** Frames to bytes, header blocks compressed in order by one encoder (the server's side of the connection). */
function encode(frames: readonly ServerFrame[], enc: HeaderEncoder): Buffer {
  return Buffer.concat(
    frames.map((f) => {
      switch (f.type) {
        case 'syn_reply':
          return synReply(f.streamId, enc.encode(f.headers), f.fin);
        case 'headers':
          return headersFrame(f.streamId, enc.encode(f.headers), f.fin);
        case 'syn_stream':
          return synStream(f.streamId, enc.encode(f.headers), { fin: f.fin });
        case 'data':
          return Buffer.concat([dataHeader(f.streamId, f.payload.length, f.fin), f.payload]);
        case 'rst_stream':
          return rstStream(f.streamId, f.status);
        case 'ping':
          return ping(f.id);
        case 'goaway':
          return goAway(f.lastGood, f.status);
        case 'settings':
          return settings(f.entries);
        case 'window_update':
          return windowUpdate(f.streamId, f.delta);
        case 'control': {
          const head = Buffer.alloc(8);
          head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
          head.writeUInt16BE(f.frameType, 2);
          head.writeUInt32BE(f.flags * 0x1000000 + f.payload.length, 4);
          return Buffer.concat([head, f.payload]);
        }
        case 'garbage':
          return Buffer.from(f.bytes);
      }
    }),
  );
}

/** `bytes` cut at `cuts` (positions taken modulo its length). */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  if (bytes.length === 0) return [];
  const at = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
  return [0, ...at].map((from, i) => bytes.subarray(from, [...at, bytes.length][i])).filter((b) => b.length > 0);
}

/** Frames as a comparable list: consecutive DATA pieces of one frame merged (chunking decides where they split). */
function merged(frames: Frame[]): Frame[] {
  const out: Frame[] = [];
  for (const f of frames) {
    const last = out.at(-1);
    if (f.type === 'data' && last?.type === 'data' && last.streamId === f.streamId && !last.fin) out[out.length - 1] = { ...f, data: Buffer.concat([last.data, f.data]) };
    else out.push(f);
  }
  return out;
}

/** Every frame `chunks` decode to, and the error that stopped decoding (only FrameErrors are caught). */
function decodeAll(chunks: readonly Buffer[]): { frames: Frame[]; error: string | null } {
  const reader = new FrameReader(new HeaderDecoder());
  const frames: Frame[] = [];
  try {
    for (const chunk of chunks) {
      reader.push(chunk);
      for (let f = reader.next(); f; f = reader.next()) frames.push(f);
    }
  } catch (err) {
    if (!(err instanceof FrameError)) throw err;
    return { frames: merged(frames), error: err.message };
  }
  return { frames: merged(frames), error: null };
}

/** Mutations of encoded frames: a byte flipped, bytes cut out or put in, the end cut off. */
type ByteEdit = { flip: number; bits: number } | { cut: number; count: number } | { put: number; bytes: Uint8Array } | { truncate: number };
const byteEditArb: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ flip: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ cut: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ put: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ truncate: fc.nat() }),
);

function edit(bytes: Buffer, e: ByteEdit): Buffer {
  if (bytes.length === 0) return 'put' in e ? Buffer.from(e.bytes) : bytes;
  if ('flip' in e) {
    const out = Buffer.from(bytes);
    out[e.flip % out.length]! ^= e.bits;
    return out;
  }
  if ('cut' in e) return Buffer.concat([bytes.subarray(0, e.cut % bytes.length), bytes.subarray((e.cut % bytes.length) + e.count)]);
  if ('put' in e) return Buffer.concat([bytes.subarray(0, e.put % bytes.length), e.bytes, bytes.subarray(e.put % bytes.length)]);
  return bytes.subarray(0, e.truncate % bytes.length);
}

test('FrameReader: arbitrary and mutated bytes, in any chunks, give the same frames or the same FrameError, never another error', async (t) => {
  const bytesArb = fc.oneof(
    fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
    fc.tuple(framesArb, fc.array(byteEditArb, { maxLength: 4 })).map(([frames, edits]) => edits.reduce(edit, encode(frames, new HeaderEncoder()))),
  );
  await fuzz(
    t,
    fc.record({ bytes: bytesArb, cuts: fc.array(fc.nat(), { maxLength: 12 }) }),
    ({ bytes, cuts }) => {
      const whole = decodeAll([bytes]);
      const chunked = decodeAll(split(bytes, cuts));
      assert.deepEqual(chunked, whole);
    },
    { numRuns: 1_000, timeLimitMs: 10_000 },
  );
});

/**
 * The DATA each connection can have received, and whether its error stream carried text, from the well-formed
 * frames alone: payloads on its data stream until a FIN (on DATA, SYN_REPLY or HEADERS) or a reset there.
 */
function expected(frames: readonly ServerFrame[], pairs: number): { data: Buffer; errorText: string }[] {
  const finished = new Set<number>();
  const data = new Map<number, Buffer[]>();
  for (const f of frames) {
    if (!('streamId' in f) || finished.has(f.streamId)) continue;
    if (f.type === 'data') data.set(f.streamId, [...(data.get(f.streamId) ?? []), Buffer.from(f.payload)]);
    if (f.type === 'rst_stream' || ((f.type === 'data' || f.type === 'syn_reply' || f.type === 'headers') && f.fin)) finished.add(f.streamId);
  }
  return Array.from({ length: pairs }, (_, k) => ({
    data: Buffer.concat(data.get(dataId(k)) ?? []),
    errorText: Buffer.concat(data.get(errorId(k)) ?? []).toString('utf8'),
  }));
}

/** Lets every pending callback of the in-memory streams run (they settle in process.nextTick, before this). */
const drained = () => new Promise<void>((resolve) => setImmediate(resolve));

test('SpdySession: server frames, well-formed or not and split anywhere, end every connection cleanly or with a KportError', async (t) => {
  const arb = fc.record({
    pairs: fc.integer({ min: 1, max: MAX_PAIRS }),
    frames: framesArb,
    cuts: fc.array(fc.nat(), { maxLength: 12 }),
    finish: fc.constantFrom('destroy' as const, 'server-ends' as const, 'close-then-server-ends' as const),
  });
  await fuzz(
    t,
    arb,
    async ({ pairs, frames, cuts, finish }) => {
      const { session, peer } = scripted();
      let closed: { err: KportError | null } | null = null;
      let wentAway = false;
      session.once('close', (err: KportError | null) => (closed = { err }));
      session.once('goaway', () => (wentAway = true));
      const conns = Array.from({ length: pairs }, (_, k) => {
        const stream = new PortForwardStream(session, 80, k);
        const received: Buffer[] = [];
        stream.on('data', (c: Buffer) => received.push(c));
        const conn = { stream, received, ended: null as string | KportError | null };
        void outcome(stream).then((o) => (conn.ended = o));
        return conn;
      });
      const enc = new HeaderEncoder();
      await drained();
      for (const chunk of split(encode(frames, enc), cuts)) peer.send(chunk);
      await drained();
      assert.deepEqual(peer.thrown, [], 'the session threw while reading');

      const wellFormed = frames.every((f) => f.type !== 'control' && f.type !== 'garbage');
      if (closed !== null) {
        // Only a GOAWAY lets a session close without an error, once its streams are done.
        const { err } = closed as { err: KportError | null };
        if (err === null) assert.ok(wentAway, 'the session closed without an error, and without a GOAWAY');
        else assertClearError(err, 'the session closed');
      } else if (wellFormed && session.accepts(2)) {
        // Still open and taking streams: a new connection works end to end.
        const probe = new PortForwardStream(session, 80, pairs);
        const got: Buffer[] = [];
        probe.on('data', (c: Buffer) => got.push(c));
        const done = outcome(probe);
        const [e, d] = [errorId(pairs), dataId(pairs)];
        peer.send(Buffer.concat([synReply(e, enc.encode({})), synReply(d, enc.encode({})), dataHeader(d, 2), Buffer.from('ok'), dataHeader(e, 0, true), dataHeader(d, 0, true)]));
        assert.equal(await done, 'end', 'a new connection on a session that stayed open did not end cleanly');
        assert.equal(Buffer.concat(got).toString(), 'ok');
      }

      if (finish === 'destroy') session.destroy(new KportError('SHUTTING_DOWN', 'the fuzz run is over'));
      else {
        if (finish === 'close-then-server-ends') session.close();
        peer.end();
      }
      await drained();
      assert.deepEqual(peer.thrown, [], 'the session threw while closing');
      const model = wellFormed ? expected(frames, pairs) : null;
      for (const [k, conn] of conns.entries()) {
        assert.notEqual(conn.ended, null, `connection ${k} never ended`);
        if (conn.ended !== 'end') assertClearError(conn.ended, `connection ${k}`);
        if (!model) continue;
        const got = Buffer.concat(conn.received);
        const want = model[k]!;
        if (conn.ended === 'end') {
          assert.deepEqual(got, want.data, `connection ${k} ended cleanly with other data than was sent`);
          assert.equal(want.errorText.trim(), '', `connection ${k} ended cleanly though its error stream carried text`);
        } else {
          assert.deepEqual(got, want.data.subarray(0, got.length), `connection ${k} received other data than was sent`);
        }
      }
    },
    { numRuns: 300, timeLimitMs: 15_000 },
  );
});

/** The SPDY/3.1 framer and header codec: round trips, splits at every byte, and malformed input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { HEADER_DICTIONARY } from '../../daemon/kube/transport/spdy/dictionary.js';
import {
  dataHeader,
  FrameError,
  FrameReader,
  goAway,
  ping,
  rstStream,
  settings,
  synReply,
  synStream,
  windowUpdate,
  type Frame,
} from '../../daemon/kube/transport/spdy/framer.js';
import { HeaderDecoder, HeaderEncoder, MAX_HEADER_BLOCK } from '../../daemon/kube/transport/spdy/headers.js';

/** Decodes `bytes` fed in pieces of `step` bytes; consecutive DATA of one stream is joined up to its FIN. */
function decode(bytes: Buffer, step = bytes.length, decoder = new HeaderDecoder()): Frame[] {
  const reader = new FrameReader(decoder);
  const frames: Frame[] = [];
  for (let at = 0; at < bytes.length; at += step) {
    reader.push(bytes.subarray(at, at + step));
    for (let f = reader.next(); f; f = reader.next()) {
      const last = frames.at(-1);
      if (f.type === 'data' && last?.type === 'data' && last.streamId === f.streamId && !last.fin) {
        last.data = Buffer.concat([last.data, f.data]);
        last.fin = f.fin;
      } else frames.push(f.type === 'data' ? { ...f } : f);
    }
  }
  return frames;
}

describe('SPDY header blocks', () => {
  it('the dictionary has the 1,423 bytes of the SPDY/3 draft', () => {
    assert.equal(HEADER_DICTIONARY.length, 1423);
    // Its first word is "options", its last bytes "enq=0.".
    assert.equal(Buffer.from(HEADER_DICTIONARY.subarray(4, 11)).toString(), 'options');
    assert.equal(Buffer.from(HEADER_DICTIONARY.subarray(-6)).toString(), 'enq=0.');
  });

  it('round-trips blocks that share one zlib stream, in order', () => {
    const enc = new HeaderEncoder();
    const dec = new HeaderDecoder();
    for (let i = 0; i < 50; i++) {
      const h = { streamtype: i % 2 ? 'data' : 'error', port: String(8000 + i), requestid: String(i) };
      assert.deepEqual({ ...dec.decode(enc.encode(h)) }, h);
    }
  });

  it('lowercases names on the way out', () => {
    const h = new HeaderDecoder().decode(new HeaderEncoder().encode({ StreamType: 'data' }));
    assert.deepEqual({ ...h }, { streamtype: 'data' });
  });

  it('decodes blocks compressed by another zlib (as kubectl sends them)', () => {
    const raw = Buffer.from('\0\0\0\x01\0\0\0\x04port\0\0\0\x0280', 'latin1');
    const block = deflateSync(raw, { dictionary: HEADER_DICTIONARY, finishFlush: 2 });
    assert.deepEqual({ ...new HeaderDecoder().decode(block) }, { port: '80' });
  });

  const bad: [string, Buffer][] = [
    ['garbage', Buffer.from('this is not zlib at all')],
    ['a count larger than the block', zblock(Buffer.from([0, 0, 1, 0]))],
    ['a name overrunning the block', zblock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 0x61]))],
    ['stray bytes', zblock(Buffer.from([0, 0, 0, 0, 1, 2]))],
    ['an upper-case name', zblock(Buffer.from('\0\0\0\x01\0\0\0\x04Port\0\0\0\x0180', 'latin1'))],
    ['a duplicate name', zblock(Buffer.from('\0\0\0\x02\0\0\0\x01a\0\0\0\x011\0\0\0\x01a\0\0\0\x012', 'latin1'))],
    ['a block that inflates too far', zblock(Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0x61]), u32(MAX_HEADER_BLOCK), Buffer.alloc(MAX_HEADER_BLOCK)]))],
  ];
  for (const [what, block] of bad) {
    it(`refuses ${what}, and stays refused`, () => {
      const dec = new HeaderDecoder();
      assert.throws(() => dec.decode(block), /./);
      assert.throws(() => dec.decode(new HeaderEncoder().encode({ a: 'b' })), /./);
    });
  }
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function zblock(raw: Buffer): Buffer {
  return deflateSync(raw, { dictionary: HEADER_DICTIONARY, finishFlush: 2 });
}

describe('SPDY frames', () => {
  const enc = new HeaderEncoder();
  const payload = Buffer.from('hello, pod');
  const wire = Buffer.concat([
    synStream(1, enc.encode({ streamtype: 'error', port: '80', requestid: '0' }), { priority: 2 }),
    dataHeader(1, 0, true),
    synStream(3, enc.encode({ streamtype: 'data', port: '80', requestid: '0' })),
    synReply(3, enc.encode({})),
    dataHeader(3, payload.length),
    payload,
    dataHeader(3, 3, true),
    Buffer.from('end'),
    rstStream(5, 5),
    settings([{ id: 4, value: 100 }]),
    ping(7),
    windowUpdate(3, 1000),
    goAway(2, 0),
  ]);
  const expected = (frames: Frame[]) => {
    assert.deepEqual(
      frames.map((f) => f.type),
      ['syn_stream', 'data', 'syn_stream', 'syn_reply', 'data', 'rst_stream', 'settings', 'ping', 'window_update', 'goaway'],
    );
    type F<T extends Frame['type']> = Extract<Frame, { type: T }>;
    const [err, fin, data, , d, rst, set, p, wu, ga] = frames as [F<'syn_stream'>, F<'data'>, F<'syn_stream'>, Frame, F<'data'>, F<'rst_stream'>, F<'settings'>, F<'ping'>, F<'window_update'>, F<'goaway'>];
    assert.deepEqual({ ...err.headers }, { streamtype: 'error', port: '80', requestid: '0' });
    assert.equal(err.priority, 2);
    assert.deepEqual([fin.streamId, fin.fin, fin.data.length], [1, true, 0]);
    assert.equal(data.headers.streamtype, 'data');
    assert.deepEqual([d.data.toString(), d.fin], ['hello, podend', true]);
    assert.deepEqual([rst.streamId, rst.status], [5, 5]);
    assert.deepEqual(set.settings, [{ flags: 0, id: 4, value: 100 }]);
    assert.equal(p.id, 7);
    assert.deepEqual([wu.streamId, wu.delta], [3, 1000]);
    assert.deepEqual([ga.lastGoodStreamId, ga.status], [2, 0]);
  };

  it('decodes a whole exchange at once', () => expected(decode(wire)));

  it('decodes the same exchange split at every byte', () => expected(decode(wire, 1)));

  it('hands a DATA payload on as pieces, without waiting for the whole frame', () => {
    const reader = new FrameReader(new HeaderDecoder());
    reader.push(Buffer.concat([dataHeader(9, 10, true), Buffer.from('abcd')]));
    const first = reader.next();
    assert.deepEqual(first && first.type === 'data' && [first.data.toString(), first.fin], ['abcd', false]);
    assert.equal(reader.next(), null);
    reader.push(Buffer.from('efghij'));
    const second = reader.next();
    assert.deepEqual(second && second.type === 'data' && [second.data.toString(), second.fin], ['efghij', true]);
  });

  it('ignores control frames of unknown types', () => {
    const unknown = Buffer.from([0x80, 3, 0, 0x42, 0, 0, 0, 2, 1, 2]);
    assert.deepEqual(decode(Buffer.concat([unknown, ping(1)])).map((f) => f.type), ['unknown', 'ping']);
  });

  const malformed: [string, Buffer][] = [
    ['another SPDY version', Buffer.from([0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])],
    ['a PING of the wrong length', Buffer.from([0x80, 3, 0, 6, 0, 0, 0, 3, 0, 0, 1])],
    ['a GOAWAY of the wrong length', Buffer.from([0x80, 3, 0, 7, 0, 0, 0, 4, 0, 0, 0, 1])],
    ['a RST_STREAM with status 0', Buffer.from([0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['a RST_STREAM on stream 0', Buffer.from([0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5])],
    ['a SETTINGS whose count lies', Buffer.from([0x80, 3, 0, 4, 0, 0, 0, 4, 0, 0, 0, 9])],
    ['a SYN_REPLY too short for its stream id', Buffer.from([0x80, 3, 0, 2, 0, 0, 0, 2, 0, 0])],
    ['a SYN_STREAM with a corrupt header block', Buffer.concat([Buffer.from([0x80, 3, 0, 1, 0, 0, 0, 20]), Buffer.alloc(10), Buffer.from('0123456789')])],
    ['a control frame claiming 16 MB', Buffer.from([0x80, 3, 0, 2, 0, 0xff, 0xff, 0xff])],
    ['DATA on stream 0', Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0x61])],
  ];
  for (const [what, bytes] of malformed) {
    it(`throws a FrameError for ${what}`, () => {
      assert.throws(() => decode(bytes), (err: unknown) => err instanceof FrameError && err.message.length > 0);
    });
  }

  it('survives random bytes with a FrameError or a wait for more, never anything else', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    for (let round = 0; round < 2000; round++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (rand() % 64) }, rand));
      if (round % 2) bytes[0]! |= 0x80;
      if (round % 4 === 1) bytes[1] = 3;
      try {
        decode(bytes, 1 + (round % 7));
      } catch (err) {
        assert.ok(err instanceof FrameError, `round ${round}: ${String(err)}`);
      }
    }
  });
});

/** kportctl's WebSocket framer: client frames as RFC 6455 says, server frames read however they are split, protocol errors named. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { closePayload, encodeFrame, FrameError, FrameReader, OPCODE, type ServerEvent } from '../../client/websocket/frames.js';
import { fuzz } from '../helpers/fuzz.js';

/** A server frame: unmasked, with the shortest length encoding unless `long` forces the 64-bit one. */
function serverFrame(opcode: number, payload: Buffer, { fin = true, rsv = 0, long = false } = {}): Buffer {
  const n = payload.length;
  const size = long || n >= 0x10000 ? 8 : n >= 126 ? 2 : 0;
  const head = Buffer.alloc(2 + size);
  head[0] = (fin ? 0x80 : 0) | rsv | opcode;
  head[1] = size === 0 ? n : size === 2 ? 126 : 127;
  if (size === 2) head.writeUInt16BE(n, 2);
  if (size === 8) head.writeBigUInt64BE(BigInt(n), 2);
  return Buffer.concat([head, payload]);
}

const text = (s: string) => Buffer.from(s, 'utf8');
const read = (bytes: Buffer, max = 1 << 20) => new FrameReader(max).push(bytes);
const messages = (events: ServerEvent[]) => events.flatMap((e) => (e.kind === 'message' ? [e.data.toString('utf8')] : []));

/** Asserts that reading `bytes` fails with close code `code`. */
function refused(bytes: Buffer, code: number, max?: number): void {
  assert.throws(() => read(bytes, max), (err: unknown) => err instanceof FrameError && err.closeCode === code);
}

describe('client frames', () => {
  for (const n of [0, 125, 126, 0xffff, 0x10000]) {
    test(`a ${n}-byte payload is masked, final, and carries its length in the shortest form`, () => {
      const payload = Buffer.alloc(n, 0x61);
      const mask = Buffer.from([1, 2, 3, 4]);
      const f = encodeFrame(OPCODE.TEXT, payload, mask);
      assert.equal(f[0], 0x81);
      assert.equal(f[1]! & 0x80, 0x80, 'masked');
      const [size, length] = n < 126 ? [2, f[1]! & 0x7f] : n < 0x10000 ? [4, f.readUInt16BE(2)] : [10, Number(f.readBigUInt64BE(2))];
      assert.equal(length, n);
      assert.deepEqual(f.subarray(size, size + 4), mask);
      const unmasked = Buffer.from(f.subarray(size + 4).map((b, i) => b ^ mask[i & 3]!));
      assert.deepEqual(unmasked, payload);
    });
  }

  test('a close payload is the code then the reason', () => {
    assert.deepEqual(closePayload(1000, 'bye'), Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]));
  });
});

describe('reading server frames', () => {
  test('text messages of every length encoding, one after another in one chunk', () => {
    const bodies = ['', 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(70_000)];
    const bytes = Buffer.concat([...bodies.map((b) => serverFrame(OPCODE.TEXT, text(b))), serverFrame(OPCODE.TEXT, text('long form'), { long: true })]);
    assert.deepEqual(messages(read(bytes)), [...bodies, 'long form']);
  });

  test('a fragmented message is joined, with pings between its fragments answered on the way', () => {
    const bytes = Buffer.concat([
      serverFrame(OPCODE.TEXT, text('{"a":'), { fin: false }),
      serverFrame(OPCODE.PING, text('p')),
      serverFrame(OPCODE.CONTINUATION, text('1'), { fin: false }),
      serverFrame(OPCODE.CONTINUATION, text('}')),
    ]);
    const events = read(bytes);
    assert.deepEqual(events.map((e) => e.kind), ['ping', 'message']);
    assert.deepEqual(messages(events), ['{"a":1}']);
  });

  test('close frames give their code and reason; an empty one is 1005', () => {
    assert.deepEqual(read(serverFrame(OPCODE.CLOSE, closePayload(1001, 'going away'))), [{ kind: 'close', code: 1001, reason: 'going away' }]);
    assert.deepEqual(read(serverFrame(OPCODE.CLOSE, Buffer.alloc(0))), [{ kind: 'close', code: 1005, reason: '' }]);
  });

  test('nothing is returned until a frame is whole', () => {
    const reader = new FrameReader(1 << 20);
    const frame = serverFrame(OPCODE.TEXT, text('hello'));
    assert.deepEqual(reader.push(frame.subarray(0, 1)), []);
    assert.deepEqual(reader.push(frame.subarray(1, 4)), []);
    assert.deepEqual(messages(reader.push(frame.subarray(4))), ['hello']);
  });

  test('protocol errors are FrameErrors with the close code RFC 6455 calls for', () => {
    refused(Buffer.concat([Buffer.from([0x81, 0x85]), Buffer.alloc(4), text('hello')]), 1002); // masked by the server
    refused(serverFrame(OPCODE.TEXT, text('x'), { rsv: 0x40 }), 1002);
    refused(serverFrame(0x3, text('x')), 1002); // reserved opcode
    refused(serverFrame(OPCODE.PING, text('x'), { fin: false }), 1002);
    refused(serverFrame(OPCODE.PING, Buffer.alloc(126)), 1002);
    refused(serverFrame(OPCODE.CONTINUATION, text('x')), 1002);
    refused(Buffer.concat([serverFrame(OPCODE.TEXT, text('a'), { fin: false }), serverFrame(OPCODE.TEXT, text('b'))]), 1002);
    refused(serverFrame(OPCODE.CLOSE, Buffer.from([0x03])), 1002);
    refused(serverFrame(OPCODE.TEXT, Buffer.from([0xff, 0xfe])), 1007);
    refused(serverFrame(OPCODE.CLOSE, Buffer.from([0x03, 0xe8, 0xff])), 1007);
  });

  test('a message over the limit is refused (1009) from its header, before its bytes are kept', () => {
    const head = Buffer.from([0x81, 127, 0, 0, 0, 1, 0, 0, 0, 0]); // 2^32 bytes announced
    refused(head, 1009, 1 << 20);
    refused(Buffer.concat([serverFrame(OPCODE.TEXT, Buffer.alloc(600), { fin: false }), serverFrame(OPCODE.CONTINUATION, Buffer.alloc(600))]), 1009, 1000);
  });

  test('however the bytes are split, the events are the same', async (t) => {
    const frames = fc.array(
      fc.oneof(
        fc.string({ maxLength: 300 }).map((s) => ({ frames: [serverFrame(OPCODE.TEXT, text(s))], message: s })),
        fc.array(fc.string({ maxLength: 50 }), { minLength: 2, maxLength: 4 }).map((parts) => ({
          frames: parts.map((p, i) => serverFrame(i === 0 ? OPCODE.TEXT : OPCODE.CONTINUATION, text(p), { fin: i === parts.length - 1 })),
          message: parts.join(''),
        })),
      ),
      { maxLength: 8 },
    );
    await fuzz(
      t,
      fc.tuple(frames, fc.array(fc.nat(), { maxLength: 20 })),
      ([ms, cuts]) => {
        const bytes = Buffer.concat(ms.flatMap((m) => m.frames));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const reader = new FrameReader(1 << 20);
        const got: ServerEvent[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) {
          got.push(...reader.push(bytes.subarray(from, p)));
          from = p;
        }
        assert.deepEqual(messages(got), ms.map((m) => m.message));
      },
      { numRuns: 300, timeLimitMs: 5_000 },
    );
  });
});

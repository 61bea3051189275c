/**
 * What a v4.channel.k8s.io server may send, fuzzed: the pure ChannelReader on arbitrary messages, and a
 * ChannelStream on a real WebSocket fed arbitrary and near-valid messages (right, wrong, split and missing port
 * prefixes, unknown channels, empty, text and binary messages) and then closed or cut. Only clear errors come out.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { ChannelProtocolError, ChannelReader } from '../../daemon/kube/transport/websocket/channel.js';
import { ChannelStream } from '../../daemon/kube/transport/websocket/stream.js';
import { assertClearError, fuzz, settles } from '../helpers/fuzz.js';
import { outcome } from '../helpers/pod-stream.js';
import { V4Peer, type V4Script } from '../helpers/v4-peer.js';

/** One server message: a channel byte, maybe a port prefix (the right one, a wrong one, half of it), a payload. */
interface Message {
  /** null: the empty message (no channel byte). */
  channel: number | null;
  prefix: 'port' | 'wrong' | 'low-byte' | 'none';
  payload: Uint8Array;
  binary: boolean;
}

const messageArb: fc.Arbitrary<Message> = fc.record({
  channel: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(0, 1) }, { weight: 2, arbitrary: fc.nat({ max: 255 }) }, { weight: 1, arbitrary: fc.constant(null) }),
  prefix: fc.constantFrom('port' as const, 'port' as const, 'wrong' as const, 'low-byte' as const, 'none' as const),
  payload: fc.oneof(fc.uint8Array({ maxLength: 48 }), fc.constantFrom('', ' ', '\n', 'error: connection refused').map((s) => new Uint8Array(Buffer.from(s)))),
  binary: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

function bytesOf(m: Message, port: number): Buffer {
  if (m.channel === null) return Buffer.alloc(0);
  const prefix = { port: [port & 0xff, port >> 8], wrong: [(port + 1) & 0xff, ((port + 1) >> 8) & 0xff], 'low-byte': [port & 0xff], none: [] }[m.prefix];
  return Buffer.from([m.channel, ...prefix, ...m.payload]);
}

test('ChannelReader: arbitrary messages are decoded or refused with a ChannelProtocolError, nothing else', async (t) => {
  const arb = fc.record({
    ports: fc.array(fc.integer({ min: 1, max: 65_535 }), { minLength: 1, maxLength: 3 }),
    messages: fc.array(fc.oneof(messageArb.map((m) => ({ m })), fc.uint8Array({ maxLength: 8 }).map((raw) => ({ raw }))), { maxLength: 16 }),
  });
  await fuzz(
    t,
    arb,
    ({ ports, messages }) => {
      const reader = new ChannelReader(ports);
      for (const item of messages) {
        const message = 'raw' in item ? Buffer.from(item.raw) : bytesOf(item.m, ports[0]!);
        try {
          const decoded = reader.read(message);
          if (decoded === null) continue;
          assert.ok(decoded.index < ports.length);
          assert.equal(decoded.kind, message[0]! % 2 === 0 ? 'data' : 'error');
          assert.deepEqual(decoded.payload, message.subarray(message.length - decoded.payload.length));
        } catch (err) {
          assert.ok(err instanceof ChannelProtocolError, `not a ChannelProtocolError: ${String(err)}`);
          assert.notEqual(err.message, '');
        }
      }
    },
    { numRuns: 1_000, timeLimitMs: 5_000 },
  );
});

/** How the server ends: a close handshake (with some code), or a cut without one. */
type Finish = { close: number | null } | { cut: true };
const finishArb: fc.Arbitrary<Finish> = fc.oneof(
  fc.record({ close: fc.oneof(fc.constantFrom(1000, 1001, 1011, null), fc.integer({ min: 4000, max: 4999 })) }),
  fc.constant({ cut: true as const }),
);

interface Script {
  port: number;
  messages: Message[];
  finish: Finish;
  /** The local side writes and ends before the server is done (v4 has no half-close: the drain timer runs). */
  localEnd: boolean;
}

let peer: V4Peer;
before(async () => (peer = await V4Peer.start()));
after(() => peer.close());

/** The server's side: every message, then a close (with the code) or a cut. */
function play(s: Script): V4Script {
  return (server) => {
    for (const m of s.messages) server.send(bytesOf(m, s.port), { binary: m.binary });
    if ('cut' in s.finish) server.terminate();
    else if (s.finish.close === null) server.close();
    else server.close(s.finish.close);
  };
}

test('ChannelStream: whatever the server sends, the stream ends cleanly or with a STREAM_ERROR that says why', async (t) => {
  const arb = fc.record({ port: fc.integer({ min: 1, max: 65_535 }), messages: fc.array(messageArb, { maxLength: 12 }), finish: finishArb, localEnd: fc.boolean() });
  await fuzz(
    t,
    arb,
    async (s: Script) => {
      const ws = await peer.dial(play(s));
      const closed = new Promise((resolve) => ws.once('close', resolve));
      const stream = new ChannelStream(ws, s.port, 20);
      const received: Buffer[] = [];
      stream.on('data', (c: Buffer) => received.push(c));
      const ended = outcome(stream);
      if (s.localEnd) stream.end('hi');
      const how = await settles(ended, 'the stream never ended');
      stream.destroy();
      await settles(closed, 'the WebSocket never closed');

      if (how !== 'end') {
        assertClearError(how, 'the stream');
        assert.equal(how.code, 'STREAM_ERROR');
      }
      // What came through is the data channel's bytes as sent, less the port prefix: all of them after a clean close.
      const sent = Buffer.concat(s.messages.filter((m) => m.channel === 0).map((m) => bytesOf(m, s.port).subarray(1))).subarray(2);
      const got = Buffer.concat(received);
      const whole = how === 'end' && 'close' in s.finish && !s.localEnd;
      assert.deepEqual(got, whole ? sent : sent.subarray(0, got.length));
    },
    { numRuns: 150, timeLimitMs: 15_000 },
  );
});

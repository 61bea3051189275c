/**
 * The client session against a scripted peer (a socket pair in memory): frames the server may send,
 * well-formed or not, end in a clear error on the streams they touch, never in a crash.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { KportError } from '../../daemon/api/errors.js';
import { dataHeader, goAway, headersFrame, ping, rstStream, synReply, synStream } from '../../daemon/kube/transport/spdy/framer.js';
import { HeaderEncoder } from '../../daemon/kube/transport/spdy/headers.js';
import { PortForwardStream, STREAM_BUFFER_MAX } from '../../daemon/kube/transport/spdy/portforward.js';
import { SpdySession } from '../../daemon/kube/transport/spdy/session.js';
import { outcome } from '../helpers/pod-stream.js';
import { scripted } from '../helpers/spdy-peer.js';
import { waitUntil } from '../helpers/wait.js';

describe('SPDY client session', () => {
  const enc = new HeaderEncoder();

  test('data, FIN on both streams: the connection ends cleanly', async () => {
    const { session, peer } = scripted();
    const s = new PortForwardStream(session, 80, 0); // error stream 1, data stream 3
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const done = outcome(s);
    peer.send(Buffer.concat([synReply(1, enc.encode({})), synReply(3, enc.encode({})), dataHeader(3, 5), Buffer.from('hello'), dataHeader(1, 0, true), dataHeader(3, 0, true)]));
    assert.equal(await done, 'end');
    assert.equal(Buffer.concat(chunks).toString(), 'hello');
    session.destroy(new KportError('SHUTTING_DOWN', 'test over'));
  });

  test('a HEADERS frame with FIN ends its stream as a DATA frame with FIN does', async () => {
    const { session, peer } = scripted();
    const s = new PortForwardStream(session, 80, 0); // error stream 1, data stream 3
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const done = outcome(s);
    const server = new HeaderEncoder(); // this session's own compression stream
    peer.send(Buffer.concat([synReply(1, server.encode({})), synReply(3, server.encode({})), dataHeader(3, 2), Buffer.from('hi'), headersFrame(1, server.encode({}), true), headersFrame(3, server.encode({}), true)]));
    assert.equal(await done, 'end');
    assert.equal(Buffer.concat(chunks).toString(), 'hi');
    session.destroy(new KportError('SHUTTING_DOWN', 'test over'));
  });

  test('error-stream text (plain, or the kubelet’s JSON) becomes the connection’s error', async () => {
    for (const text of ['error forwarding port 80 to pod x, uid : connection refused', '{"closeConnection":true,"message":"error forwarding port 80 to pod x, uid : connection refused"}']) {
      const { session, peer } = scripted();
      const s = new PortForwardStream(session, 80, 0);
      const done = outcome(s);
      peer.send(Buffer.concat([dataHeader(1, Buffer.byteLength(text)), Buffer.from(text), dataHeader(1, 0, true), dataHeader(3, 0, true)]));
      const err = await done;
      assert.ok(err instanceof KportError);
      assert.equal(err.message, 'error forwarding port 80 to pod x, uid : connection refused');
      session.destroy(new KportError('SHUTTING_DOWN', 'test over'));
    }
  });

  test('error-stream JSON with a blank message is shown as it came, not as an empty error', async () => {
    // Found by test/fuzz/spdy-frames: the error had the message " ".
    const text = '{"message":" "}';
    const { session, peer } = scripted();
    const s = new PortForwardStream(session, 80, 0);
    const done = outcome(s);
    peer.send(Buffer.concat([dataHeader(1, Buffer.byteLength(text)), Buffer.from(text), dataHeader(1, 0, true), dataHeader(3, 0, true)]));
    const err = await done;
    assert.ok(err instanceof KportError && err.code === 'STREAM_ERROR', String(err));
    assert.equal(err.message, text);
    session.destroy(new KportError('SHUTTING_DOWN', 'test over'));
  });

  test('RST_STREAM from the server ends that connection with a clear error, not the session', async () => {
    const { session, peer } = scripted();
    const a = new PortForwardStream(session, 80, 0);
    const b = new PortForwardStream(session, 80, 1);
    const doneA = outcome(a);
    peer.send(rstStream(3, 1));
    const err = await doneA;
    assert.ok(err instanceof KportError && /reset the stream \(PROTOCOL_ERROR\)/.test(err.message), String(err));
    assert.equal(b.destroyed, false);
    assert.equal(session.draining, false);
    const doneB = outcome(b);
    session.destroy(new KportError('SHUTTING_DOWN', 'test over'));
    assert.equal(((await doneB) as KportError).code, 'SHUTTING_DOWN');
  });

  const broken: [string, Buffer][] = [
    ['a corrupt header block', Buffer.concat([Buffer.from([0x80, 3, 0, 2, 0, 0, 0, 12, 0, 0, 0, 3]), Buffer.from('notzlib!')])],
    ['a frame of another SPDY version', Buffer.from([0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])],
    ['a PING of the wrong length', Buffer.from([0x80, 3, 0, 6, 0, 0, 0, 2, 0, 1])],
    ['a 16 MB control frame', Buffer.from([0x80, 3, 0, 8, 0, 0xff, 0xff, 0xff])],
  ];
  for (const [what, bytes] of broken) {
    test(`${what}: every stream ends with STREAM_ERROR naming the protocol break, and the session closes`, async () => {
      const { session, peer } = scripted();
      const s = new PortForwardStream(session, 80, 0);
      const done = outcome(s);
      const closed = new Promise((r) => session.once('close', r));
      peer.send(bytes);
      const err = await done;
      assert.ok(err instanceof KportError && err.code === 'STREAM_ERROR' && /broke the protocol/.test(err.message), String(err));
      assert.ok(((await closed) as KportError).message.includes('broke the protocol'));
      assert.equal(session.accepts(2), false);
    });
  }

  test('server PINGs are echoed; unknown control frames and WINDOW_UPDATE are ignored', async () => {
    const { session, peer } = scripted();
    peer.send(Buffer.concat([Buffer.from([0x80, 3, 0, 0x42, 0, 0, 0, 0]), Buffer.from([0x80, 3, 0, 9, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 1, 0]), ping(2)]));
    const deadline = Date.now() + 5_000;
    while (!Buffer.concat(peer.sent).includes(ping(2)) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.ok(Buffer.concat(peer.sent).includes(ping(2)), 'the ping was echoed');
    assert.equal(session.accepts(2), true);
    session.destroy(new KportError('SHUTTING_DOWN', 'test over'));
  });

  test('GOAWAY: no new streams; streams the server never took fail as refused, the rest finish', async () => {
    const { session, peer } = scripted();
    const kept = new PortForwardStream(session, 80, 0); // streams 1, 3
    const dropped = new PortForwardStream(session, 80, 1); // streams 5, 7
    const droppedDone = outcome(dropped);
    const keptDone = outcome(kept);
    peer.send(goAway(3, 0));
    const err = await droppedDone;
    assert.ok(err instanceof KportError && err.code === 'STREAM_REFUSED', String(err));
    assert.equal(session.accepts(2), false);
    peer.send(Buffer.concat([dataHeader(1, 0, true), dataHeader(3, 0, true)]));
    kept.end();
    assert.equal(await keptDone, 'end');
  });

  test('a connection held for its slow reader that then gets its FIN holds up no other connection', async () => {
    const { session, peer } = scripted();
    const a = new PortForwardStream(session, 80, 0); // streams 1, 3
    const b = new PortForwardStream(session, 80, 1); // streams 5, 7
    const big = Buffer.alloc(2 * STREAM_BUFFER_MAX, 0x61);
    // More than a connection may buffer arrives unread (the session holds its reads), then its FIN.
    peer.send(Buffer.concat([dataHeader(3, big.length), big, dataHeader(3, 0, true), dataHeader(1, 0, true)]));
    let got = 0;
    a.on('data', (c: Buffer) => (got += c.length));
    await once(a, 'end');
    assert.equal(got, big.length);
    // The other connection's data still gets read, though `a`'s local client keeps its side open.
    const bData = once(b, 'data');
    peer.send(Buffer.concat([dataHeader(7, 5), Buffer.from('hello')]));
    await waitUntil(() => !session.stalled, 'the session to read again');
    assert.equal(String((await bData)[0]), 'hello');
    for (const s of [a, b]) s.on('error', () => {}); // the session's end below aborts both
    session.destroy(new KportError('SHUTTING_DOWN', 'test over'));
  });

  test('a server that floods PINGs and stream opens and reads nothing gets no answers beyond a bounded backlog', async () => {
    class Unread extends Duplex {
      override _read(): void {}
      override _write(): void {} // never completes: the server reads nothing
    }
    const socket = new Unread();
    const session = new SpdySession(socket, 'pod flood');
    const pings = Buffer.concat(Array.from({ length: 10_000 }, (_, i) => ping(2 * i + 2)));
    const server = new HeaderEncoder(); // one compression stream per connection, as the session's decoder has
    const opens = () => Buffer.concat(Array.from({ length: 1_000 }, () => synStream((nextId += 2), server.encode({}))));
    let nextId = 0;
    for (let i = 0; i < 40; i++) {
      socket.push(i % 2 ? opens() : pings); // 200,000 PINGs (2.4 MB of echoes) and 20,000 stream opens
      await nextTurn();
    }
    assert.ok(!session.draining, 'the flood broke no protocol rule');
    assert.ok(socket.writableLength < 1.5 * 1024 * 1024, `${socket.writableLength} bytes queued`);
    session.destroy(new KportError('SHUTTING_DOWN', 'test over'));
  });
});

/** ChannelStream, the v4.channel.k8s.io PodStream, against a scripted server on loopback. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KportError } from '../../daemon/api/errors.js';
import { ChannelStream } from '../../daemon/kube/transport/websocket/stream.js';
import { outcome } from '../helpers/pod-stream.js';
import { V4Peer } from '../helpers/v4-peer.js';

let peer: V4Peer;
before(async () => (peer = await V4Peer.start()));
after(() => peer.close());

/** Port 80's prefix on a channel, then `payload`. */
const message = (channel: number, payload: string) => Buffer.concat([Buffer.from([channel, 80, 0]), Buffer.from(payload)]);

/** How a ChannelStream for port 80 ends, and what it passed on, when the server sends `messages` and closes. */
async function played(messages: Buffer[], finish: 'close' | 'cut' = 'close'): Promise<{ how: 'end' | KportError; data: string }> {
  const ws = await peer.dial((server) => {
    for (const m of messages) server.send(m);
    if (finish === 'cut') server.terminate();
    else server.close();
  });
  const stream = new ChannelStream(ws, 80);
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const how = await outcome(stream);
  return { how, data: Buffer.concat(chunks).toString() };
}

test('data after the port prefix comes through; a close ends the stream cleanly', async () => {
  assert.deepEqual(await played([message(0, 'hello'), message(1, '')]), { how: 'end', data: 'hello' });
});

test('text on the error channel ends the stream with it', async () => {
  const { how } = await played([message(1, 'error forwarding port 80 to pod x: connection refused\n')]);
  assert.ok(how instanceof KportError && how.code === 'STREAM_ERROR', String(how));
  assert.equal(how.message, 'error forwarding port 80 to pod x: connection refused');
});

test('blank text on the error channel is no error, as on a SPDY error stream', async () => {
  // Found by test/fuzz/v4-messages: it ended the stream with a STREAM_ERROR whose message was empty.
  assert.deepEqual(await played([message(1, ' \n'), message(0, 'still here')]), { how: 'end', data: 'still here' });
});

test('a WebSocket cut without a close frame is an error, not a clean end the client could take for the whole reply', async () => {
  // Found by test/fuzz/v4-messages: a truncated transfer reached the local client as a normal FIN.
  const { how } = await played([message(0, 'part of a reply')], 'cut');
  assert.ok(how instanceof KportError && how.code === 'STREAM_ERROR', String(how));
  assert.match(how.message, /cut/);
});

test('after the local side ends, a local client slower than the drain period still gets the whole reply', async () => {
  const parts = 64;
  const part = Buffer.alloc(64 * 1024, 0x61);
  const ws = await peer.dial((server) => {
    server.send(message(0, ''));
    server.send(message(1, ''));
    let sent = 0;
    const tick = setInterval(() => {
      if (server.readyState !== server.OPEN) return clearInterval(tick);
      server.send(Buffer.concat([Buffer.from([0]), part]));
      if (++sent === parts) {
        clearInterval(tick);
        server.close(1000);
      }
    }, 10);
  });
  const drainMs = 200;
  const stream = new ChannelStream(ws, 80, drainMs);
  stream.end(); // the local client half-closed, then reads nothing for three drain periods: kport holds the pod back
  await new Promise((r) => setTimeout(r, 3 * drainMs));
  let got = 0;
  stream.on('data', (c: Buffer) => (got += c.length));
  assert.equal(await outcome(stream), 'end');
  assert.equal(got, parts * part.length);
});

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

test('data after the port prefix comes through; a close ends the stream cleanly', async () => {
  const ws = await peer.dial((server) => {
    server.send(message(0, 'hello'));
    server.send(message(1, ''));
    server.close();
  });
  const stream = new ChannelStream(ws, 80);
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  assert.equal(await outcome(stream), 'end');
  assert.equal(Buffer.concat(chunks).toString(), 'hello');
});

test('text on the error channel ends the stream with it', async () => {
  const ws = await peer.dial((server) => server.send(message(1, 'error forwarding port 80 to pod x: connection refused\n')));
  const err = await outcome(new ChannelStream(ws, 80));
  assert.ok(err instanceof KportError && err.code === 'STREAM_ERROR', String(err));
  assert.equal(err.message, 'error forwarding port 80 to pod x: connection refused');
});

test('blank text on the error channel is no error, as on a SPDY error stream', async () => {
  // Found by test/fuzz/v4-messages: it ended the stream with a STREAM_ERROR whose message was empty.
  const ws = await peer.dial((server) => {
    server.send(message(1, ' \n'));
    server.send(message(0, 'still here'));
    server.close();
  });
  const stream = new ChannelStream(ws, 80);
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  assert.equal(await outcome(stream), 'end');
  assert.equal(Buffer.concat(chunks).toString(), 'still here');
});

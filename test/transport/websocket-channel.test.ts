/** The v4.channel.k8s.io codec. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelReader, dataChannel, encodeFrame, errorChannel } from '../../daemon/kube/transport/websocket/channel.js';

test('frames carry the channel byte first, then the payload', () => {
  assert.deepEqual([...encodeFrame(dataChannel(1), Buffer.from('hi'))], [2, 0x68, 0x69]);
  assert.equal(errorChannel(1), 3);
});

test('the reader strips each channel\'s port prefix and routes data and errors by port', () => {
  const r = new ChannelReader([8080, 5432]);
  assert.equal(r.read(Buffer.from([0, 0x90, 0x1f])), null);
  assert.equal(r.read(Buffer.from([1, 0x90, 0x1f])), null);
  assert.equal(r.read(Buffer.from([2, 0x38, 0x15])), null);
  assert.deepEqual(r.read(Buffer.from([0, 1, 2])), { index: 0, kind: 'data', payload: Buffer.from([1, 2]) });
  assert.deepEqual(r.read(Buffer.from([3, 0x38, 0x15, 0x62])), { index: 1, kind: 'error', payload: Buffer.from('b') });
});

test('a prefix split over two messages, or followed by data in one, still parses', () => {
  const r = new ChannelReader([80]);
  assert.equal(r.read(Buffer.from([0, 80])), null);
  assert.deepEqual(r.read(Buffer.from([0, 0, 7])), { index: 0, kind: 'data', payload: Buffer.from([7]) });
});

test('a wrong port prefix or an unknown channel is a protocol error', () => {
  assert.throws(() => new ChannelReader([80]).read(Buffer.from([0, 81, 0])), /announced port 81, expected 80/);
  assert.throws(() => new ChannelReader([80]).read(Buffer.from([4, 0, 0])), /unknown channel 4/);
  assert.throws(() => new ChannelReader([80]).read(Buffer.alloc(0)), /empty message/);
});

/**
 * The pipe between one local socket and one pod stream, against a pod stream in memory: half-close
 * in either order delivers everything each side sent.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { Duplex } from 'node:stream';
import { after, describe, test } from 'node:test';
import { pipe, type Pipe } from '../../daemon/forward/pipe.js';

/** A pod that sent its FIN at once and takes what it is sent slowly, a chunk per timer tick. */
class SlowReceiver extends Duplex {
  received = 0;
  gotFin = false;
  constructor() {
    super({ allowHalfOpen: true, writableHighWaterMark: 64 * 1024 });
    this.push(null);
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    setTimeout(() => {
      this.received += chunk.length;
      cb();
    }, 1);
  }
  override _final(cb: () => void): void {
    this.gotFin = true;
    cb();
  }
}

describe('pipe', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  test('the pod ends first, the client uploads then half-closes: every byte and the FIN reach the pod', async () => {
    const pod = new SlowReceiver();
    let piped!: Pipe;
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => (piped = pipe(s, pod, { onBytesIn() {}, onBytesOut() {} })));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
    client.resume();
    await once(client, 'connect');
    const upload = Buffer.alloc(4 << 20, 0x61);
    client.end(upload);
    await once(client, 'close');
    const outcome = await piped.done;
    assert.equal(outcome.error, null);
    assert.equal(outcome.bytesOut, upload.length);
    assert.equal(pod.received, upload.length, 'the pod got the whole upload');
    assert.ok(pod.gotFin, 'the pod got the FIN, not a reset');
  });
});

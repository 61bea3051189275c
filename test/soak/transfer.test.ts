/** The soak's judge of a transfer: intact, cut short (clean-closed), wrong bytes (corrupted), nothing listening, stalled. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { echoTransfer, httpCheck } from '../../soak/transfer.js';

/** A TCP server on a free port that handles each connection with `handle`. */
async function serve(handle: (s: Socket) => void, allowHalfOpen = false): Promise<{ port: number; server: Server }> {
  const server = createServer({ allowHalfOpen }, (s) => {
    s.on('error', () => {});
    handle(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server };
}

describe('echoTransfer', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));
  const start = async (handle: (s: Socket) => void, allowHalfOpen = false) => {
    const { port, server } = await serve(handle, allowHalfOpen);
    servers.push(server);
    return port;
  };
  const payload = randomBytes(300_000);

  test('an intact echo is ok, with and without half-close', async () => {
    const port = await start((s) => s.pipe(s));
    assert.deepEqual(await echoTransfer(port, payload, { idleMs: 5_000, halfClose: false }), { result: 'ok', bytes: payload.length });
    assert.deepEqual(await echoTransfer(port, payload, { idleMs: 5_000, halfClose: true }), { result: 'ok', bytes: payload.length });
  });

  test('one flipped byte is corrupted, and says where', async () => {
    const port = await start((s) => {
      let seen = 0;
      s.on('data', (c: Buffer) => {
        const copy = Buffer.from(c);
        if (seen <= 200_000 && seen + c.length > 200_000) copy[200_000 - seen]! ^= 0x01;
        seen += c.length;
        s.write(copy);
      });
    });
    const o = await echoTransfer(port, payload, { idleMs: 5_000, halfClose: false });
    assert.equal(o.result, 'corrupted');
    assert.match(o.result === 'corrupted' ? o.error : '', /byte 200000 of 300000 differs/);
  });

  test('bytes beyond what was sent are corrupted', async () => {
    const port = await start((s) => s.on('data', (c: Buffer) => s.write(Buffer.concat([c, Buffer.from('x')]))));
    assert.equal((await echoTransfer(port, payload, { idleMs: 5_000, halfClose: false })).result, 'corrupted');
  });

  test('a connection cut after a correct prefix is clean-closed', async () => {
    const port = await start((s) => {
      let seen = 0;
      s.on('data', (c: Buffer) => {
        seen += c.length;
        s.write(c);
        if (seen > 100_000) s.destroy();
      });
    });
    const o = await echoTransfer(port, payload, { idleMs: 5_000, halfClose: false });
    assert.equal(o.result, 'closed');
    assert.ok(o.bytes < payload.length);
  });

  test('a server that never answers is stalled after idleMs; a closed port is refused', async () => {
    const port = await start(() => {});
    assert.equal((await echoTransfer(port, Buffer.from('hello'), { idleMs: 200, halfClose: false })).result, 'stalled');
    const gone = await start(() => {});
    await new Promise((r) => servers.pop()!.close(r));
    assert.equal((await echoTransfer(gone, Buffer.from('hello'), { idleMs: 1_000, halfClose: false })).result, 'refused');
  });

  test('half-close waits for the echo\'s FIN: an echo that never sends one is stalled', async () => {
    const port = await start((s) => s.on('data', (c: Buffer) => s.write(c)), true);
    const o = await echoTransfer(port, payload, { idleMs: 500, halfClose: true });
    assert.equal(o.result, 'stalled');
    assert.equal(o.bytes, payload.length);
  });
});

describe('httpCheck', () => {
  test('200 with an expected body is ok; another body is corrupted; another status is clean-closed', async () => {
    let status = 200;
    let body = 'web-1\n';
    const server = createHttpServer((_req, res) => res.writeHead(status).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const valid = (b: string) => b === 'web-1\n';
    try {
      assert.equal((await httpCheck(port, '/', valid, 2_000)).result, 'ok');
      body = 'web-2\n';
      assert.equal((await httpCheck(port, '/', valid, 2_000)).result, 'corrupted');
      status = 503;
      const o = await httpCheck(port, '/', valid, 2_000);
      assert.equal(o.result, 'closed');
      assert.match(o.result === 'closed' ? o.error : '', /^HTTP 503/);
    } finally {
      server.close();
    }
  });
});

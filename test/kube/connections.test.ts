/**
 * The proxies' pool of kept-alive connections, against a plain TCP server: a released connection is handed
 * out again at once (the most recent first), one that closes or speaks while idle is not, a closed pool keeps
 * nothing, and a connection that cannot be had rejects with the socket's error.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Connection, ConnectionPool, tcpOpener } from '../../daemon/kube/connections.js';

let server: Server;
let url: URL;
const accepted: Socket[] = [];

before(async () => {
  server = createServer((s) => void accepted.push(s.on('error', () => {})));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
after(async () => {
  for (const s of accepted) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

/** A connection from the pool, new or idle. */
async function take(pool: ConnectionPool): Promise<Connection> {
  return pool.acquire();
}

/** Resolves once `c`'s socket has closed. */
const closed = (c: Connection) => new Promise<void>((resolve) => (c.socket.closed ? resolve() : c.socket.once('close', () => resolve())));

/** The server's side of the newest connection, once accepted. */
async function serverSide(count: number): Promise<Socket> {
  for (const deadline = Date.now() + 5_000; accepted.length < count; ) {
    if (Date.now() > deadline) throw new Error('no connection accepted');
    await new Promise((r) => setImmediate(r));
  }
  return accepted[count - 1]!;
}

test('a released connection is handed out again at once, most recent first, as reused', async () => {
  const pool = new ConnectionPool(tcpOpener(url));
  const [a, b] = [await take(pool), await take(pool)];
  assert.notEqual(a, b);
  assert.equal(a.reused, false);
  pool.release(a);
  pool.release(b);
  const again = pool.acquire();
  assert.ok(again instanceof Connection, 'an idle connection is handed out without waiting');
  assert.equal(again, b);
  assert.equal(again.reused, true);
  assert.equal(pool.acquire(), a);
  const opening = pool.acquire();
  assert.ok(opening instanceof Promise, 'none idle: a new one is opened');
  (await opening).socket.destroy();
  pool.close();
  a.socket.destroy();
  b.socket.destroy();
});

test('an idle connection the server closes, or that receives bytes, is closed and not handed out', async () => {
  const pool = new ConnectionPool(tcpOpener(url));
  const n = accepted.length;
  const [quiet, chatty] = [await take(pool), await take(pool)];
  const [quietPeer, chattyPeer] = [await serverSide(n + 1), await serverSide(n + 2)];
  pool.release(quiet);
  pool.release(chatty);
  quietPeer.end();
  chattyPeer.write('HTTP/1.1 200 OK\r\n\r\n'); // an answer to nothing: out of step
  await Promise.all([closed(quiet), closed(chatty)]);
  const fresh = await take(pool);
  assert.ok(fresh !== quiet && fresh !== chatty && fresh.reused === false);
  fresh.socket.destroy();
  pool.close();
});

test('a connection in use hands its events to its user, and tells it once when it ends', async () => {
  const pool = new ConnectionPool(tcpOpener(url));
  const n = accepted.length;
  const c = await take(pool);
  const peer = await serverSide(n + 1);
  const got: string[] = [];
  const ended = new Promise<Error | null>((resolve) => (c.user = { data: (d) => got.push(d.toString()), ended: resolve, drain: () => {} }));
  peer.end('answer');
  assert.equal(await ended, null);
  assert.deepEqual(got, ['answer']);
  await closed(c);
  assert.equal(c.user, null);
  pool.close();
});

test('a closed pool closes its idle connections and those released later', async () => {
  const pool = new ConnectionPool(tcpOpener(url));
  const [idle, busy] = [await take(pool), await take(pool)];
  pool.release(idle);
  pool.close();
  await closed(idle);
  pool.release(busy);
  await closed(busy);
});

test('a connection that cannot be had rejects with the socket error', async () => {
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  const port = (spare.address() as AddressInfo).port;
  await new Promise((resolve) => spare.close(resolve));
  const pool = new ConnectionPool(tcpOpener(new URL(`http://127.0.0.1:${port}`)));
  await assert.rejects(take(pool), { code: 'ECONNREFUSED' });
});

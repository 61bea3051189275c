/**
 * The proxies' pool of kept-alive connections, against a plain TCP server: a released connection is handed
 * out again at once (the most recent first), one that closes or speaks while idle is not, a closed pool keeps
 * nothing, and a connection that cannot be had rejects with the socket's error. Through a proxy-url's tunnel, a
 * connection is secure within the connect limit or fails, however the proxy stalls.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { createSecureContext } from 'node:tls';
import { HttpsProxyAgent } from 'hpagent';
import { Connection, ConnectionPool, tcpOpener, tlsOpener } from '../../daemon/kube/connections.js';

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

/** An HTTP proxy on 127.0.0.1 that reads a CONNECT and then does what `answer` does with the client's socket. */
async function stallingProxy(answer: (client: Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const clients: Socket[] = [];
  const proxy = createServer((client) => {
    clients.push(client.on('error', () => {}));
    client.once('data', () => answer(client));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: async () => {
      for (const c of clients) c.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

/** A TLS opener of an API server at `api` through the proxy at `proxyUrl`, with a connect limit of 200 ms. */
const tunnelled = (proxyUrl: string, api = 'https://127.0.0.1:6443') =>
  tlsOpener(new URL(api), { secureContext: createSecureContext({}) }, new HttpsProxyAgent({ proxy: proxyUrl }), 200);

test('a tunnel whose CONNECT is never answered fails at the connect limit', async () => {
  const proxy = await stallingProxy(() => {});
  try {
    await assert.rejects(tunnelled(proxy.url)(), { code: 'ETIMEDOUT', message: 'no connection within 0.2 s' });
  } finally {
    await proxy.close();
  }
});

test('a tunnel over which the TLS handshake never finishes fails at the connect limit', async () => {
  const proxy = await stallingProxy((client) => client.write('HTTP/1.1 200 Connection established\r\n\r\n'));
  try {
    await assert.rejects(tunnelled(proxy.url)(), { code: 'ETIMEDOUT' });
  } finally {
    await proxy.close();
  }
});

test('a tunnel that opens after the connect limit is closed', async () => {
  let seen!: (client: Socket) => void;
  const connectSeen = new Promise<Socket>((resolve) => (seen = resolve));
  const proxy = await stallingProxy((client) => seen(client));
  try {
    await assert.rejects(tunnelled(proxy.url)(), { code: 'ETIMEDOUT' });
    const client = await connectSeen;
    const closedByKport = new Promise<void>((resolve) => (client.closed ? resolve() : client.once('close', () => resolve())));
    client.write('HTTP/1.1 200 Connection established\r\n\r\n');
    await closedByKport;
  } finally {
    await proxy.close();
  }
});

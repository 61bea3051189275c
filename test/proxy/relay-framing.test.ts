/**
 * relay() against a fake API server that writes its answers byte by byte as scripted, for what node's own
 * servers never send: each response framing reaches the client whole, a connection is reused exactly when
 * the response allows it, a chunked request body is framed again on its way, a client that goes away takes
 * its request's connection with it (a watch nobody reads is not left open on the API server), and a malformed
 * or broken-off response ends in a 502 or a cut-off response rather than anything half right.
 */
import assert from 'node:assert/strict';
import { Agent, createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { after, before, beforeEach, test } from 'node:test';
import { ConnectionPool, tcpOpener } from '../../daemon/kube/connections.js';
import { relay } from '../../daemon/proxy/relay.js';
import type { Upstream } from '../../daemon/proxy/upstream.js';
import { fetchText } from '../helpers/http.js';
import { httpLines } from './fixtures.js';

/** What the fake answers a request with: the bytes, and whether it closes the connection after them. */
type Answer = { bytes: string; close?: boolean; destroy?: boolean };

let answer: (request: string) => Answer;
const requests: string[] = [];
let connections = 0;
let api: Server;
let proxy: HttpServer;
let proxyUrl: string;
let pool: ConnectionPool;
const sockets = new Set<Socket>();

/** Reads whole requests off a connection (a head, then a Content-Length or chunked body) and answers each. */
function serve(socket: Socket): void {
  connections++;
  sockets.add(socket.on('close', () => sockets.delete(socket)).on('error', () => {}));
  let buffered = '';
  socket.on('data', (d: Buffer) => {
    buffered += d.toString('latin1');
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.slice(0, end);
      let length = end + 4;
      const cl = /\r\ncontent-length: (\d+)/i.exec(head);
      if (cl) length += Number(cl[1]);
      else if (/\r\ntransfer-encoding: chunked/i.test(head)) {
        const last = buffered.indexOf('\r\n0\r\n\r\n', end);
        if (last < 0) return;
        length = last + 7;
      }
      if (buffered.length < length) return;
      const request = buffered.slice(0, length);
      buffered = buffered.slice(length);
      requests.push(request);
      const a = answer(request);
      socket.write(a.bytes, 'latin1');
      if (a.destroy) return void socket.destroy();
      if (a.close) return void socket.end();
    }
  });
}

before(async () => {
  api = createServer(serve);
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  const server = new URL(`http://127.0.0.1:${(api.address() as AddressInfo).port}`);
  const upstream: Upstream = { server, connectOptions: async () => ({ agent: new Agent(), headers: {}, secureContext: createSecureContext(), renewal: 0 }), invalidateCredentials: () => {}, connections: async () => pool };
  pool = new ConnectionPool(tcpOpener(server));
  const meter = { bytesIn: 0, bytesOut: 0 };
  proxy = createHttpServer((req, res) => void relay(req, res, upstream, req.url!, '', meter, () => {}));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
beforeEach(() => {
  requests.length = 0;
  connections = 0;
  // Each test starts with no idle connection.
  pool.close();
  pool = new ConnectionPool(tcpOpener(new URL(`http://127.0.0.1:${(api.address() as AddressInfo).port}`)));
});
after(async () => {
  pool.close();
  for (const s of sockets) s.destroy();
  proxy.closeAllConnections();
  await Promise.all([new Promise((r) => proxy.close(r)), new Promise((r) => api.close(r))]);
});

const OK = 'HTTP/1.1 200 OK\r\n';

test('a chunked response reaches the client whole, and its connection carries the next request', async () => {
  answer = () => ({ bytes: `${OK}Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5;x=1\r\nworld\r\n0\r\nX-T: 1\r\n\r\n` });
  const first = await fetchText(`${proxyUrl}/a`);
  const second = await fetchText(`${proxyUrl}/b`);
  assert.deepEqual([first.status, first.body, second.body], [200, 'hello world', 'hello world']);
  assert.equal(first.headers['content-length'], undefined);
  assert.equal(connections, 1);
});

test('a response that ends with its connection reaches the client whole; the next request opens a new one', async () => {
  answer = () => ({ bytes: `${OK}Content-Type: text/plain\r\n\r\nuntil the end`, close: true });
  assert.equal((await fetchText(`${proxyUrl}/a`)).body, 'until the end');
  assert.equal((await fetchText(`${proxyUrl}/b`)).body, 'until the end');
  assert.equal(connections, 2);
});

test('HEAD: the length is passed on without a body, and the connection is reused', async () => {
  answer = () => ({ bytes: `${OK}Content-Length: 5\r\n\r\n` });
  const head = await fetchText(`${proxyUrl}/a`, { method: 'HEAD' });
  assert.deepEqual([head.status, head.headers['content-length'], head.body], [200, '5', '']);
  answer = () => ({ bytes: `${OK}Content-Length: 2\r\n\r\nok` });
  assert.equal((await fetchText(`${proxyUrl}/b`)).body, 'ok');
  assert.equal(connections, 1);
});

test('a chunked request body is sent on chunked, whole', async () => {
  answer = () => ({ bytes: `${OK}Content-Length: 0\r\n\r\n` });
  const r = await fetchText(`${proxyUrl}/create`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'x'.repeat(70_000) });
  assert.equal(r.status, 200);
  const [head, body] = [requests[0]!.slice(0, requests[0]!.indexOf('\r\n\r\n')), requests[0]!.slice(requests[0]!.indexOf('\r\n\r\n') + 4)];
  assert.match(head, /^POST \/create HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\n/);
  assert.match(head, /\r\ntransfer-encoding: chunked$/);
  const decoded = body.replace(/([0-9a-f]+)\r\n([^]*?)\r\n/g, (_m, size: string, data: string) => (assert.equal(data.length, parseInt(size, 16)), data));
  assert.equal(decoded, 'x'.repeat(70_000));
});

test('a malformed response is a 502 that says what was wrong', async () => {
  answer = () => ({ bytes: 'HTTP/1.1 OK\r\n\r\n' });
  const r = await fetchText(`${proxyUrl}/a`);
  assert.equal(r.status, 502);
  assert.match(r.body, /^kport: cannot reach the API server http:\/\/127\.0\.0\.1:\d+ \(HPE_INVALID_RESPONSE: not an HTTP\/1\.1 status line: "HTTP\/1\.1 OK"\)/);
});

test('a response Node could not pass on (a bare LF in a header, a status under 100) is a 502 too, not a closed connection', async () => {
  for (const bytes of [`${OK}X-A: a\nb\r\nContent-Length: 0\r\n\r\n`, 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n']) {
    answer = () => ({ bytes });
    const r = await fetchText(`${proxyUrl}/a`);
    assert.equal(r.status, 502, JSON.stringify(bytes));
    assert.match(r.body, /^kport: cannot reach the API server .*HPE_INVALID_RESPONSE/);
  }
});

test('a response broken off midway is cut off for the client too, never passed on as complete', async () => {
  answer = () => ({ bytes: `${OK}Content-Length: 100\r\n\r\nonly part`, destroy: true });
  await assert.rejects(fetchText(`${proxyUrl}/a`), /aborted|socket hang up|ECONNRESET/);
});

test('a client that goes away mid-response closes its connection to the API server', async () => {
  answer = () => ({ bytes: `${OK}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n{"type":"ADDED"}\n\r\n` });
  const watch = await httpLines(`${proxyUrl}/api/v1/pods?watch=1`);
  assert.equal(await watch.next(), '{"type":"ADDED"}');
  const [upstreamSide] = [...sockets];
  const gone = new Promise((resolve) => upstreamSide!.once('close', resolve));
  watch.close();
  await gone;
  assert.equal(connections, 1);
});

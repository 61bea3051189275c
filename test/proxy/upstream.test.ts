/**
 * relay() against a fake API server that closes a kept-alive connection just as it is reused (the race every
 * keep-alive client meets): replayable requests are sent again once, as Go's transport does for kubectl;
 * requests with a body are not, and get a 502.
 */
import { createSecureContext } from 'node:tls';
import assert from 'node:assert/strict';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { ConnectionPool, tcpOpener } from '../../daemon/kube/connections.js';
import { relay } from '../../daemon/proxy/relay.js';
import { destination, type Upstream } from '../../daemon/proxy/upstream.js';
import { send } from './fixtures.js';

/** Listens on a free port of 127.0.0.1 and resolves with its base URL. */
function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

let api: Server;
let proxy: Server;
let proxyUrl: string;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

before(async () => {
  // The fake API server answers the first request on each connection and drops the connection on the second.
  const served = new WeakMap<Socket, number>();
  api = createServer((req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1) return void req.socket.destroy();
    req.resume();
    req.once('end', () => res.end(`${req.method} ${req.url} ${req.headers.authorization}`));
  });
  const server = new URL(await listen(api));
  const pool = new ConnectionPool(tcpOpener(server));
  const upstream: Upstream = { server, connectOptions: async () => ({ agent, headers: { Authorization: 'Bearer fake' }, secureContext: createSecureContext(), renewal: 0 }), invalidateCredentials: () => {}, connections: async () => pool };
  const meter = { bytesIn: 0, bytesOut: 0 };
  proxy = createServer((req, res) => void relay(req, res, upstream, req.url!, '', meter, () => {}));
  proxyUrl = await listen(proxy);
});
after(async () => {
  agent.destroy();
  proxy.closeAllConnections();
  api.closeAllConnections();
  await Promise.all([new Promise((r) => proxy.close(r)), new Promise((r) => api.close(r))]);
});

test('a GET on a connection the API server just closed is sent again, once, on a new one', async () => {
  const first = await send(proxyUrl, '/first'); // opens the kept-alive connection
  const second = await send(proxyUrl, '/second'); // reuses it; the API server drops it; kport replays the GET
  assert.deepEqual([first.status, first.body], [200, 'GET /first Bearer fake']);
  assert.deepEqual([second.status, second.body], [200, 'GET /second Bearer fake']);
});

test('a POST with a body is not replayed: the client gets the 502', async () => {
  assert.equal((await send(proxyUrl, '/warm')).status, 200); // leaves a kept-alive connection to be reused
  const r = await send(proxyUrl, '/create', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'payload' });
  assert.equal(r.status, 502);
  assert.match(r.body, /^kport: cannot reach the API server http:\/\/127\.0\.0\.1:\d+ \(/);
});

test('destination joins the server path prefix and keeps the query', () => {
  assert.deepEqual(destination(new URL('https://rancher.example/k8s/clusters/c-1'), '/api/v1/pods', '?limit=1'), {
    https: true,
    hostname: 'rancher.example',
    port: undefined,
    path: '/k8s/clusters/c-1/api/v1/pods?limit=1',
  });
  assert.equal(destination(new URL('https://[::1]:6443/'), '/version', '').hostname, '::1');
});

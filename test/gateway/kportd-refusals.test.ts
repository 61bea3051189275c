/**
 * What a gateway's client is told when its connection cannot be made, through a real kportd: the SOCKS5 reply code
 * or HTTP status that fits, a one-line body naming the cause, and the same cause as the session's last error.
 */
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RpcClient } from '../../client/rpc.js';
import type { SimCluster } from '../cluster/cluster.js';
import type { KportdHarness } from '../helpers/daemon.js';
import { open, TEST_TRANSPORT } from '../helpers/forward.js';
import { connectGet, curl, curlOrSkip, exchangeRaw, gatewayCluster, gatewayDaemon, proxyGet, socksConnect } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

describe('gateway refusals through a real kportd', () => {
  let cluster: SimCluster;
  let k: KportdHarness;
  let rpc: RpcClient;
  let port: (name: string) => Promise<number>;
  const lastError = async (name: string) => {
    const e = (await rpc.call('session.get', { name })).lastError;
    return e && { code: e.code, message: e.message };
  };

  before(async () => {
    cluster = await gatewayCluster();
    ({ k, rpc, port } = await gatewayDaemon(cluster));
  });
  after(async () => {
    await rpc?.close();
    await k?.cleanup();
    await cluster?.stop();
  });

  /** Each case over SOCKS5, plain HTTP and CONNECT: the reply code, the status and body, the last error. */
  const cases: { what: string; gateway: string; host: string; port: number; socks: number; status: number; code: string; message: string }[] = [
    { what: 'an unknown service', gateway: 'cluster', host: 'nope.default', port: 80, socks: 4, status: 502, code: 'TARGET_NOT_FOUND', message: 'service "nope" not found in namespace "default"' },
    { what: 'an unknown namespace', gateway: 'cluster', host: 'web.nowhere.svc.cluster.local', port: 80, socks: 4, status: 502, code: 'NAMESPACE_NOT_FOUND', message: 'namespace "nowhere" not found' },
    { what: 'a port the service does not have', gateway: 'cluster', host: 'web', port: 81, socks: 5, status: 502, code: 'PORT_NOT_FOUND', message: 'service/web has no port 81 (its ports: 80/http)' },
    { what: 'a namespace outside namespaces:', gateway: 'limited', host: 'echo.ns1', port: 7000, socks: 2, status: 502, code: 'FORBIDDEN', message: 'namespace "ns1" is not one this gateway may reach (namespaces: default)' },
    { what: 'no ready pod within connectTimeout', gateway: 'quick', host: 'idle', port: 80, socks: 5, status: 504, code: 'CONNECT_TIMEOUT', message: 'no ready pod for svc/idle.default:80 within 0.3 s (no ready pod for service/idle: no ready pod matches its selector app=nobody); closed a waiting connection' },
    { what: 'a name from outside the cluster', gateway: 'cluster', host: 'www.example.com', port: 80, socks: 4, status: 502, code: 'TARGET_NOT_FOUND', message: '"www.example.com" is not a cluster name (it does not end in .svc or .svc.cluster.local; the gateway resolves SVC, SVC.NS, SVC.NS.svc, SVC.NS.svc.DOMAIN or POD.SVC.NS.svc.DOMAIN, a ClusterIP or a pod IP)' },
    { what: 'an IP nothing has', gateway: 'cluster', host: '10.1.2.3', port: 80, socks: 4, status: 502, code: 'TARGET_NOT_FOUND', message: 'no service or pod has the IP 10.1.2.3' },
  ];
  for (const c of cases) {
    test(`${c.what}: SOCKS5 reply ${c.socks}, HTTP ${c.status}, and the last error`, async () => {
      const gw = await port(c.gateway);
      const expected = { code: c.code, message: c.message };
      const body = `kport gateway: ${c.message} (${c.code})\n`;
      const { reply, socket } = await socksConnect(gw, c.host, c.port);
      socket.destroy();
      assert.equal(reply, c.socks);
      assert.deepEqual(await lastError(c.gateway), expected);
      assert.deepEqual(await proxyGet(gw, `http://${c.host}:${c.port}/`), { status: c.status, body });
      assert.deepEqual(await connectGet(gw, `${c.host}:${c.port}`), { status: c.status, body });
      assert.deepEqual(await lastError(c.gateway), expected);
    });
  }

  test('curl shows the refusal: SOCKS5 reply code, and the HTTP body', curlOrSkip(), async () => {
    const gw = await port('cluster');
    const socks = await curl(['--socks5-hostname', `127.0.0.1:${gw}`, 'http://nope.default/']);
    assert.equal(socks.code, 97);
    assert.match(socks.stderr, /SOCKS5.*\(4\)|host unreachable/i);
    const http = await curl(['-x', `http://127.0.0.1:${gw}`, '-w', '%{http_code}', 'http://nope.default/']);
    assert.equal(http.stdout, 'kport gateway: service "nope" not found in namespace "default" (TARGET_NOT_FOUND)\n502');
  });

  test('an origin-form request (what a web page could send to 127.0.0.1) gets 400', async () => {
    const gw = await port('cluster');
    const answer = (await exchangeRaw(gw, Buffer.from('GET /api/v1/secrets HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'))).toString();
    const message = 'GET /api/v1/secrets is an origin-form request: this port is a proxy, and answers only clients configured to use it (absolute-form requests or CONNECT)';
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(answer.endsWith(`\r\n\r\nkport gateway: ${message} (BAD_REQUEST)\n`), answer);
    assert.deepEqual(await lastError('cluster'), { code: 'BAD_REQUEST', message });
  });

  test('malformed SOCKS5 greetings: truncated, wrong version, an oversized name', async () => {
    const gw = await port('cluster');
    // Truncated: two methods announced, one sent, then the client gives up. Nothing to answer.
    assert.deepEqual([...(await exchangeRaw(gw, Buffer.from([5, 2, 0]), true))], []);
    assert.deepEqual(await lastError('cluster'), { code: 'BAD_REQUEST', message: 'the client closed the connection after 3 bytes, before its request was complete' });
    // Wrong versions: closed without a word (SOCKS4 is named as such); a request of the wrong version, general failure.
    assert.deepEqual([...(await exchangeRaw(gw, Buffer.from([6, 1, 0])))], []);
    assert.deepEqual(await lastError('cluster'), { code: 'BAD_REQUEST', message: 'neither SOCKS5 nor HTTP: the first byte is 0x06' });
    assert.deepEqual([...(await exchangeRaw(gw, Buffer.from([4, 1, 0, 80, 10, 96, 0, 10, 0])))], []);
    assert.deepEqual(await lastError('cluster'), { code: 'BAD_REQUEST', message: 'SOCKS4 is not supported: use SOCKS5 (curl --socks5-hostname, socks5h://)' });
    assert.deepEqual([...(await exchangeRaw(gw, Buffer.from([5, 1, 0, 4, 1, 0, 1, 10, 96, 0, 10, 0, 80])))], [5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(await lastError('cluster'), { code: 'BAD_REQUEST', message: 'not a SOCKS5 request: version byte 0x04' });
    // A name longer than DNS allows: the method is chosen, then the request refused as host unreachable.
    const oversized = Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, 255]), Buffer.alloc(255, 0x61), Buffer.from([0, 80])]);
    assert.deepEqual([...(await exchangeRaw(gw, oversized))], [5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(await lastError('cluster'), { code: 'BAD_REQUEST', message: 'the SOCKS5 request names a host of 255 characters; DNS names have at most 253' });
    // Only authentication methods the gateway does not take: 0xff, then closed.
    assert.deepEqual([...(await exchangeRaw(gw, Buffer.from([5, 1, 2])))], [5, 0xff]);
  });

  test('a user RBAC does not let port-forward: the gateway is failed with FORBIDDEN, and connections are not allowed (2)', async () => {
    await k.ok('gateway', 'viewer', '--context', 'sim-viewer', '--port', '0', '--ephemeral');
    try {
      await waitUntil(async () => (await rpc.call('session.get', { name: 'viewer' })).state === 'failed', 'the viewer gateway to fail');
      const s = await rpc.call('session.get', { name: 'viewer' });
      assert.equal(s.lastError?.code, 'FORBIDDEN');
      // The verbs the transport's upgrade needs: SPDY's POST (create) or the WebSockets' GET; v4 alone needs get.
      const verbs = TEST_TRANSPORT === 'websocket' ? 'get' : 'create or get';
      assert.match(s.reason, new RegExp(`^forbidden: the user of context "sim-viewer" may not ${verbs} pods/portforward in namespace "default"`));
      const { reply, socket } = await socksConnect(s.listeners[0]!.port, 'web', 80);
      socket.destroy();
      assert.equal(reply, 2);
    } finally {
      await k.ok('remove', 'viewer');
    }
  });

  test('a kubeconfig gone by the time the gateway starts: it is failed, and its connections are refused saying so', async () => {
    const kubeconfig = join(k.dir, 'gone.kubeconfig');
    copyFileSync(cluster.kubeconfigPath, kubeconfig);
    await k.ok('gateway', 'gone', '--kubeconfig', kubeconfig, '--port', '0', '--ephemeral');
    try {
      rmSync(kubeconfig);
      await k.ok('restart', 'gone');
      await waitUntil(async () => (await rpc.call('session.get', { name: 'gone' })).state === 'failed', 'the gateway to fail');
      const s = await rpc.call('session.get', { name: 'gone' });
      assert.equal(s.lastError?.code, 'KUBECONFIG');
      assert.deepEqual(await proxyGet(s.listeners[0]!.port, 'http://web:80/'), { status: 502, body: `kport gateway: ${s.lastError!.message} (KUBECONFIG)\n` });
    } finally {
      await k.ok('remove', 'gone');
    }
  });

  // Last: it stops the API server.
  test('the API server out of reach: SOCKS5 reply 3 and HTTP 502 once connectTimeout has passed, the gateway waiting until it is back', async () => {
    const gw = await port('quick');
    await cluster.stopApi();
    try {
      // A namespace not watched yet: its first list cannot be made.
      const { reply, socket } = await socksConnect(gw, 'echo.ns2', 7000);
      socket.destroy();
      assert.equal(reply, 3);
      const e = await lastError('quick');
      assert.equal(e?.code, 'API_UNREACHABLE');
      assert.match(e!.message, /^no ready pod for svc\/echo\.ns2:7000 within 0\.3 s: cannot reach the API server https:\/\/127\.0\.0\.1:\d+ /);
      const viaHttp = await proxyGet(gw, 'http://echo.ns2:7000/');
      assert.equal(viaHttp.status, 502);
      assert.match(viaHttp.body, /^kport gateway: no ready pod for svc\/echo\.ns2:7000 within 0\.3 s: cannot reach the API server .* \(API_UNREACHABLE\)\n$/);
      const s = await rpc.call('session.get', { name: 'quick' });
      assert.equal(s.state, 'waiting');
      assert.match(s.reason, /^API server unreachable: /);
    } finally {
      await cluster.startApi();
    }
    await rpc.call('session.wait', { name: 'quick', timeoutMs: 10_000 });
    const { reply, socket } = await socksConnect(gw, 'echo.ns2', 7000);
    socket.destroy();
    assert.equal(reply, 0);
  });

  test('a client that connects and leaves without a byte is no error', async () => {
    const gw = await port('cluster');
    const before = await lastError('cluster');
    const socket = await open(gw);
    await new Promise<void>((resolve) => (socket.once('close', () => resolve()), socket.end()));
    const s = await rpc.call('session.get', { name: 'cluster' });
    assert.deepEqual(s.lastError && { code: s.lastError.code, message: s.lastError.message }, before);
  });
});

/**
 * A real kportd with gateways against the simulated cluster: every name form, over SOCKS5, HTTP and CONNECT, with
 * curl as users run it (and the tests' own client, which needs no curl); `kportctl env`, `gateway` and `list --wide`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RpcClient } from '../../client/rpc.js';
import type { SimCluster } from '../cluster/cluster.js';
import type { KportdHarness } from '../helpers/daemon.js';
import { connectGet, CURL, curl, curlOrSkip, gatewayCluster, gatewayDaemon, proxyGet, socksConnect } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

describe('gateway names through a real kportd', () => {
  let cluster: SimCluster;
  let k: KportdHarness;
  let rpc: RpcClient;
  let port: (name: string) => Promise<number>;
  let gw: number;
  /** Every way of naming something that answers HTTP with its pod's name, and the pods that may answer. */
  let names: [string, RegExp][];

  before(async () => {
    cluster = await gatewayCluster();
    ({ k, rpc, port } = await gatewayDaemon(cluster));
    gw = await port('cluster');
    const web = /^web-[a-z0-9]+-[a-z0-9]+\n$/;
    const clusterIp = (cluster.get('services', 'default', 'web')!.spec as { clusterIP: string }).clusterIP;
    const storePod = cluster.get('pods', 'default', 'store-0')!;
    const podIp = (storePod.status as { podIP: string }).podIP;
    names = [
      ['web.default.svc.cluster.local', web],
      ['web.default.svc', web],
      ['web.default', web],
      ['web', web],
      [clusterIp, web],
      [`${podIp}:8080`, /^store-0\n$/],
      ['store-0.store.default.svc.cluster.local:8080', /^store-0\n$/],
    ];
  });
  after(async () => {
    await rpc?.close();
    await k?.cleanup();
    await cluster?.stop();
  });

  const url = (name: string) => `http://${name}/`;

  test('curl --socks5-hostname reaches every name form', curlOrSkip(), async () => {
    for (const [name, answer] of names) {
      const r = await curl(['--socks5-hostname', `127.0.0.1:${gw}`, url(name)]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, answer, name);
    }
  });

  test('curl -x (HTTP, absolute form) reaches every name form', curlOrSkip(), async () => {
    for (const [name, answer] of names) {
      const r = await curl(['-x', `http://127.0.0.1:${gw}`, url(name)]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, answer, name);
    }
  });

  test('curl -p -x (a CONNECT tunnel) reaches every name form', curlOrSkip(), async () => {
    for (const [name, answer] of names) {
      const r = await curl(['-p', '-x', `http://127.0.0.1:${gw}`, url(name)]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, answer, name);
    }
  });

  test("the tests' own client reaches every name form over SOCKS5, HTTP and CONNECT", async () => {
    for (const [name, answer] of names) {
      const [host, p = '80'] = name.split(':') as [string, string?];
      const { reply, socket } = await socksConnect(gw, host, Number(p));
      assert.equal(reply, 0, name);
      const body = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('close', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
        socket.resume();
        socket.write(`GET / HTTP/1.1\r\nHost: ${name}\r\nConnection: close\r\n\r\n`);
      });
      assert.match(body, answer, `SOCKS5 ${name}`);
      const viaHttp = await proxyGet(gw, url(name));
      assert.equal(viaHttp.status, 200, name);
      assert.match(viaHttp.body, answer, `HTTP ${name}`);
      const viaConnect = await connectGet(gw, name.includes(':') ? name : `${name}:80`);
      assert.equal(viaConnect.status, 200, name);
      assert.match(viaConnect.body, answer, `CONNECT ${name}`);
    }
  });

  test('eval "$(kportctl env cluster)" and a plain curl of a cluster name', curlOrSkip(), async () => {
    const line = await k.ok('env', 'cluster');
    const at = `127.0.0.1:${gw}`;
    assert.equal(
      line,
      `export ALL_PROXY=socks5h://${at} all_proxy=socks5h://${at} HTTPS_PROXY=http://${at} https_proxy=http://${at} HTTP_PROXY=http://${at} http_proxy=http://${at} NO_PROXY=localhost,127.0.0.1,::1 no_proxy=localhost,127.0.0.1,::1\n`,
    );
    // The line exactly as kportctl printed it, evaluated by sh, then curl with no proxy flag at all.
    const script = `eval "$KPORT_ENV_LINE"; exec "$CURL_BIN" -sS --max-time 20 http://web.default.svc/`;
    const env = { PATH: process.env.PATH ?? '', KPORT_ENV_LINE: line, CURL_BIN: CURL! };
    const shell = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile('/bin/sh', ['-c', script], { env }, (err, out) => resolve({ code: err ? 1 : 0, out }));
    });
    assert.equal(shell.code, 0);
    assert.match(shell.out, /^web-/);
    assert.equal(await k.ok('env', '--unset'), 'unset ALL_PROXY all_proxy HTTPS_PROXY https_proxy HTTP_PROXY http_proxy NO_PROXY no_proxy\n');
  });

  test('kportctl env refuses what is not a gateway', async () => {
    const r = await k.ctl('env', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NOT_FOUND: no session named "nope"/);
  });

  test('kportctl list --wide shows live connections by destination', async () => {
    // Earlier tests' connections gone first (over v4 a closed one drains for up to 2 s).
    await waitUntil(async () => (await rpc.call('session.get', { name: 'cluster' })).destinations.length === 0, 'earlier connections gone');
    const held = await Promise.all([socksConnect(gw, 'echo', 7000), socksConnect(gw, 'echo.default', 7000), socksConnect(gw, 'store-0.store.default.svc', 8080)]);
    assert.deepEqual(held.map((h) => h.reply), [0, 0, 0]);
    await waitUntil(async () => (await rpc.call('session.get', { name: 'cluster' })).destinations.length === 2, 'both destinations listed');
    assert.deepEqual((await rpc.call('session.get', { name: 'cluster' })).destinations, [
      { destination: 'svc/echo.default:7000', active: 2 },
      { destination: 'pod/store-0.store.default:8080', active: 1 },
    ]);
    const wide = await k.ok('list', '--wide');
    const row = wide.split('\n').find((l) => l.startsWith('cluster '));
    assert.ok(row, wide);
    assert.match(row, /svc\/echo\.default:7000×2,pod\/store-0\.store\.default:8080×1/);
    assert.match(row, /127\.0\.0\.1:\d+ → cluster \(sim\)/);
    for (const h of held) h.socket.destroy();
    await waitUntil(async () => (await rpc.call('session.get', { name: 'cluster' })).destinations.length === 0, 'destinations gone with their connections');
  });

  test('kportctl gateway adds a runtime gateway, kept in sessions.json', async () => {
    const out = await k.ok('gateway', 'extra', '--port', '0', '--allow-namespace', 'default', '--allow-namespace', 'ns1');
    assert.match(out, /^added gateway extra: 127\.0\.0\.1:\d+ → cluster \(sim\) \(ready\)\n$/);
    const stored = JSON.parse(readFileSync(join(k.stateDir, 'sessions.json'), 'utf8')) as { sessions: { name: string; kind: string; namespaces: string[] }[] };
    assert.deepEqual(stored.sessions.map((s) => [s.kind, s.name, s.namespaces]), [['gateway', 'extra', ['default', 'ns1']]]);
    await rpc.call('session.wait', { name: 'extra', timeoutMs: 10_000 });
    const r = await proxyGet(await port('extra'), 'http://web/');
    assert.equal(r.status, 200);
    await k.ok('remove', 'extra');
  });
});

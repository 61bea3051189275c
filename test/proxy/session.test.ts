/**
 * Proxy sessions end to end against the simulated cluster: listeners (port 0, Unix socket, port in use),
 * credentials (token, client certificate, wrong CA), streaming (watch, log follow), upgrades (exec), static
 * files, recovery after the API server goes away — and, across all of it, a log that never holds a secret.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { SimCluster } from '../cluster/cluster.js';
import { generatePki } from '../cluster/pki.js';
import { writeExecPlugin } from '../helpers/exec-plugin.js';
import { exited } from '../helpers/process.js';
import { waitUntil } from '../helpers/wait.js';
import { captureLog, execThrough, httpLines, send, startProxy, stateIs, type Answer, type TestProxy } from './fixtures.js';

describe('proxy sessions', () => {
  let cluster: SimCluster;
  let dir: string;
  const captured = captureLog();
  const proxies: TestProxy[] = [];
  /** Starts a proxy that is stopped after the test run, logging into the shared capture. */
  const proxy = async (over: Parameters<typeof startProxy>[1] = {}, kubeconfig?: string) => {
    const p = await startProxy(kubeconfig ?? cluster.kubeconfigPath, over, captured.log);
    proxies.push(p);
    return p;
  };

  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    dir = mkdtempSync(join(tmpdir(), 'kport-proxy-'));
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('port 0: the bound port is reported and requests reach the API server with the context token', async () => {
    const p = await proxy();
    const [listener] = p.session.core.status().listeners;
    assert.equal(p.session.core.state, 'ready');
    assert.equal(listener?.address, '127.0.0.1');
    assert.ok(listener.port > 0);
    const r = await send(p.url, '/api/v1/namespaces/default/pods/db-0');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).metadata.name, 'db-0');
    const { counters } = p.session.core.status();
    assert.equal(counters.requests, 1);
    assert.equal(counters.bytesIn, Buffer.byteLength(r.body));
    assert.equal(counters.connectionsTotal, 1);
  });

  test('a client certificate context works the same', async () => {
    const p = await proxy({ context: 'sim-cert' });
    const r = await send(p.url, '/api/v1/namespaces/default/pods?labelSelector=app%3Ddb');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).items.map((i: { metadata: { name: string } }) => i.metadata.name), ['db-0']);
  });

  test('a request body is streamed through (POST)', async () => {
    const p = await proxy();
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'posted-through-kport' } });
    const r = await send(p.url, '/api/v1/namespaces', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(r.status, 201, r.body);
    assert.ok(cluster.get('namespaces', undefined, 'posted-through-kport'));
    assert.equal(p.session.core.status().counters.bytesOut, Buffer.byteLength(body));
  });

  test('Unix socket: mode 0600, serves requests, and is removed on stop', async () => {
    const socketPath = join(dir, 'proxy.sock');
    const p = await proxy({ unixSocket: socketPath, port: 0, addresses: [] });
    assert.equal(p.session.core.state, 'ready');
    assert.deepEqual(p.session.core.status().listeners, [{ address: socketPath, port: 0, remote: null }]);
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
    const r = await send('', '/version', { socketPath });
    assert.equal(r.status, 200);
    assert.match(r.body, /kport-sim/);
    await p.stop();
    assert.equal(existsSync(socketPath), false);
  });

  test('Unix socket: a stale socket file is replaced; a live one is refused', async () => {
    const stale = join(dir, 'stale.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGKILL'); // dies without removing its socket file
    await exited(child);
    assert.ok(existsSync(stale));
    const p = await proxy({ unixSocket: stale, port: 0, addresses: [] });
    assert.equal(p.session.core.state, 'ready');
    assert.equal((await send('', '/version', { socketPath: stale })).status, 200);

    const live = join(dir, 'live.sock');
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(live, resolve));
    try {
      const q = await proxy({ unixSocket: live, port: 0, addresses: [] });
      assert.equal(q.session.core.state, 'failed');
      assert.deepEqual(lastError(q), { code: 'PORT_IN_USE', message: `unix socket ${live} is in use by another process` });
      await q.stop();
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  test('Unix socket: a path over 107 bytes is refused (Linux would cut it short)', async () => {
    const long = join(dir, `${'x'.repeat(120)}.sock`);
    const p = await proxy({ unixSocket: long, port: 0, addresses: [] });
    assert.equal(p.session.core.state, 'failed');
    assert.equal(p.session.core.status().lastError?.code, 'BIND_FAILED');
    assert.match(p.session.core.status().lastError!.message, /bytes; Linux allows 107/);
  });

  test('port in use: failed with the exact message, then ready once the port is free', async () => {
    const blocker = await listenTcp();
    const port = (blocker.address() as AddressInfo).port;
    const p = await proxy({ port });
    assert.equal(p.session.core.state, 'failed');
    assert.deepEqual(lastError(p), { code: 'PORT_IN_USE', message: `address 127.0.0.1:${port} is in use by another process` });
    assert.deepEqual(p.session.core.status().listeners, []);
    await new Promise((resolve) => blocker.close(resolve));
    await stateIs(p.session, 'ready');
    assert.deepEqual(p.session.core.status().listeners, [{ address: '127.0.0.1', port, remote: null }]);
  });

  test('an unknown context: failed, with the kubeconfig error', async () => {
    const p = await proxy({ context: 'nope' });
    assert.equal(p.session.core.state, 'failed');
    assert.equal(p.session.core.status().lastError?.code, 'CONTEXT_NOT_FOUND');
  });

  test('log follow: lines arrive while the response is still open (no buffering)', async () => {
    const p = await proxy();
    const log = await httpLines(`${p.url}/api/v1/namespaces/default/pods/db-0/log?follow=true`);
    assert.equal(log.status, 200);
    assert.equal(await log.next(), 'db-0: started');
    assert.equal(await log.next(), 'db-0: tick 1');
    assert.equal(await log.next(), 'db-0: tick 2');
    log.close();
  });

  test('exec: refused (403) by the default filters, passed through over WebSocket with disableFilter', async () => {
    const filtered = await proxy();
    assert.deepEqual(await execThrough(filtered.url, 'db-0', ['echo', 'hi']), { status: 403, body: 'Forbidden\n' });
    const open = await proxy({ disableFilter: true });
    assert.deepEqual(await execThrough(open.url, 'db-0', ['echo', 'hi']), { stdout: 'echo hi\n' });
    assert.match(captured.text(), /request filter disabled/);
  });

  test('a credential Node cannot send as a header: requests and upgrades get a 502 saying so, never a hang', async () => {
    const kubeconfig = join(dir, 'control-char.kubeconfig');
    writeFileSync(kubeconfig, cluster.kubeconfig({ token: `${cluster.tokens.admin}\u0001` }));
    const p = await proxy({ disableFilter: true }, kubeconfig);
    const plain = await send(p.url, '/api/v1/namespaces/default/pods');
    assert.equal(plain.status, 502);
    assert.match(plain.body, /^kport: the credentials of user "\S+" hold a line break or control character/);
    const deadline = new Promise<'no answer'>((r) => setTimeout(r, 10_000, 'no answer').unref());
    const upgraded = await Promise.race([execThrough(p.url, 'db-0', ['echo', 'hi']), deadline]);
    assert.ok(typeof upgraded === 'object' && 'status' in upgraded && upgraded.status === 502, JSON.stringify(upgraded));
    assert.match(upgraded.body, /^kport: the credentials of user "\S+" hold a line break or control character/);
  });

  test('a 401 to the client\'s own Authorization does not renew kport\'s credentials (no exec plugin run per request)', async () => {
    const plugin = writeExecPlugin(mkdtempSync(join(dir, 'exec-')), cluster.tokens.admin);
    const doc = parse(cluster.kubeconfig()) as { users: { user: object }[] };
    doc.users[0]!.user = { exec: plugin.exec };
    const kubeconfig = join(dir, 'exec.kubeconfig');
    writeFileSync(kubeconfig, stringify(doc));
    const p = await proxy({}, kubeconfig);
    assert.equal((await send(p.url, '/api/v1/namespaces/default/pods')).status, 200);
    const runs = plugin.runs();
    for (let i = 0; i < 3; i++) assert.equal((await send(p.url, '/api/v1/namespaces/default/pods', { headers: { authorization: 'Bearer stale' } })).status, 401);
    assert.equal((await send(p.url, '/api/v1/namespaces/default/pods')).status, 200);
    assert.equal(plugin.runs(), runs, 'the plugin did not run again for the client\'s own token');
  });

  test('www: static files are served; nothing outside the folder is', async () => {
    const www = join(dir, 'www');
    mkdirSync(join(www, 'docs'), { recursive: true });
    writeFileSync(join(www, 'hello.txt'), 'hello from www');
    writeFileSync(join(www, 'docs', 'index.html'), '<h1>docs</h1>');
    writeFileSync(join(dir, 'secret.txt'), 'outside the folder');
    symlinkSync(join(dir, 'secret.txt'), join(www, 'escape.txt'));
    const p = await proxy({ www, wwwPrefix: '/static/' });
    const file = await send(p.url, '/static/hello.txt', { headers: { host: 'evil.com' } }); // the filter guards the API only, as in kubectl
    assert.deepEqual([file.status, file.headers['content-type'], file.body], [200, 'text/plain; charset=utf-8', 'hello from www']);
    assert.deepEqual(redirectOf(await send(p.url, '/static/docs')), [301, 'docs/']);
    assert.equal((await send(p.url, '/static/docs/')).body, '<h1>docs</h1>');
    assert.match((await send(p.url, '/static/')).body, /<a href="docs\/">docs\/<\/a>\n<a href="escape.txt">/);
    for (const path of ['/static/../secret.txt', '/static/%2e%2e/secret.txt', '/static/docs/../../secret.txt']) {
      const r = await send(p.url, path);
      assert.deepEqual(redirectOf(r), [301, '/secret.txt'], path);
    }
    const escaped = await send(p.url, '/static/escape.txt');
    assert.deepEqual([escaped.status, escaped.body], [404, '404 page not found\n']);
  });

  test('the API server goes away mid-watch: the watch ends, requests get 502, and the session recovers by itself', async () => {
    const p = await proxy();
    const watch = await httpLines(`${p.url}/api/v1/namespaces/default/pods?watch=1&labelSelector=app%3Ddb`);
    assert.equal(JSON.parse(await watch.next()).type, 'ADDED');
    await cluster.stopApi();
    try {
      assert.ok(['complete', 'aborted'].includes(await watch.ended));
      const down = await send(p.url, '/version');
      assert.equal(down.status, 502);
      assert.equal(down.headers['content-type'], 'text/plain; charset=utf-8');
      assert.match(down.body, new RegExp(`^kport: cannot reach the API server ${cluster.url} \\(ECONNREFUSED`));
      assert.equal(p.session.core.state, 'waiting');
      assert.equal(p.session.core.status().lastError?.code, 'UPSTREAM_ERROR');
      assert.equal(p.session.core.status().counters.upstreamErrors, 1);
    } finally {
      await cluster.startApi();
    }
    await stateIs(p.session, 'ready');
    const up = await send(p.url, '/api/v1/namespaces/default/pods/db-0');
    assert.equal(up.status, 200);
  });

  test('a wrong CA is a TLS error, never an insecure fallback', async () => {
    const kubeconfig = join(dir, 'wrong-ca.kubeconfig');
    writeFileSync(kubeconfig, cluster.kubeconfig({ caCert: generatePki().caCert }), { mode: 0o600 });
    const p = await proxy({}, kubeconfig);
    const r = await send(p.url, '/version');
    assert.equal(r.status, 502);
    assert.match(r.body, /TLS verification of .* failed/);
    await stateIs(p.session, 'failed');
    assert.equal(p.session.core.status().lastError?.code, 'TLS_ERROR');
  });

  test('stop ends open watches and keep-alive connections at once', async () => {
    const p = await proxy();
    const watch = await httpLines(`${p.url}/api/v1/namespaces/default/pods?watch=1`);
    await watch.next();
    assert.equal(p.session.core.status().counters.connectionsActive, 1);
    await p.stop();
    assert.equal(await watch.ended, 'aborted');
    assert.equal(p.session.core.state, 'stopped');
    await waitUntil(() => p.session.core.status().counters.connectionsActive === 0, 'connections counted closed');
  });

  test('no token, client key or certificate ever appears in the log', () => {
    const text = captured.text();
    assert.match(text, /"msg":"proxy request"/); // the request log was on
    const pemBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    const secrets = [cluster.tokens.admin, cluster.tokens.viewer, ...pemBody(cluster.pki.clientKey), ...pemBody(cluster.pki.clientCert), ...pemBody(cluster.pki.caCert)];
    for (const s of secrets) assert.ok(!text.includes(s), 'a secret leaked into the log');
    assert.ok(!/authorization|bearer/i.test(text), 'request headers leaked into the log');
  });
});

/** Listens on a free TCP port of 127.0.0.1. */
function listenTcp(): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A session's last error without its timestamp. */
function lastError(p: TestProxy): { code: string; message: string } | null {
  const e = p.session.core.status().lastError;
  return e && { code: e.code, message: e.message };
}

/** Status and Location of an answer. */
function redirectOf(a: Answer): [number, unknown] {
  return [a.status, a.headers.location];
}

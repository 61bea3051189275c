/** A real kportd with `metrics:` against the simulated cluster: what a scraper sees, and the section's live edits. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RpcClient } from '../../client/rpc.js';
import { SimCluster } from '../cluster/cluster.js';
import { KportdHarness } from '../helpers/daemon.js';
import { echo, open } from '../helpers/forward.js';
import { fetchText } from '../helpers/http.js';
import { sample } from '../helpers/metrics.js';
import { waitUntil } from '../helpers/wait.js';

describe('kportd with metrics', () => {
  let cluster: SimCluster;
  let k: KportdHarness;
  let rpc: RpcClient;
  /** kport.yaml with two forwards (db echoes; nothing listens on refused's port) and `metrics` as written. */
  const config = (metrics: string) =>
    `kubeconfig: ${cluster.kubeconfigPath}\nforwards:\n  - { name: db, target: sts/db, ports: [":5432"] }\n  - { name: refused, target: sts/db, ports: [":6543"] }\n${metrics}`;
  const metricsStatus = async () => (await rpc.call('daemon.status', {})).metrics;
  const url = async () => {
    const m = await metricsStatus();
    if (!m?.url) throw new Error(`metrics not served: ${JSON.stringify(m)}`);
    return m.url;
  };
  const scrape = async () => {
    const res = await fetchText(await url());
    assert.equal(res.status, 200);
    return res.body;
  };
  const localPort = async (name: string) => (await rpc.call('session.get', { name })).listeners[0]!.port;
  /** Writes kport.yaml and applies it at once (the file watch would too, a little later). */
  const reload = async (yaml: string) => {
    k.writeConfig(yaml);
    return rpc.call('config.reload', {});
  };
  const refusal = (u: string) => fetchText(u).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code);

  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
    k = new KportdHarness();
    k.writeConfig(config('metrics:\n  port: 0\n'));
    await k.start();
    rpc = await k.rpc();
    await rpc.call('session.wait', { name: 'db', timeoutMs: 10_000 });
    await rpc.call('session.wait', { name: 'refused', timeoutMs: 10_000 });
  });
  after(async () => {
    await rpc?.close();
    await k?.cleanup();
    await cluster?.stop();
  });

  test('served on loopback by default, with the sessions and the daemon itself', async () => {
    assert.match(await url(), /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const text = await scrape();
    assert.equal(sample(text, 'kport_session_state', { session: 'db', kind: 'forward', state: 'ready' }), 1);
    assert.equal(sample(text, 'kport_session_state', { session: 'db', kind: 'forward', state: 'waiting' }), 0);
    for (const name of ['process_resident_memory_bytes', 'process_open_fds', 'nodejs_eventloop_lag_seconds']) {
      assert.notEqual(sample(text, name), undefined, `${name} is missing`);
    }
    assert.equal((await fetchText((await url()).replace(/metrics$/, 'other'))).status, 404);
  });

  test('traffic through a forward raises its connections, bytes and stream-open count', async () => {
    const db = { session: 'db', kind: 'forward' };
    const read = (text: string, name: string) => sample(text, name, db) ?? 0;
    const before = await scrape();
    const payload = 'x'.repeat(4096);
    assert.equal(await echo(await localPort('db'), payload), payload);
    await waitUntil(
      async () => {
        const now = await scrape();
        return (
          read(now, 'kport_session_connections_total') >= read(before, 'kport_session_connections_total') + 1 &&
          read(now, 'kport_session_bytes_out_total') >= read(before, 'kport_session_bytes_out_total') + payload.length &&
          read(now, 'kport_session_bytes_in_total') >= read(before, 'kport_session_bytes_in_total') + payload.length &&
          read(now, 'kport_session_stream_open_seconds_count') >= read(before, 'kport_session_stream_open_seconds_count') + 1
        );
      },
      'the echo to show in the metrics',
      10_000,
      50,
    );
    assert.equal(sample(await scrape(), 'kport_session_state', { ...db, state: 'ready' }), 1);
  });

  test('a connection to a port nothing listens on is counted by its error code', async () => {
    const conn = await open(await localPort('refused'));
    await new Promise((r) => conn.once('close', r));
    const labels = { session: 'refused', kind: 'forward', code: 'STREAM_ERROR' };
    await waitUntil(async () => (sample(await scrape(), 'kport_session_errors_total', labels) ?? 0) >= 1, 'STREAM_ERROR to be counted', 10_000, 50);
  });

  test('a bad address is a config error at its line and column, and the server stays where it was', async () => {
    const served = await url();
    const result = await reload(config('metrics:\n  address: nope\n  port: 0\n'));
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.errors.map((e) => [e.line, e.col, e.path, e.message]),
      [[6, 12, 'metrics.address', '"nope" is not an IP address (or localhost)']],
    );
    assert.equal(await url(), served);
    assert.equal((await fetchText(served)).status, 200);
  });

  test('a port in use is an error in daemon.status and the log, not a crash; a reload retries it', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const old = await url();
      assert.equal((await reload(config(`metrics:\n  port: ${port}\n`))).ok, true);
      assert.deepEqual((await metricsStatus())?.error, { code: 'PORT_IN_USE', message: `address 127.0.0.1:${port} is in use by another process` });
      assert.equal(await refusal(old), 'ECONNREFUSED', 'the old port is closed');
      const logged = () => /"code":"PORT_IN_USE".*"msg":"cannot serve metrics"/.test(readFileSync(`${k.stateDir}/kportd.log`, 'utf8'));
      await waitUntil(logged, 'the log to say why', 10_000, 50);
      assert.equal((await rpc.call('session.get', { name: 'db' })).state, 'ready');
      await new Promise((resolve) => squatter.close(resolve));
      assert.equal((await rpc.call('config.reload', {})).ok, true);
      assert.equal(await url(), `http://127.0.0.1:${port}/metrics`);
      assert.equal((await fetchText(await url())).status, 200);
    } finally {
      squatter.close();
    }
  });

  test('removing the section from the file (the file watch applies it) closes the port', async () => {
    const served = await url();
    k.writeConfig(config(''));
    await waitUntil(async () => (await metricsStatus()) === null, 'the metrics server to stop', 10_000, 50);
    assert.equal(await refusal(served), 'ECONNREFUSED');
    assert.equal((await rpc.call('session.get', { name: 'db' })).state, 'ready', 'the sessions are untouched');
    // And back: a new section starts a server again.
    k.writeConfig(config('metrics: { port: 0 }\n'));
    await waitUntil(async () => (await metricsStatus())?.url != null, 'the metrics server to start again', 10_000, 50);
    assert.equal(sample(await scrape(), 'kport_session_state', { session: 'db', kind: 'forward', state: 'ready' }), 1);
  });
});

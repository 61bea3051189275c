/** The metrics endpoint in-process, over real SessionCores: what a scrape shows, and the server's lifecycle. */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { MetricsSpec } from '../../config/types.js';
import { KportError } from '../../daemon/api/errors.js';
import { MetricsEndpoint } from '../../daemon/metrics/endpoint.js';
import { SessionCore } from '../../daemon/session/core.js';
import { fetchText } from '../helpers/http.js';
import { silentLogger } from '../helpers/log.js';
import { sample } from '../helpers/metrics.js';
import { forwardSpec, proxySpec } from '../helpers/specs.js';

const ANY_PORT: MetricsSpec = { address: '127.0.0.1', port: 0 };

/** An endpoint over `cores` (the test adds and removes them), as kportd wires one. */
function endpointOver(cores: SessionCore[]): MetricsEndpoint {
  const endpoint = new MetricsEndpoint({ sessions: { list: () => cores.map((c) => c.status()) }, log: silentLogger(), version: '9.9.9' });
  for (const c of cores) endpoint.observe(c);
  return endpoint;
}

function urlOf(endpoint: MetricsEndpoint): string {
  const url = endpoint.status()?.url;
  if (!url) throw new Error(`not serving: ${JSON.stringify(endpoint.status())}`);
  return url;
}

async function scrape(endpoint: MetricsEndpoint): Promise<string> {
  const res = await fetchText(urlOf(endpoint));
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return res.body;
}

/** Resolves with the error code of a connection attempt that fails (ECONNREFUSED once nothing listens). */
const refusal = (url: string) => fetchText(url).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code);

describe('a metrics endpoint', () => {
  const web = new SessionCore(forwardSpec('web'), 'config', silentLogger());
  const api = new SessionCore(proxySpec('api'), 'runtime', silentLogger());
  const cores = [web, api];
  const endpoint = endpointOver(cores);
  before(() => endpoint.apply(ANY_PORT));
  after(() => endpoint.close());

  test('serves on loopback; anything but GET /metrics is 404', async () => {
    assert.match(urlOf(endpoint), /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const base = urlOf(endpoint).replace(/\/metrics$/, '');
    assert.equal((await fetchText(`${base}/`)).status, 404);
    assert.equal((await fetchText(`${base}/metrics/x`)).status, 404);
    assert.equal((await fetchText(`${base}/metrics`, { method: 'POST' })).status, 404);
    assert.equal((await fetchText(`${base}/metrics?name[]=x`)).status, 200);
  });

  test("each session's state and counters, as they are when scraped", async () => {
    web.transition('ready', 'forwarding');
    Object.assign(web.counters, { connectionsActive: 2, connectionsTotal: 5, bytesIn: 1000, bytesOut: 20, reconnects: 1, failovers: 3 });
    Object.assign(api.counters, { requests: 7, upstreamErrors: 2 });
    const text = await scrape(endpoint);
    const w = { session: 'web', kind: 'forward' };
    assert.equal(sample(text, 'kport_session_state', { ...w, state: 'ready' }), 1);
    assert.equal(sample(text, 'kport_session_state', { ...w, state: 'starting' }), 0);
    assert.equal(sample(text, 'kport_session_state', { session: 'api', kind: 'proxy', state: 'starting' }), 1);
    assert.equal(sample(text, 'kport_session_connections_active', w), 2);
    assert.equal(sample(text, 'kport_session_connections_total', w), 5);
    assert.equal(sample(text, 'kport_session_bytes_in_total', w), 1000);
    assert.equal(sample(text, 'kport_session_bytes_out_total', w), 20);
    assert.equal(sample(text, 'kport_session_reconnects_total', w), 1);
    assert.equal(sample(text, 'kport_session_failovers_total', w), 3);
    assert.equal(sample(text, 'kport_session_requests_total', { session: 'api', kind: 'proxy' }), 7);
    assert.equal(sample(text, 'kport_session_upstream_errors_total', { session: 'api', kind: 'proxy' }), 2);
    assert.equal(sample(text, 'kport_session_requests_total', w), undefined, 'proxy counters are for proxies only');

    web.counters.connectionsTotal++;
    assert.equal(sample(await scrape(endpoint), 'kport_session_connections_total', w), 6);
  });

  test('errors by code and stream-open times, from the cores\' events', async () => {
    web.recordError(new KportError('STREAM_ERROR', 'error forwarding port 80'));
    web.recordError(new KportError('STREAM_ERROR', 'error forwarding port 80'));
    api.recordError(new KportError('UPSTREAM_ERROR', 'unreachable'));
    web.observeStreamOpen(3);
    web.observeStreamOpen(1500);
    const text = await scrape(endpoint);
    const w = { session: 'web', kind: 'forward' };
    assert.equal(sample(text, 'kport_session_errors_total', { ...w, code: 'STREAM_ERROR' }), 2);
    assert.equal(sample(text, 'kport_session_errors_total', { session: 'api', kind: 'proxy', code: 'UPSTREAM_ERROR' }), 1);
    assert.equal(sample(text, 'kport_session_stream_open_seconds_count', w), 2);
    assert.ok(Math.abs(sample(text, 'kport_session_stream_open_seconds_sum', w)! - 1.503) < 1e-9);
    assert.equal(sample(text, 'kport_session_stream_open_seconds_bucket', { ...w, le: '0.0025' }), 0);
    assert.equal(sample(text, 'kport_session_stream_open_seconds_bucket', { ...w, le: '0.005' }), 1);
    assert.equal(sample(text, 'kport_session_stream_open_seconds_bucket', { ...w, le: '0.0005' }), 0);
    assert.equal(sample(text, 'kport_session_stream_open_seconds_bucket', { ...w, le: '5' }), 2);
  });

  test("the daemon's own figures: RSS, open fds, event-loop lag, version", async () => {
    const text = await scrape(endpoint);
    assert.ok(sample(text, 'process_resident_memory_bytes')! > 0);
    assert.ok(sample(text, 'process_open_fds')! > 0);
    assert.ok(sample(text, 'nodejs_eventloop_lag_seconds')! >= 0);
    assert.equal(sample(text, 'kport_build_info', { version: '9.9.9' }), 1);
  });

  test('a removed session leaves no series behind', async () => {
    const gone = new SessionCore(forwardSpec('gone'), 'runtime', silentLogger());
    cores.push(gone);
    endpoint.observe(gone);
    gone.recordError(new KportError('CONNECT_TIMEOUT', 'no ready pod'));
    gone.observeStreamOpen(10);
    assert.match(await scrape(endpoint), /session="gone"/);
    cores.pop();
    assert.doesNotMatch(await scrape(endpoint), /session="gone"/);
  });
});

describe('the metrics server follows its spec', () => {
  test('nothing configured: no server and no status', async () => {
    const endpoint = endpointOver([]);
    await endpoint.apply(null);
    assert.equal(endpoint.status(), null);
  });

  test('moved, then removed: each old port stops answering', async () => {
    const endpoint = endpointOver([]);
    try {
      await endpoint.apply(ANY_PORT);
      const first = urlOf(endpoint);
      await endpoint.apply(ANY_PORT);
      assert.equal(urlOf(endpoint), first, 'the same spec keeps the server');
      await endpoint.apply({ address: '::1', port: 0 });
      const second = urlOf(endpoint);
      assert.match(second, /^http:\/\/\[::1\]:\d+\/metrics$/);
      assert.equal(await refusal(first), 'ECONNREFUSED');
      assert.equal((await fetchText(second)).status, 200);
      await endpoint.apply(null);
      assert.equal(endpoint.status(), null);
      assert.equal(await refusal(second), 'ECONNREFUSED');
    } finally {
      await endpoint.close();
    }
  });

  test('a port in use is an error in the status, not a throw; applying again once it is free binds', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    const endpoint = endpointOver([]);
    try {
      await endpoint.apply({ address: '127.0.0.1', port });
      assert.deepEqual(endpoint.status(), {
        address: '127.0.0.1',
        port,
        url: null,
        error: { code: 'PORT_IN_USE', message: `address 127.0.0.1:${port} is in use by another process` },
      });
      await new Promise((resolve) => squatter.close(resolve));
      await endpoint.apply({ address: '127.0.0.1', port });
      assert.equal(urlOf(endpoint), `http://127.0.0.1:${port}/metrics`);
      assert.equal(endpoint.status()?.error, null);
    } finally {
      squatter.close();
      await endpoint.close();
    }
  });

  test('once closed (shutdown), a late reload does not start it again', async () => {
    const endpoint = endpointOver([]);
    await endpoint.apply(ANY_PORT);
    const url = urlOf(endpoint);
    await endpoint.close();
    await endpoint.apply(ANY_PORT);
    assert.equal(endpoint.status(), null);
    assert.equal(await refusal(url), 'ECONNREFUSED');
  });
});

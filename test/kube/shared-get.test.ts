/**
 * One-shot requests to the API server. Identical GETs in flight share one request (100 forwards of one workload
 * starting together make one request, not 100 TLS connections), while each caller keeps its own cancellation:
 * one leaving does not cancel the others, and the request is cancelled only when no caller is left. Different
 * ones take turns, 8 at a time (100 forwards of 100 deployments do not open 100 connections at once); the
 * reachability probe does not wait its turn, and a request cancelled while waiting never reaches the server.
 * Against an HTTPS server that counts requests and answers only when told.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { KubeClient } from '../../daemon/kube/client.js';
import { loadContext } from '../../daemon/kube/kubeconfig.js';
import { generatePki } from '../cluster/pki.js';
import { waitUntil } from '../helpers/wait.js';

let server: Server;
let dir: string;
let client: KubeClient;
/** Requests the server holds, by path, answered by `answer`; and those whose client went away. */
const held: { path: string; res: ServerResponse }[] = [];
let closedEarly = 0;
/** The most requests the server has held at once. */
let mostHeld = 0;

before(async () => {
  const pki = generatePki();
  server = createServer({ key: pki.serverKey, cert: pki.serverCert }, (req, res) => {
    held.push({ path: req.url!, res });
    mostHeld = Math.max(mostHeld, held.length);
    res.once('close', () => void (res.writableFinished || closedEarly++));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  dir = mkdtempSync(join(tmpdir(), 'kport-shared-get-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, 'certificate-authority-data': Buffer.from(pki.caCert).toString('base64') } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
  );
  client = new KubeClient(loadContext([kubeconfig], null));
});
after(async () => {
  client.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Answers every held request for `path` with `body`. */
function answer(path: string, body: unknown): void {
  for (let i = held.length - 1; i >= 0; i--) {
    if (held[i]!.path === path) held.splice(i, 1)[0]!.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

test('identical GETs at the same time make one request; each caller gets its own copy of the answer', async () => {
  const path = '/apis/apps/v1/namespaces/default/statefulsets/db';
  const calls = Array.from({ length: 20 }, () => client.request<{ n: number }>(path, { signal: new AbortController().signal }));
  const other = client.request<{ n: number }>('/api/v1/namespaces/default');
  await waitUntil(() => held.length === 2, 'both requests held', 5_000);
  answer(path, { n: 1 });
  answer('/api/v1/namespaces/default', { n: 2 });
  const got = await Promise.all(calls);
  assert.deepEqual(got.map((g) => g.n), Array(20).fill(1));
  assert.notEqual(got[0], got[1], 'each caller parses its own copy');
  assert.equal((await other).n, 2);
  // Once answered, the next GET is a new request.
  const later = client.request<{ n: number }>(path);
  await waitUntil(() => held.length === 1, 'the later request held', 5_000);
  answer(path, { n: 3 });
  assert.equal((await later).n, 3);
});

test('a caller that cancels leaves the others waiting; the request is cancelled when the last one leaves', async () => {
  const path = '/api/v1/namespaces/default/pods/db-0';
  const [a, b] = [new AbortController(), new AbortController()];
  const first = client.request(path, { signal: a.signal });
  const second = client.request<{ ok: boolean }>(path, { signal: b.signal });
  await waitUntil(() => held.length === 1, 'one request held', 5_000);
  a.abort();
  await assert.rejects(first, /request cancelled/);
  assert.equal(closedEarly, 0, 'the request goes on for the caller still waiting');
  answer(path, { ok: true });
  assert.deepEqual(await second, { ok: true });

  const [c, d] = [new AbortController(), new AbortController()];
  const third = client.request(path, { signal: c.signal });
  const fourth = client.request(path, { signal: d.signal });
  await waitUntil(() => held.length === 1, 'one request held', 5_000);
  c.abort();
  d.abort();
  await Promise.all([assert.rejects(third, /request cancelled/), assert.rejects(fourth, /request cancelled/)]);
  await waitUntil(() => closedEarly === 1, 'the request cancelled at the server', 5_000);
  held.splice(0);
});

/** GETs of `n` different pods (so none share a request), all started now. */
const podGets = (n: number, from = 0, signal?: AbortSignal) => Array.from({ length: n }, (_, i) => client.request<{ n: number }>(`/api/v1/namespaces/turns/pods/p${from + i}`, { signal }));

test('different requests take turns, 8 at a time, and every one is answered', async () => {
  mostHeld = 0;
  const calls = podGets(20);
  await waitUntil(() => held.length >= 8, 'eight requests held', 5_000);
  for (let answered = 0; answered < 20; answered++) {
    await waitUntil(() => held.length > 0, 'a request held', 5_000);
    held.shift()!.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n: answered }));
  }
  assert.equal((await Promise.all(calls)).length, 20);
  assert.equal(mostHeld, 8, 'the server never held more than 8 at once');
});

test("the reachability probe does not wait its turn; a request cancelled in the line never reaches the server", async () => {
  const first = podGets(8, 100);
  await waitUntil(() => held.length === 8, 'eight requests held', 5_000);
  const back = new Promise((resolve) => client.reachability.once('back', resolve));
  client.reachability.lost();
  await waitUntil(() => held.some((h) => h.path === '/version'), 'the probe at the server', 5_000);
  answer('/version', { major: '1' });
  await back;

  const abort = new AbortController();
  const [cancelled] = podGets(1, 200, abort.signal);
  const [next] = podGets(1, 300);
  abort.abort();
  await assert.rejects(cancelled!, /request cancelled/);
  answer('/api/v1/namespaces/turns/pods/p100', { n: 0 });
  await waitUntil(() => held.some((h) => h.path.endsWith('/p300')), 'the next in line at the server', 5_000);
  assert.ok(!held.some((h) => h.path.endsWith('/p200')), 'the cancelled request never reached the server');
  for (const h of held.splice(0)) h.res.writeHead(200, { 'content-type': 'application/json' }).end('{"n":1}');
  await Promise.all([...first, next]);
});

/**
 * Identical GETs in flight share one request to the API server (100 forwards of one workload starting together
 * make one request, not 100 TLS connections), while each caller keeps its own cancellation: one leaving does
 * not cancel the others, and the request is cancelled only when no caller is left. Against an HTTPS server
 * that counts requests and answers only when told.
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

before(async () => {
  const pki = generatePki();
  server = createServer({ key: pki.serverKey, cert: pki.serverCert }, (req, res) => {
    held.push({ path: req.url!, res });
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

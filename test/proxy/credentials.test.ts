/** The proxy's short-lived credential cache, against a fake source. */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { test } from 'node:test';
import type { ConnectOptions } from '../../daemon/kube/client.js';
import { CachedCredentials } from '../../daemon/proxy/credentials.js';

/** A source that counts fetches and hands out numbered tokens, failing when told to. */
function fakeSource() {
  const agent = new Agent();
  const source = {
    fetches: 0,
    fail: false,
    server: new URL('https://127.0.0.1:6443'),
    async connectOptions(): Promise<ConnectOptions> {
      source.fetches++;
      if (source.fail) throw new Error('exec plugin failed');
      return { agent, headers: { Authorization: `Bearer token-${source.fetches}` } };
    },
  };
  return source;
}

test('concurrent requests share one fetch, and later ones reuse it', async () => {
  const source = fakeSource();
  const creds = new CachedCredentials(source);
  const all = await Promise.all([creds.connectOptions(), creds.connectOptions(), creds.connectOptions()]);
  assert.equal(source.fetches, 1);
  assert.ok(all.every((o) => o.headers.Authorization === 'Bearer token-1'));
  assert.equal((await creds.connectOptions()).headers.Authorization, 'Bearer token-1');
  assert.equal(creds.server.href, 'https://127.0.0.1:6443/');
});

test('invalidate (after a 401) fetches fresh credentials', async () => {
  const source = fakeSource();
  const creds = new CachedCredentials(source);
  await creds.connectOptions();
  creds.invalidate();
  assert.equal((await creds.connectOptions()).headers.Authorization, 'Bearer token-2');
});

test('a failed fetch is not kept: the next request tries again', async () => {
  const source = fakeSource();
  source.fail = true;
  const creds = new CachedCredentials(source);
  await assert.rejects(creds.connectOptions(), /exec plugin failed/);
  source.fail = false;
  assert.equal((await creds.connectOptions()).headers.Authorization, 'Bearer token-2');
});

/** The API client's credentials: exec plugins (as client-node runs them), reuse, and refresh after a 401. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { KubeClient } from '../../daemon/kube/client.js';
import { loadContext } from '../../daemon/kube/kubeconfig.js';
import { SimCluster } from '../cluster/cluster.js';
import { writeExecPlugin, type ExecPlugin } from '../helpers/exec-plugin.js';

describe('KubeClient credentials', () => {
  let cluster: SimCluster;
  let dir: string;
  let kubeconfig: string;
  let plugin: ExecPlugin;
  const runs = () => plugin.runs();
  before(async () => {
    cluster = await SimCluster.start();
    dir = mkdtempSync(join(tmpdir(), 'kport-exec-'));
    plugin = writeExecPlugin(dir, cluster.tokens.admin);
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'sim', cluster: { server: cluster.url, 'certificate-authority-data': Buffer.from(cluster.pki.caCert).toString('base64') } }],
        users: [{ name: 'exec', user: { exec: plugin.exec } }],
        contexts: [{ name: 'exec', context: { cluster: 'sim', user: 'exec' } }],
        'current-context': 'exec',
      }),
    );
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an exec plugin\'s token authenticates; concurrent callers share one run of it', async () => {
    const client = new KubeClient(loadContext([kubeconfig], null));
    try {
      const before = runs();
      await Promise.all([client.connectOptions(), client.connectOptions(), client.connectOptions()]);
      assert.equal(runs() - before, 1);
      const list = await client.request<{ kind: string }>('/api/v1/namespaces');
      assert.equal(list.kind, 'NamespaceList');
    } finally {
      client.close();
    }
  });

  test('a 401 drops the reused credentials, so the next call runs the plugin again and picks up a new token', async () => {
    const client = new KubeClient(loadContext([kubeconfig], null));
    try {
      writeFileSync(plugin.tokenFile, 'revoked');
      await assert.rejects(client.request('/api/v1/namespaces'), (err: Error & { code: string }) => err.code === 'UNAUTHORIZED');
      writeFileSync(plugin.tokenFile, cluster.tokens.admin);
      const before = runs();
      assert.equal((await client.request<{ kind: string }>('/api/v1/namespaces')).kind, 'NamespaceList');
      assert.equal(runs() - before, 1);
    } finally {
      client.close();
    }
  });

  /** A kubeconfig in `dir` whose user names the token file `dir`/sa-token under `key`, by a path relative to the kubeconfig. */
  function tokenFileKubeconfig(key: 'tokenFile' | 'token-file'): string {
    const file = join(dir, `${key}.kubeconfig`);
    const doc = parse(readFileSync(kubeconfig, 'utf8')) as { users: { user: object }[] };
    doc.users[0]!.user = { [key]: 'sa-token' };
    writeFileSync(file, stringify(doc));
    return file;
  }

  test('a token file (kubectl\'s tokenFile, or token-file) authenticates: relative to the kubeconfig, its newline trimmed, read again after a 401', async () => {
    for (const key of ['tokenFile', 'token-file'] as const) {
      writeFileSync(join(dir, 'sa-token'), `${cluster.tokens.admin}\n`); // as `kubectl create token sa > file` writes it
      const client = new KubeClient(loadContext([tokenFileKubeconfig(key)], null));
      try {
        assert.equal((await client.request<{ kind: string }>('/api/v1/namespaces')).kind, 'NamespaceList', key);
        writeFileSync(join(dir, 'sa-token'), 'revoked\n');
        client.invalidateCredentials((await client.connectOptions()).renewal);
        await assert.rejects(client.request('/api/v1/namespaces'), (err: Error & { code: string }) => err.code === 'UNAUTHORIZED');
      } finally {
        client.close();
      }
    }
  });

  test('a token file that cannot be read is a clear KUBECONFIG error naming it', async () => {
    rmSync(join(dir, 'sa-token'), { force: true });
    const client = new KubeClient(loadContext([tokenFileKubeconfig('tokenFile')], null));
    try {
      await assert.rejects(client.connectOptions(), (err: Error & { code: string }) => err.code === 'KUBECONFIG' && err.message === `cannot read the token file ${join(dir, 'sa-token')}: ENOENT`);
    } finally {
      client.close();
    }
  });

  test('a plugin that prints a bare token is a KUBECONFIG error that does not quote it', async () => {
    const bare = join(dir, 'bare.mjs');
    writeFileSync(bare, `process.stdout.write(${JSON.stringify(cluster.tokens.admin)});`);
    const file = join(dir, 'bare.kubeconfig');
    writeFileSync(file, readFileSync(kubeconfig, 'utf8').replace(plugin.script, bare));
    const client = new KubeClient(loadContext([file], null));
    try {
      await assert.rejects(client.connectOptions(), (err: Error & { code: string }) => {
        assert.equal(err.code, 'KUBECONFIG');
        assert.equal(err.message, 'credentials for user "exec" failed: the exec plugin printed something other than an ExecCredential (JSON)');
        return true;
      });
    } finally {
      client.close();
    }
  });

  test('a 401 to credentials renewed since renews them no more: one plugin run per renewal, not per request', async () => {
    const client = new KubeClient(loadContext([kubeconfig], null));
    try {
      const stale = await client.connectOptions();
      client.invalidateCredentials(stale.renewal); // the first 401 to them
      const fresh = await client.connectOptions();
      assert.notEqual(fresh.renewal, stale.renewal);
      const before = runs();
      for (let i = 0; i < 5; i++) client.invalidateCredentials(stale.renewal); // the 401s of requests still in flight
      assert.equal(await client.connectOptions(), fresh);
      assert.equal(runs(), before, 'the plugin did not run again');
    } finally {
      client.close();
    }
  });

  test('a failing plugin is a clear KUBECONFIG error and is not remembered', async () => {
    const broken = join(dir, 'broken.kubeconfig');
    writeFileSync(broken, readFileSync(kubeconfig, 'utf8').replace(process.execPath, join(dir, 'no-such-plugin')));
    const client = new KubeClient(loadContext([broken], null));
    try {
      await assert.rejects(client.connectOptions(), (err: Error & { code: string }) => err.code === 'KUBECONFIG' && /credentials for user "exec" failed/.test(err.message));
      await assert.rejects(client.connectOptions(), (err: Error & { code: string }) => err.code === 'KUBECONFIG');
    } finally {
      client.close();
    }
  });
});

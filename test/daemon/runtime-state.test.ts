/**
 * State kportd keeps for the user in sessions.json, end to end with a real kportd: kportctl enable / disable of any
 * session (a declared-disabled one included), kept across reloads and restarts; and the local port a runtime forward
 * (or proxy) was given for `:80`, asked for again at the next start (a new one, with a warning, only when it is taken).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { KportdHarness } from '../helpers/daemon.js';
import { echo, httpGet } from '../helpers/forward.js';
import { occupyPort } from '../helpers/port.js';

const CONFIG = (cluster: SimCluster, webPort: string) => `kubeconfig: ${cluster.kubeconfigPath}
forwards:
  - name: web
    target: svc/web
    ports: ["${webPort}"]
  - name: db
    target: sts/db
    ports: [":5432"]
    enabled: false
`;

interface Listed {
  name: string;
  state: string;
  reason: string;
  override: string | null;
  spec: { enabled: boolean };
}

describe('what kportd keeps for you in sessions.json', () => {
  let cluster: SimCluster;
  let k: KportdHarness;
  const one = async (name: string) => (JSON.parse(await k.ok('list', name, '-o', 'json')) as Listed[])[0]!;
  const restart = async () => {
    await k.stop();
    await k.start();
  };
  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
    k = new KportdHarness();
    k.writeConfig(CONFIG(cluster, ':80'));
    await k.start();
  });
  after(async () => {
    await k.cleanup();
    await cluster.stop();
  });

  test('kportctl enable starts a forward declared with enabled: false; a reload and a restart keep it; disable stops it', async () => {
    const declared = await one('db');
    assert.deepEqual([declared.state, declared.reason], ['stopped', 'disabled (enabled: false); kportctl enable db starts it']);
    // restart alone cannot start it, as before.
    assert.match(await k.ok('restart', 'db'), /^restarted db: stopped /);

    assert.match(await k.ok('enable', 'db'), /^enabled db: /);
    await k.ok('wait', 'db');
    assert.equal(await echo(Number((await k.ok('port', 'db')).trim()), 'hello'), 'hello');
    const enabled = await one('db');
    assert.deepEqual([enabled.state, enabled.override, enabled.spec.enabled], ['ready', 'enabled', true]);
    assert.match(await k.ok('list', 'db'), /^db +ready .* enabled by kportctl; forw/m);
    assert.match(await k.ok('list', 'db', '--wide'), /config, enabled by kportctl/);

    // An edit of the file elsewhere leaves the override (and db's listener) alone.
    k.writeConfig(CONFIG(cluster, ':80').replace('name: web\n', 'name: web2\n'));
    const reloaded = JSON.parse(await k.ok('reload', '--json')) as { unchanged: string[] };
    assert.ok(reloaded.unchanged.includes('db'), JSON.stringify(reloaded));
    assert.equal((await one('db')).state, 'ready');

    // So does a restart of kportd.
    await restart();
    await k.ok('wait', 'db');
    assert.equal((await one('db')).override, 'enabled');

    // disable: back to what the file declares, so the override goes.
    assert.match(await k.ok('disable', 'db'), /^disabled db: stopped \(disabled \(enabled: false\); kportctl enable db starts it\)$/m);
    assert.equal((await one('db')).override, null);
    const stored = JSON.parse(readFileSync(join(k.stateDir, 'sessions.json'), 'utf8')) as { enabled: Record<string, boolean> };
    assert.deepEqual(stored.enabled, {});
  });

  test('kportctl disable stops any session and keeps it stopped across a restart, until enable', async () => {
    await k.ok('wait', 'web2');
    assert.equal(await k.ok('disable', 'web2'), 'disabled web2: stopped (disabled with kportctl disable; kportctl enable web2 starts it again)\n');
    await restart();
    const off = await one('web2');
    assert.deepEqual([off.state, off.override], ['stopped', 'disabled']);
    assert.match(await k.ok('enable', 'web2'), /^enabled web2: /);
    await k.ok('wait', 'web2');
    assert.equal((await one('web2')).override, null);
  });

  test("a runtime forward's :80 keeps its local port across restarts; a new one, with a warning, only when it is taken", async () => {
    await k.ok('add', 'kp', 'svc/web', ':80', '0:http');
    await k.ok('proxy', 'kpp', '--port', '0');
    const ports = async (name = 'kp') => (JSON.parse(await k.ok('list', name, '-o', 'json')) as { listeners: { port: number }[] }[])[0]!.listeners.map((l) => l.port);
    const first = await ports();
    const proxyPort = await ports('kpp');
    assert.equal(first.length, 2);
    for (const round of [1, 2]) {
      await restart();
      await k.ok('wait', 'kp');
      assert.deepEqual(await ports(), first, `restart ${round}`);
      assert.deepEqual(await ports('kpp'), proxyPort, `restart ${round}: the proxy`);
    }
    await k.ok('rm', 'kpp');
    assert.match(await httpGet(first[1]!), /^web-/);
    // Another program takes the first port while kportd is down.
    await k.stop();
    const { server: squatter } = await occupyPort(first[0]!);
    try {
      await k.start();
      await k.ok('wait', 'kp');
      const now = await ports();
      assert.notEqual(now[0], first[0]);
      assert.match(await httpGet(now[0]!), /^web-/);
      const logged = await k.ok('logs', 'kp');
      assert.match(logged, /WARN  a local port kept from the last start is taken; took a new free one .*kept=\[/);
      // The new ports are the ones kept from now on.
      await restart();
      await k.ok('wait', 'kp');
      assert.deepEqual(await ports(), now);
    } finally {
      squatter.close();
    }
    await k.ok('rm', 'kp');
    const stored = JSON.parse(readFileSync(join(k.stateDir, 'sessions.json'), 'utf8')) as { ports: Record<string, unknown> };
    assert.deepEqual(stored.ports, {});
  });
});

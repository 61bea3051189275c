/** kportd end to end: a real daemon process driven only through kportctl and its socket. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { SimCluster } from '../cluster/cluster.js';
import { KportdHarness } from '../helpers/daemon.js';
import { demoCluster, kportdForwardingDb } from '../helpers/demo.js';
import { echo, exchange, httpGet, open } from '../helpers/forward.js';
import { RawRpc } from '../helpers/raw-rpc.js';
import { waitUntil } from '../helpers/wait.js';

describe('kportd and kportctl', () => {
  let cluster: SimCluster;
  let k: KportdHarness;
  before(async () => {
    cluster = await demoCluster();
    k = await kportdForwardingDb(cluster);
  });
  after(async () => {
    await k.cleanup();
    await cluster.stop();
  });

  test('the socket is 0600 in a 0700 folder', () => {
    assert.equal(statSync(k.socket).mode & 0o777, 0o600);
    assert.equal(statSync(k.stateDir).mode & 0o777, 0o700);
  });

  test('add, wait, port, list, remove', async () => {
    assert.match(await k.ok('add', 'web', 'svc/web', ':80'), /web/);
    await k.ok('wait', 'web', '--timeout', '10s');
    const port = Number((await k.ok('port', 'web')).trim());
    assert.match(await httpGet(port), /^web-\S+\n$/);
    const listed = await k.ok('list');
    assert.match(listed, /^NAME\b/);
    assert.match(listed, /^web\s+ready\b/m);
    assert.match(listed, /^db\s+ready\b/m);
    const json = JSON.parse(await k.ok('list', '--json')) as { name: string; source: string; listeners: { port: number }[] }[];
    assert.deepEqual(json.map((s) => [s.name, s.source]), [['db', 'config'], ['web', 'runtime']]);
    assert.equal(json[1]!.listeners[0]!.port, port);
    await k.ok('remove', 'web');
    assert.doesNotMatch(await k.ok('list'), /^web\b/m);
    const gone = await k.ctl('port', 'web');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NOT_FOUND/);
  });

  test('a session declared in kport.yaml cannot be removed with kportctl', async () => {
    const r = await k.ctl('remove', 'db');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /DECLARED_IN_CONFIG.*declared in .*kport\.yaml/);
  });

  test('a bad add is refused with the config loader\'s message', async () => {
    const r = await k.ctl('add', 'bad', 'svc/web', '80:abc!');
    assert.equal(r.code, 1);
    assert.match(r.stderr + r.stdout, /"80:abc!" is not a port or port name/);
    const clash = await k.ctl('add', 'db', 'svc/web', ':80');
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /CONFLICT/);
  });

  test('wait times out with exit 4 and says why', async () => {
    cluster.deployment('default', 'empty', { replicas: 0, labels: { app: 'empty' }, ports: [{ containerPort: 7000 }] });
    await k.ok('add', 'empty', 'deploy/empty', ':7000', '--ephemeral');
    const r = await k.ctl('wait', 'empty', '--timeout', '300ms');
    assert.equal(r.code, 4);
    assert.match(r.stderr, /waiting/);
    await k.ok('remove', 'empty');
  });

  test('a live edit touches only the changed session: an open connection on another keeps flowing', async () => {
    await k.ok('wait', 'db');
    const dbPort = Number((await k.ok('port', 'db')).trim());
    const conn = await open(dbPort);
    const roundTrip = (text: string) => exchange(conn, text);
    assert.equal(await roundTrip('before the edit'), 'before the edit');
    const before = JSON.parse(await k.ok('status', '--json')) as { config: { loadedAt: string } };
    k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nforwards:\n  - name: db\n    target: sts/db\n    ports: [":5432"]\n  - name: web2\n    target: svc/web\n    ports: [":80"]\n`);
    await waitUntil(async () => (await k.ok('list')).includes('web2'), 'the edit to be applied', 10_000, 50);
    assert.equal(await roundTrip('after the edit'), 'after the edit');
    assert.equal(Number((await k.ok('port', 'db')).trim()), dbPort);
    const status = JSON.parse(await k.ok('status', '--json')) as { config: { loadedAt: string; ok: boolean } };
    assert.ok(status.config.ok);
    assert.notEqual(status.config.loadedAt, before.config.loadedAt);
    await k.ok('wait', 'web2');
    assert.match(await httpGet(Number((await k.ok('port', 'web2')).trim())), /^web-/);

    // A broken edit is rejected, reported with its line, and changes nothing.
    k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nforwards:\n  - name: db\n    target: sts/db\n    ports: ["80:abc!"]\n`);
    await waitUntil(async () => !(JSON.parse(await k.ok('status', '--json')) as { config: { ok: boolean } }).config.ok, 'the broken edit to be reported', 10_000, 50);
    const report = await k.ctl('status');
    assert.match(report.stdout, /kport\.yaml:5:13: forwards\[0\]\.ports\[0\]: "80:abc!" is not a port or port name/);
    assert.equal(await roundTrip('still flowing'), 'still flowing');
    assert.match(await k.ok('list'), /^web2\s+ready/m);
    const reload = await k.ctl('reload');
    assert.equal(reload.code, 1);
    conn.destroy();
    k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nforwards:\n  - name: db\n    target: sts/db\n    ports: [":5432"]\n`);
    await k.ok('reload');
    assert.doesNotMatch(await k.ok('list'), /web2/);
  });

  test('a deleted or emptied kport.yaml keeps its sessions and their connections; forwards: [] stops them', async () => {
    const declared = `kubeconfig: ${cluster.kubeconfigPath}\nforwards:\n  - name: db\n    target: sts/db\n    ports: [":5432"]\n`;
    await k.ok('wait', 'db');
    const conn = await open(Number((await k.ok('port', 'db')).trim()));
    const status = async () => (JSON.parse(await k.ok('status', '--json')) as { config: { blank: string | null } }).config;
    try {
      for (const [blank, change] of [['missing', () => rmSync(k.config)], ['empty', () => k.writeConfig('')]] as const) {
        change();
        await waitUntil(async () => (await status()).blank === blank, `kport.yaml ${blank} to be noticed`, 10_000, 50);
        assert.equal(await exchange(conn, `still flowing (${blank})`), `still flowing (${blank})`);
        const listed = await k.ctl('list');
        assert.match(listed.stdout, /^db\s+ready/m);
        assert.match(listed.stderr, new RegExp(`kport\\.yaml is ${blank}: the sessions it declared keep running`));
        assert.match((await k.ctl('status')).stdout, new RegExp(`kport\\.yaml is ${blank}: keeping the sessions of its last good load`));
      }
      k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nforwards: []\n`);
      await waitUntil(async () => !(await k.ok('list', '--json')).includes('"db"'), 'forwards: [] to stop db', 10_000, 50);
    } finally {
      conn.destroy();
      k.writeConfig(declared);
      await k.ok('reload');
    }
  });

  test('kportd check validates the same file without starting anything', async () => {
    const { execFileSync } = await import('node:child_process');
    const { KPORTD } = await import('../helpers/daemon.js');
    assert.match(execFileSync(process.execPath, [KPORTD, 'check', k.config], { env: k.env() }).toString(), /^ok: 1 forward, 0 proxies/);
  });

  test('the log file holds what happened, and never a token or a certificate', () => {
    const log = readFileSync(`${k.stateDir}/kportd.log`, 'utf8');
    assert.match(log, /"msg":"kportd ready"/);
    assert.match(log, /"msg":"session state"/);
    assert.ok(!log.includes(cluster.tokens.admin), 'the admin token is in the log');
    const pemBody = cluster.pki.caCert.split('\n')[1]!;
    assert.ok(!log.includes(pemBody), 'the CA certificate is in the log');
  });

  test('garbage on the socket gets JSON-RPC errors and the daemon carries on', async () => {
    const rpc = await RawRpc.open(k.socket);
    rpc.send('{oops');
    rpc.send('{"hello":"world"}');
    rpc.send('{"jsonrpc":"2.0","id":1,"method":"no.such.method"}');
    rpc.send('{"jsonrpc":"2.0","id":2,"method":"session.get","params":{"name":42}}');
    rpc.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'session.list', params: { pad: 'x'.repeat(1_100_000) } }));
    const answers = (await rpc.take(5)) as { error?: { code: number } }[];
    assert.deepEqual(answers.map((a) => a.error?.code).sort(), [-32700, -32602, -32601, -32600, -32600].sort());
    await rpc.close();
    assert.match(await k.ok('list'), /^db\s/m);
  });
});

describe('kportd process lifecycle', () => {
  let cluster: SimCluster;
  before(async () => {
    cluster = await demoCluster();
  });
  after(() => cluster.stop());

  test('a forward added at runtime survives a daemon restart; an ephemeral one does not', async () => {
    const k = new KportdHarness();
    try {
      k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\n`);
      await k.start();
      await k.ok('add', 'keep', 'sts/db', ':5432');
      await k.ok('add', 'temp', 'sts/db', ':5432', '--ephemeral');
      assert.equal(await k.stop(), 0);
      assert.equal(existsSync(k.socket), false, 'SIGTERM removes the socket');
      await k.start();
      await k.ok('wait', 'keep');
      const names = (JSON.parse(await k.ok('list', '--json')) as { name: string }[]).map((s) => s.name);
      assert.deepEqual(names, ['keep']);
      assert.equal(await echo(Number((await k.ok('port', 'keep')).trim()), 'back again'), 'back again');
    } finally {
      await k.cleanup();
    }
  });

  test('a second daemon refuses to start; a stale socket from a dead one is replaced', async () => {
    const k = new KportdHarness();
    try {
      k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\n`);
      const first = await k.start();
      const second = await k.ctl('start', '--foreground');
      assert.equal(second.code, 0, 'kportctl start reports an existing daemon and succeeds');
      assert.match(second.stdout + second.stderr, new RegExp(`already running.*${first.pid}`));
      const { execFileSync } = await import('node:child_process');
      const { KPORTD } = await import('../helpers/daemon.js');
      assert.throws(() => execFileSync(process.execPath, [KPORTD, '--foreground'], { env: k.env(), stdio: 'pipe' }), (err: { status: number; stderr: Buffer }) => {
        assert.equal(err.status, 1);
        assert.match(err.stderr.toString(), new RegExp(`already running \\(pid ${first.pid}\\)`));
        return true;
      });
      first.kill('SIGKILL');
      await k.exited();
      assert.ok(existsSync(k.socket), 'a killed daemon leaves its socket behind');
      assert.equal((await k.ctl('list')).code, 3, 'nothing answers: not running');
      await k.start();
      assert.match(k.output, /replacing a stale socket/);
      assert.equal((await k.ctl('list')).code, 0);
    } finally {
      await k.cleanup();
    }
  });

  test('a corrupt runtime sessions file is moved aside with a warning, not dropped silently', async () => {
    const k = new KportdHarness();
    try {
      k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\n`);
      mkdirSync(k.stateDir, { recursive: true, mode: 0o700 });
      writeFileSync(`${k.stateDir}/sessions.json`, '{"version": 1, "sessions": [tru');
      await k.start();
      const aside = readdirSync(k.stateDir).filter((f) => f.startsWith('sessions.json.corrupt-'));
      assert.equal(aside.length, 1);
      assert.equal(readFileSync(`${k.stateDir}/${aside[0]}`, 'utf8'), '{"version": 1, "sessions": [tru');
      assert.match(k.output, /runtime sessions file is unreadable; moved it aside/);
    } finally {
      await k.cleanup();
    }
  });

  test('kportctl start detaches kportd; kportctl stop stops it; without a daemon verbs exit 3', async () => {
    const k = new KportdHarness();
    try {
      k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nforwards:\n  - { name: db, target: sts/db, ports: [":5432"] }\n`);
      const started = await k.ok('start');
      const pid = Number(/pid (\d+)/.exec(started)![1]);
      await k.ok('wait', 'db');
      const status = JSON.parse(await k.ok('status', '--json')) as { pid: number };
      assert.equal(status.pid, pid);
      assert.match(await k.ok('stop'), /stopped/);
      await waitUntil(() => !processAlive(pid), 'the daemon to exit');
      assert.equal(existsSync(k.socket), false);
      const r = await k.ctl('list');
      assert.equal(r.code, 3);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /not running/);
    } finally {
      await k.cleanup();
    }
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `kportctl list` against a fake kportd: the table fits, has no colour off a terminal, and --json is what kportd said. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import type { SessionStatus } from '../../daemon/api/session.js';
import { daemonStatus, FakeDaemon, forwardSpec, proxySpec, sessionStatus } from './fake-daemon.js';
import { env, kportctl } from './kportctl.js';

const LONG = 'a-rather-long-session-name-that-goes-on-and-on-0123456789';
const counters = sessionStatus(forwardSpec('x')).counters;

/** Sessions with everything long that can be long. */
function sessions(): SessionStatus[] {
  return [
    sessionStatus(forwardSpec('web'), { counters: { ...counters, connectionsActive: 3, bytesIn: 1_234_567, bytesOut: 89_000 } }),
    sessionStatus(forwardSpec(LONG, { target: { kind: 'deployment', name: `${LONG}-deployment` }, addresses: ['127.0.0.1', '::1'] }), {
      state: 'backoff',
      reason: `retrying in 4000 ms: error forwarding port 8080 to pod ${LONG}-7d9f8c-abcde, uid : exit status 1: connection refused\nsecond line`,
      pods: [`${LONG}-7d9f8c-abcde`, `${LONG}-7d9f8c-fghij`],
      listeners: [
        { address: '127.0.0.1', port: 8080, remote: 80 },
        { address: '::1', port: 8080, remote: 80 },
      ],
    }),
    sessionStatus(forwardSpec('api', { target: { kind: 'selector', labels: { app: 'api', 'app.kubernetes.io/component': 'backend-service' } } }), {
      lastError: { code: 'STREAM_ERROR', message: 'the kubelet closed the stream while a very long request was in flight', at: new Date().toISOString() },
    }),
    sessionStatus(proxySpec('k8s', { context: 'arn:aws:eks:eu-west-1:123456789012:cluster/production-cluster' })),
  ];
}

describe('kportctl list', { concurrency: true }, () => {
  let fake: FakeDaemon;
  before(async () => {
    fake = await FakeDaemon.start({}, sessions());
  });
  after(() => fake.close());

  test('not a terminal: every line fits 80 columns, no escape codes, every session listed', async () => {
    const r = await kportctl(['list'], env(fake.socket));
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 5, r.stdout);
    for (const l of lines) assert.ok([...l].length <= 80, `${[...l].length} columns: ${l}`);
    assert.doesNotMatch(r.stdout, /\x1b/);
    assert.match(lines[0]!, /^NAME +STATE +LOCAL → TARGET +CONN +TRAFFIC +AGE +REASON$/);
    assert.match(r.stdout, /^k8s +ready +8001 → API \(arn:aws/m);
    assert.match(r.stdout, /^web +ready +8080 → svc\/web:80 +3 +1\.3 MB +5m +forwarding/m);
    assert.match(r.stdout, /^a-rather.*… +backoff +127\.0\.0\.1,\[::1\]:8080 → .*… +0 +0 B +5m +retrying in.*…$/m);
    assert.match(r.stdout, /^api +ready +8080 → \[app=api,/m);
  });

  test('$COLUMNS sets the width when not on a terminal', async () => {
    for (const columns of [60, 120]) {
      const r = await kportctl(['list'], env(fake.socket, { COLUMNS: String(columns) }));
      assert.equal(r.code, 0, r.stderr);
      for (const l of r.stdout.trimEnd().split('\n')) assert.ok([...l].length <= columns, `${[...l].length} > ${columns}: ${l}`);
    }
  });

  test('--wide shows every column uncut', async () => {
    const r = await kportctl(['list', '--wide'], env(fake.socket));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /KIND +SOURCE +STATE/);
    assert.ok(r.stdout.includes(`${LONG}-deployment`));
    assert.ok(r.stdout.includes('STREAM_ERROR: the kubelet closed the stream while a very long request was in flight'));
    assert.deepEqual((await kportctl(['list', '-o', 'wide'], env(fake.socket))).stdout.split('\n')[0], r.stdout.split('\n')[0]);
  });

  test('--json prints exactly what kportd returned', async () => {
    for (const args of [['list', '--json'], ['list', '-o', 'json']]) {
      const r = await kportctl(args, env(fake.socket));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), [...fake.sessions.values()].sort((a, b) => a.name.localeCompare(b.name)));
    }
  });

  test('no sessions: a hint on stderr, nothing on stdout, exit 0', async () => {
    const empty = await FakeDaemon.start();
    try {
      const r = await kportctl(['list'], env(empty.socket));
      assert.deepEqual([r.code, r.stdout], [0, '']);
      assert.match(r.stderr, /no sessions/);
      assert.equal((await kportctl(['list', '--json'], env(empty.socket))).stdout, '[]\n');
    } finally {
      await empty.close();
    }
  });

  test('a missing or empty kport.yaml is said in one line under the table; --json stays the sessions alone', async () => {
    const cases = [
      { blank: 'missing', ok: false, says: /^kport\.yaml is missing: the sessions it declared keep running \(kportctl status\)$/ },
      { blank: 'empty', ok: false, says: /^kport\.yaml is empty: the sessions it declared keep running \(kportctl status\)$/ },
      { blank: 'missing', ok: true, says: /^kport\.yaml is missing: only sessions added with kportctl run$/ },
    ] as const;
    for (const { blank, ok, says } of cases) {
      const config = { file: '/home/u/kport.yaml', loadedAt: new Date().toISOString(), ok, blank, errors: [], warnings: [] };
      const held = await FakeDaemon.start({ 'daemon.status': () => daemonStatus('/k.sock', { config }) }, sessions().slice(0, 1));
      try {
        const r = await kportctl(['list'], env(held.socket));
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^web +ready/m);
        assert.match(r.stderr.trimEnd(), says);
        assert.equal(JSON.parse((await kportctl(['list', '--json'], env(held.socket))).stdout).length, 1);
      } finally {
        await held.close();
      }
    }
    const r = await kportctl(['list'], env(fake.socket));
    assert.equal(r.stderr, '');
  });

  test('a kport.yaml with errors is said in one line under the table, pointing at kportctl status', async () => {
    const issue = { severity: 'error' as const, file: '/home/u/kport.yaml', line: 4, col: 12, path: '', message: 'the list opened here with "[" is not closed' };
    for (const [errors, says] of [[[issue], 'kport.yaml has 1 error'], [[issue, issue], 'kport.yaml has 2 errors']] as const) {
      const config = { file: '/home/u/kport.yaml', loadedAt: new Date().toISOString(), ok: false, blank: null, errors: [...errors], warnings: [] };
      const broken = await FakeDaemon.start({ 'daemon.status': () => daemonStatus('/k.sock', { config }) }, sessions().slice(0, 1));
      try {
        const r = await kportctl(['list'], env(broken.socket));
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^web +ready/m);
        assert.equal(r.stderr, `${says}; the last good version is running: kportctl status\n`);
      } finally {
        await broken.close();
      }
    }
  });

  test('list NAME…: those sessions only; KIND/NAME as -o name prints it works too; one not there is exit 1 after the rest', async () => {
    const two = await kportctl(['list', 'web', 'proxy/k8s'], env(fake.socket));
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(two.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(' ')[0]), ['k8s', 'web']);
    const missing = await kportctl(['ls', 'web', 'nope'], env(fake.socket));
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /^web +ready/m);
    assert.equal(missing.stderr, 'kportctl: NOT_FOUND: no session named "nope" (kportctl list shows them all)\n');
  });

  test('-o name and -o yaml; get is list', async () => {
    const names = await kportctl(['get', '-o', 'name'], env(fake.socket));
    assert.deepEqual([names.code, names.stdout], [0, `forward/${LONG}\nforward/api\nproxy/k8s\nforward/web\n`]);
    const yaml = await kportctl(['list', 'web', '-o', 'yaml'], env(fake.socket));
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.deepEqual(parse(yaml.stdout), [fake.sessions.get('web')]);
  });

  test("--wide shows the kubeconfig a session was added with", async () => {
    const own = await FakeDaemon.start({}, [sessionStatus(forwardSpec('k2', { kubeconfig: ['/home/u/k2.yaml', '/home/u/k3.yaml'] })), sessionStatus(forwardSpec('plain'))]);
    try {
      const r = await kportctl(['list', '--wide'], env(own.socket));
      const [head, k2, plain] = r.stdout.trimEnd().split('\n');
      const at = head!.indexOf('KUBECONFIG');
      assert.ok(at > 0, head);
      assert.equal(k2!.slice(at).split(/ {2,}/)[0], '/home/u/k2.yaml:/home/u/k3.yaml');
      assert.equal(plain!.slice(at, at + 10).trim(), '');
    } finally {
      await own.close();
    }
  });

  test('bad combinations are usage errors', async () => {
    for (const args of [['list', '-o', 'xml'], ['list', '-w', '--json'], ['list', '-w', '-o', 'name'], ['list', '-o', 'json', '--wide']]) {
      const r = await kportctl(args, env(fake.socket));
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^usage: kportctl list/m);
    }
  });
});

/** `kportctl add` and `kportctl proxy` against a fake kportd: the params sent, the port printed, kportd's refusals. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ConfigIssue } from '../../config/types.js';
import { FakeDaemon, forwardSpec, proxySpec, rpcError, sessionStatus } from './fake-daemon.js';
import { env, kportctl } from './kportctl.js';

describe('kportctl add', () => {
  let fake: FakeDaemon;
  /** What the fake's session.add answers next; by default a ready forward on 8080. */
  let answer: (entry: Record<string, unknown>) => ReturnType<typeof sessionStatus>;
  before(async () => {
    fake = await FakeDaemon.start({
      'session.add': ({ entry }) => answer(entry),
    });
  });
  beforeEach(() => {
    fake.calls.length = 0;
    answer = (entry) => sessionStatus(forwardSpec(String(entry.name)));
  });
  after(() => fake.close());

  test('kubectl-style arguments become session.add params', async () => {
    const r = await kportctl(['add', 'web', 'svc/web', '8080:80', '9090', '-n', 'ns', '--context', 'c', '--address', '0.0.0.0', '--balance', 'first', '--connect-timeout', '2m'], env(fake.socket));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fake.paramsOf('session.add'), [
      {
        kind: 'forward',
        entry: { name: 'web', target: 'svc/web', ports: ['8080:80', '9090'], namespace: 'ns', context: 'c', address: ['0.0.0.0'], balance: 'first', connectTimeout: '2m' },
        ephemeral: false,
      },
    ]);
  });

  test('a bare name is a pod; --selector replaces TARGET; --ephemeral is passed on', async () => {
    assert.equal((await kportctl(['add', 'dbg', 'my-pod-7d9f', '9229', '--ephemeral'], env(fake.socket))).code, 0);
    assert.equal((await kportctl(['add', 'api', '--selector', 'app=api,tier=be', ':8080', '--address', '127.0.0.1', '--address', '::1'], env(fake.socket))).code, 0);
    assert.deepEqual(fake.paramsOf('session.add'), [
      { kind: 'forward', entry: { name: 'dbg', target: 'pod/my-pod-7d9f', ports: ['9229'] }, ephemeral: true },
      { kind: 'forward', entry: { name: 'api', selector: { app: 'api', tier: 'be' }, ports: [':8080'], address: ['127.0.0.1', '::1'] }, ephemeral: false },
    ]);
  });

  test('prints where it listens: the bound port from the add result', async () => {
    answer = () => sessionStatus(forwardSpec('web'), { listeners: [{ address: '127.0.0.1', port: 43_121, remote: 80 }] });
    const r = await kportctl(['add', 'web', 'svc/web', ':80'], env(fake.socket));
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'added forward web: 127.0.0.1:43121 → svc/web:80 (ready)\n', '']);
  });

  test('not settled yet: waits for the session.changed that says ready (bound, and checked by kportd)', async () => {
    const spec = forwardSpec('web', { ports: [{ local: 0, remote: 80, spec: ':80' }, { local: 0, remote: 'https', spec: ':https' }] });
    answer = () => {
      // Pushed once the answer has gone out, as a listener bound a moment later would be.
      setImmediate(() => {
        fake.notify('session.changed', sessionStatus(spec, { state: 'starting', reason: 'resolving', listeners: [] }));
        fake.notify('session.changed', sessionStatus(forwardSpec('other')));
        const listeners = [
          { address: '127.0.0.1', port: 40_001, remote: 80 },
          { address: '127.0.0.1', port: 40_002, remote: 'https' },
        ];
        fake.notify('session.changed', sessionStatus(spec, { state: 'waiting', reason: 'connecting to the API server', listeners }));
        fake.notify('session.changed', sessionStatus(spec, { state: 'ready', reason: 'forwarding to pod web-0', listeners }));
      });
      return sessionStatus(spec, { state: 'starting', reason: 'starting', listeners: [] });
    };
    const r = await kportctl(['add', 'web', 'svc/web', ':80', ':https'], env(fake.socket));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'added forward web (ready):\n  127.0.0.1:40001 → svc/web:80\n  127.0.0.1:40002 → svc/web:https\n');
    assert.deepEqual(fake.calls.map((c) => c.method), ['events.subscribe', 'session.add']);
  });

  test('failed once bound (a port the pod does not have, no permission): the state and why, still exit 0', async () => {
    answer = () => sessionStatus(forwardSpec('web'), { state: 'failed', reason: 'service "web" has no port 81', lastError: { code: 'PORT_NOT_FOUND', message: 'service "web" has no port 81', at: new Date().toISOString() } });
    const r = await kportctl(['add', 'web', 'svc/web', '8080:81'], env(fake.socket));
    assert.deepEqual([r.code, r.stdout], [0, 'added forward web: 127.0.0.1:8080 → svc/web:80 (failed: service "web" has no port 81)\n']);
  });

  test('failed before binding: says so, still exit 0 (kportd keeps the session and retries)', async () => {
    answer = () => sessionStatus(forwardSpec('web'), { state: 'failed', reason: 'local port 8080 is in use', listeners: [] });
    const r = await kportctl(['add', 'web', 'svc/web', '8080:80'], env(fake.socket));
    assert.deepEqual([r.code, r.stdout], [0, 'added forward web, not listening (failed: local port 8080 is in use)\n']);
  });

  test('an exposed address gets a warning on stderr', async () => {
    answer = () => sessionStatus(forwardSpec('web', { addresses: ['0.0.0.0'], exposed: true }));
    const r = await kportctl(['add', 'web', 'svc/web', '8080:80', '--address', '0.0.0.0'], env(fake.socket));
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^warning: web listens on 0\.0\.0\.0: reachable from other machines$/m);
  });

  test('--json prints the session as kportd returned it', async () => {
    const s = sessionStatus(forwardSpec('web'));
    answer = () => s;
    const r = await kportctl(['add', 'web', 'svc/web', '8080:80', '--json'], env(fake.socket));
    assert.deepEqual(JSON.parse(r.stdout), s);
  });

  test("kportd's INVALID_CONFIG issues are printed one per line with their paths; exit 1", async () => {
    const issues: ConfigIssue[] = [
      { severity: 'error', file: null, line: null, col: null, path: 'ports[1]', message: '"80:abc!" is not a port or port name' },
      { severity: 'error', file: null, line: null, col: null, path: 'target', message: '"pod/X" : pod name must be lowercase' },
    ];
    answer = () => {
      throw rpcError('INVALID_CONFIG', 'invalid forward: ports[1]: …; target: …', issues);
    };
    const r = await kportctl(['add', 'web', 'pod/X', '8080:80', '80:abc!'], env(fake.socket));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'kportctl: INVALID_CONFIG: ports[1]: "80:abc!" is not a port or port name\nkportctl: INVALID_CONFIG: target: "pod/X" : pod name must be lowercase\n',
    );
  });

  test('an error without issues prints its message', async () => {
    answer = () => {
      throw rpcError('CONFLICT', 'a session named "web" already exists (declared in kport.yaml)');
    };
    const r = await kportctl(['add', 'web', 'svc/web', '80'], env(fake.socket));
    assert.deepEqual([r.code, r.stderr], [1, 'kportctl: CONFLICT: a session named "web" already exists (declared in kport.yaml)\n']);
  });

  test('usage errors are caught before anything is sent', async () => {
    for (const args of [['add', 'web'], ['add', 'web', 'svc/web'], ['add', 'web', '8080:80'], ['add', 'web', 'svc/web', '80', '--connect-timeout', 'soon'], ['add', 'web', '-l', 'app', '80']]) {
      const r = await kportctl(args, env(fake.socket));
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^usage: kportctl add NAME TARGET PORT/m);
    }
    assert.deepEqual(fake.calls, []);
  });
});

describe('kportctl add: hints for kubectl port-forward habits', () => {
  const nowhere = env('/nonexistent/kportd.sock');

  test('the NAME forgotten (kubectl port-forward svc/web 8080:80 typed as kportctl add): the hint puts a name first', async () => {
    const r = await kportctl(['add', 'svc/web', '8080:80'], nowhere);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^kportctl: USAGE: missing NAME before the target: a forward is named first \(as in: kportctl add web svc\/web 8080:80\)$/m);
    assert.doesNotMatch(r.stderr, /svc\/svc/);
    const long = await kportctl(['add', 'deployment/api-server', ':8080', '-n', 'x'], nowhere);
    assert.match(long.stderr, /\(as in: kportctl add api-server deployment\/api-server :8080\)$/m);
  });

  test('the TARGET forgotten: the hint puts one in', async () => {
    const r = await kportctl(['add', 'web', '8080:80'], nowhere);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^kportctl: USAGE: missing TARGET before the ports \(as in: kportctl add web svc\/web 8080:80\)$/m);
  });
});

describe('kportctl proxy', () => {
  let fake: FakeDaemon;
  before(async () => {
    fake = await FakeDaemon.start({
      'session.add': ({ entry }) => sessionStatus(proxySpec(String(entry.name), { port: 0 }), { listeners: [{ address: '127.0.0.1', port: 38_001, remote: null }] }),
    });
  });
  after(() => fake.close());

  test("kubectl proxy's flags become a proxies[] entry; the bound port is printed", async () => {
    const r = await kportctl(['proxy', 'api', '--port', '0', '--context', 'c', '--accept-hosts', '^a$', '--accept-hosts', '^b$', '--reject-paths', '^/x', '--api-prefix', '/k8s/', '--disable-filter'], env(fake.socket));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'added proxy api: 127.0.0.1:38001 → API (dev) (ready)\n');
    assert.deepEqual(fake.paramsOf('session.add').at(-1), {
      kind: 'proxy',
      entry: { name: 'api', port: 0, context: 'c', apiPrefix: '/k8s/', rejectPaths: ['^/x'], acceptHosts: ['^a$', '^b$'], disableFilter: true },
      ephemeral: false,
    });
  });

  test('a port that is not a number is a usage error', async () => {
    const r = await kportctl(['proxy', 'api', '--port', 'http'], env(fake.socket));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port: "http" is not a whole number from 0 to 65535/);
  });
});

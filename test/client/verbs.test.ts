/** The one-shot verbs against a fake kportd: wait, port, remove, restart, status, reload, logs, start, stop. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { ConfigIssue } from '../../config/types.js';
import { daemonStatus, FakeDaemon, forwardSpec, proxySpec, rpcError, sessionStatus } from './fake-daemon.js';
import { env, kportctl } from './kportctl.js';

const issue: ConfigIssue = { severity: 'error', file: '/k/kport.yaml', line: 7, col: 13, path: 'forwards[1].ports[0]', message: '"80:abc!" is not a port or port name' };

describe('one-shot verbs', () => {
  let fake: FakeDaemon;
  before(async () => {
    fake = await FakeDaemon.start(
      {
        'session.wait': ({ name, timeoutMs }) => {
          if (name === 'slow') throw rpcError('TIMEOUT', `session "slow" is not ready after ${(timeoutMs ?? 30_000) / 1000} s: waiting: no ready pods`, { state: 'waiting', reason: 'no ready pods' });
          if (name === 'web') return fake.sessions.get('web')!;
          // Fails while the wait is pending, as a forward whose local port turns out to be taken.
          if (name === 'soon') {
            setImmediate(() => fake.notify('session.changed', sessionStatus(forwardSpec('soon'), { state: 'failed', reason: 'address 127.0.0.1:8080 is in use by another process', listeners: [], lastError: { code: 'PORT_IN_USE', message: 'address 127.0.0.1:8080 is in use by another process', at: new Date().toISOString() } })));
            return new Promise(() => {});
          }
          throw rpcError('NOT_FOUND', `no session named "${name}" (kportctl list shows them)`);
        },
        'session.remove': ({ name }) => {
          if (name === 'web') throw rpcError('DECLARED_IN_CONFIG', 'session "web" is declared in /k/kport.yaml; remove it there (or set enabled: false) and kportd applies the change');
          return { removed: name };
        },
        'config.reload': () => ({ ok: false, added: [], removed: [], changed: [], unchanged: [], errors: [issue], warnings: [] }),
        'logs.read': (params) => ({
          lines: [
            JSON.stringify({ level: 30, time: new Date(2026, 0, 1, 9, 8, 7, 6).getTime(), pid: 1, hostname: 'h', msg: 'session added', session: 'web' }),
            'not json',
            JSON.stringify({ level: 40, time: new Date(2026, 0, 1, 9, 8, 8, 0).getTime(), pid: 1, hostname: 'h', msg: 'session error', session: 'cold', code: 'PORT_IN_USE' }),
            JSON.stringify({ level: 30, time: new Date(2026, 0, 1, 9, 8, 9, 0).getTime(), pid: 1, hostname: 'h', msg: 'session state', session: 'web', to: 'ready' }),
          ].slice(0, params?.lines ?? 100),
        }),
      },
      [
        sessionStatus(forwardSpec('web', { ports: [{ local: 8080, remote: 80, spec: '8080:80' }, { local: 0, remote: 'https', spec: ':https' }] }), {
          listeners: [
            { address: '127.0.0.1', port: 8080, remote: 80 },
            { address: '127.0.0.1', port: 41_234, remote: 'https' },
          ],
        }),
        sessionStatus(forwardSpec('cold'), { state: 'failed', reason: 'local port 8080 is in use', listeners: [], lastError: { code: 'PORT_IN_USE', message: 'local port 8080 is in use', at: new Date().toISOString() } }),
        sessionStatus(proxySpec('sock', { unixSocket: '/tmp/k.sock', addresses: [] }), { listeners: [{ address: '/tmp/k.sock', port: 0, remote: null }] }),
        sessionStatus(forwardSpec('runtime')),
        sessionStatus(forwardSpec('slow'), { state: 'waiting', reason: 'no ready pods', listeners: [] }),
        sessionStatus(forwardSpec('soon'), { state: 'starting', reason: 'starting', listeners: [] }),
      ],
    );
  });
  after(() => fake.close());

  const run = (...args: string[]) => kportctl(args, env(fake.socket));

  test('wait: exit 0 when ready; the timeout is sent in milliseconds (default 30 s)', async () => {
    const r = await run('wait', 'web');
    assert.deepEqual([r.code, r.stdout], [0, 'web is ready: 127.0.0.1:8080,41234 → svc/web:80,https\n']);
    for (const [t, ms] of [['30s', 30_000], ['2m', 120_000], ['45', 45_000], ['1m30s', 90_000]] as const) {
      assert.equal((await run('wait', 'web', '--timeout', t)).code, 0);
      assert.equal(fake.paramsOf('session.wait').at(-1)?.timeoutMs, ms, t);
    }
    assert.equal(fake.paramsOf('session.wait')[0]?.timeoutMs, 30_000);
  });

  test("wait: exit 4 on timeout, with the state and reason kportd gave; 1 when there is no such session", async () => {
    const slow = await run('wait', 'slow', '--timeout', '2');
    assert.deepEqual([slow.code, slow.stdout, slow.stderr], [4, '', 'kportctl: TIMEOUT: session "slow" is not ready after 2 s: waiting: no ready pods\n']);
    const missing = await run('wait', 'nope');
    assert.deepEqual([missing.code, missing.stderr], [1, 'kportctl: NOT_FOUND: no session named "nope" (kportctl list shows them)\n']);
    const bad = await run('wait', 'web', '--timeout', '3x');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--timeout: "3x" is not a duration/);
  });

  test('wait: a failed session ends the wait at once: exit 1, its code and reason (already failed, or failing while waited for)', async () => {
    const cold = await run('wait', 'cold', '--timeout', '1h');
    assert.deepEqual([cold.code, cold.stdout, cold.stderr], [1, '', 'kportctl: PORT_IN_USE: cold failed: local port 8080 is in use\n']);
    assert.equal(fake.paramsOf('session.wait').some((p) => p.name === 'cold'), false);
    const soon = await run('wait', 'soon', '--timeout', '1h');
    assert.deepEqual([soon.code, soon.stdout, soon.stderr], [1, '', 'kportctl: PORT_IN_USE: soon failed: address 127.0.0.1:8080 is in use by another process\n']);
  });

  test('port: the number only; by remote as written or as a number; exit 1 when there is none', async () => {
    assert.deepEqual(await run('port', 'web'), { code: 0, stdout: '8080\n', stderr: '' });
    assert.equal((await run('port', 'web', 'https')).stdout, '41234\n');
    assert.equal((await run('port', 'web', '80')).stdout, '8080\n');
    const none = await run('port', 'web', '443');
    assert.deepEqual([none.code, none.stdout, none.stderr], [1, '', 'kportctl: NOT_FOUND: web forwards nothing to "443" (its remote ports: 80, https)\n']);
    const cold = await run('port', 'cold');
    assert.deepEqual([cold.code, cold.stderr], [1, 'kportctl: PORT_IN_USE: cold is not listening (failed: local port 8080 is in use)\n']);
    assert.equal((await run('port', 'sock')).code, 1);
    assert.equal((await run('port', 'nope')).code, 1);
  });

  test('remove: what happened; a kport.yaml session is refused with kportd’s explanation', async () => {
    assert.deepEqual(await run('remove', 'runtime'), { code: 0, stdout: 'removed runtime\n', stderr: '' });
    assert.deepEqual(JSON.parse((await run('remove', 'runtime', '--json')).stdout), { removed: 'runtime' });
    const declared = await run('remove', 'web');
    assert.equal(declared.code, 1);
    assert.equal(declared.stderr, 'kportctl: DECLARED_IN_CONFIG: session "web" is declared in /k/kport.yaml; remove it there (or set enabled: false) and kportd applies the change\n');
  });

  test('restart: the state it restarted into', async () => {
    assert.deepEqual(await run('restart', 'web'), { code: 0, stdout: 'restarted web: starting (starting)\n', stderr: '' });
    assert.equal((await run('restart', 'nope')).code, 1);
  });

  test('enable and disable: what kportd did, for each NAME', async () => {
    assert.deepEqual(await run('disable', 'slow'), { code: 0, stdout: 'disabled slow: stopped (disabled with kportctl disable; kportctl enable slow starts it again)\n', stderr: '' });
    assert.deepEqual(await run('enable', 'forward/slow'), { code: 0, stdout: 'enabled slow: starting (starting)\n', stderr: '' });
    assert.deepEqual(fake.paramsOf('session.disable'), [{ name: 'slow' }]);
    assert.deepEqual(fake.paramsOf('session.enable'), [{ name: 'slow' }]);
    const missing = await run('enable', 'nope');
    assert.deepEqual([missing.code, missing.stderr], [1, 'kportctl: NOT_FOUND: no session named "nope" (kportctl list shows them)\n']);
  });

  test('status: text and --json', async () => {
    const r = await run('status');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^kportd 0\.1\.0, pid 4242, up 1h2m\nsocket {4}\S+kportd\.sock\nlog {7}\/state\/kportd\.log\nconfig {4}\/home\/u\/\.config\/kport\/kport\.yaml \(loaded \d\d:\d\d:\d\d\)\nsessions {2}6\n$/);
    const json = JSON.parse((await run('status', '--json')).stdout);
    assert.deepEqual({ ...json, startedAt: null }, { ...daemonStatus(fake.socket, { sessions: json.sessions, config: json.config }), startedAt: null });
  });

  test('reload: errors with their lines on stderr, exit 1; --json prints the result (exit 1 too)', async () => {
    const r = await run('reload');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'kportctl: INVALID_CONFIG: /k/kport.yaml:7:13: forwards[1].ports[0]: "80:abc!" is not a port or port name\nkportctl: INVALID_CONFIG: config not reloaded: 1 error; running sessions come from the last good load\n',
    );
    const json = await run('reload', '--json');
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout).errors, [issue]);
  });

  test('logs: pretty lines by default, raw with --json, -n passed on', async () => {
    const r = await run('logs');
    assert.deepEqual([r.code, r.stdout], [
      0,
      '09:08:07.006 INFO  session added session=web\nnot json\n09:08:08.000 WARN  session error session=cold code=PORT_IN_USE\n09:08:09.000 INFO  session state session=web to=ready\n',
    ]);
    const raw = await run('logs', '--json', '-n', '1');
    assert.equal(JSON.parse(raw.stdout.trim()).msg, 'session added');
    assert.equal(fake.paramsOf('logs.read').at(-1)?.lines, 1);
    assert.equal((await run('logs', '-n', 'ten')).code, 2);
  });

  test("logs NAME: that session's lines only, the last -n of them, from as much of the log as kportd returns", async () => {
    const web = await run('logs', 'web');
    assert.deepEqual([web.code, web.stdout], [0, '09:08:07.006 INFO  session added session=web\n09:08:09.000 INFO  session state session=web to=ready\n']);
    assert.equal(fake.paramsOf('logs.read').at(-1)?.lines, 10_000);
    assert.equal((await run('logs', 'forward/web', '-n', '1')).stdout, '09:08:09.000 INFO  session state session=web to=ready\n');
    const missing = await run('logs', 'nope');
    assert.deepEqual([missing.code, missing.stderr], [1, 'kportctl: NOT_FOUND: no session named "nope" (kportctl list shows them)\n']);
  });

  test('start when kportd already runs: says so, exit 0, nothing started', async () => {
    const r = await run('start');
    assert.deepEqual([r.code, r.stdout], [0, `kportd is already running (pid 4242, socket ${fake.socket})\n`]);
  });
});

describe('kportctl stop', () => {
  test('asks kportd to shut down, waits for the socket to go, exit 0', async () => {
    const fake = await FakeDaemon.start();
    try {
      const r = await kportctl(['stop'], env(fake.socket));
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'kportd stopped (pid 4242)\n', '']);
      assert.deepEqual(fake.calls.map((c) => c.method), ['daemon.status', 'daemon.shutdown']);
      assert.equal(existsSync(fake.socket), false);
    } finally {
      await fake.close();
    }
  });
});

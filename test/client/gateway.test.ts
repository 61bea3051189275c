/** `kportctl gateway` and `kportctl env` against a fake kportd: the entry sent, what is printed. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { proxyVariables } from '../../client/commands/env.js';
import { gatewaySpec } from '../helpers/specs.js';
import { FakeDaemon, forwardSpec, sessionStatus } from './fake-daemon.js';
import { env, kportctl } from './kportctl.js';

describe('gateway and env', () => {
  let fake: FakeDaemon;
  before(async () => {
    fake = await FakeDaemon.start(
      {
        'session.add': ({ entry }) => {
          const s = sessionStatus(gatewaySpec(String(entry.name), { port: 1081 }), { listeners: [{ address: '127.0.0.1', port: 1081, remote: null }] });
          fake.sessions.set(s.name, s);
          return s;
        },
      },
      [
        sessionStatus(gatewaySpec('cluster', { context: 'sim' }), { listeners: [{ address: '127.0.0.1', port: 1080, remote: null }] }),
        sessionStatus(forwardSpec('web')),
        sessionStatus(gatewaySpec('down'), { state: 'failed', reason: 'address 127.0.0.1:1080 is in use by another process', listeners: [], lastError: { code: 'PORT_IN_USE', message: 'address 127.0.0.1:1080 is in use by another process', at: new Date().toISOString() } }),
      ],
    );
  });
  after(() => fake.close());

  const run = (...args: string[]) => kportctl(args, env(fake.socket));

  test('gateway: the kport.yaml entry its flags make, and where it listens', async () => {
    const r = await run('gateway', 'stg', '-p', '1081', '--context', 'staging', '-n', 'shop', '--allow-namespace', 'shop', '--allow-namespace', 'data', '--connect-timeout', '5s', '--ephemeral');
    assert.deepEqual([r.code, r.stderr], [0, '']);
    assert.equal(r.stdout, 'added gateway stg: 127.0.0.1:1081 → cluster (dev) (ready)\n');
    assert.deepEqual(fake.paramsOf('session.add').at(-1), {
      kind: 'gateway',
      entry: { name: 'stg', port: 1081, context: 'staging', namespace: 'shop', namespaces: ['shop', 'data'], connectTimeout: '5s' },
      ephemeral: true,
    });
  });

  test('gateway: a port that is no port is a usage error', async () => {
    const r = await run('gateway', 'g', '--port', 'socks');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port: "socks" is not a whole number from 0 to 65535/);
  });

  test('env: one export line for sh; --unset the line that removes it', async () => {
    const r = await run('env', 'cluster');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^export ALL_PROXY=socks5h:\/\/127\.0\.0\.1:1080 all_proxy=socks5h:\/\/127\.0\.0\.1:1080 HTTPS_PROXY=http:\/\/127\.0\.0\.1:1080 .* NO_PROXY=localhost,127\.0\.0\.1,::1 no_proxy=localhost,127\.0\.0\.1,::1\n$/);
    assert.equal((await run('env', '--unset')).stdout, 'unset ALL_PROXY all_proxy HTTPS_PROXY https_proxy HTTP_PROXY http_proxy NO_PROXY no_proxy\n');
  });

  test('env: a forward, a gateway that is not listening, and no NAME are errors', async () => {
    assert.deepEqual(await run('env', 'web'), { code: 1, stdout: '', stderr: 'kportctl: NOT_FOUND: web is a forward, not a gateway (kportctl gateway NAME adds one)\n' });
    assert.deepEqual(await run('env', 'down'), { code: 1, stdout: '', stderr: 'kportctl: PORT_IN_USE: down is not listening (failed: address 127.0.0.1:1080 is in use by another process)\n' });
    assert.equal((await run('env')).code, 2);
  });

  test('a gateway bound to a wildcard address is dialled over loopback', () => {
    assert.equal(proxyVariables({ address: '0.0.0.0', port: 1080, remote: null }).ALL_PROXY, 'socks5h://127.0.0.1:1080');
    assert.equal(proxyVariables({ address: '::', port: 1080, remote: null }).HTTP_PROXY, 'http://[::1]:1080');
    assert.equal(proxyVariables({ address: '::1', port: 1080, remote: null }).https_proxy, 'http://[::1]:1080');
  });

  test('list shows a gateway as its port → cluster; --wide with its namespace and transport', async () => {
    const narrow = await run('list');
    assert.match(narrow.stdout, /^cluster +ready +1080 → cluster \(sim\) /m);
    const wide = await run('list', '--wide');
    assert.match(wide.stdout, /^cluster +gateway +runtime +ready +127\.0\.0\.1:1080 → cluster \(sim\) +default +sim +auto /m);
  });
});

/** kportctl's pure parts: number and time formats, table layout, session routes, log lines, flag values. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { durationEntry, durationMs, integer, labels, localPath } from '../../client/args.js';
import { UsageError } from '../../client/command.js';
import { forwardEntry } from '../../client/commands/add.js';
import { pickListener } from '../../client/commands/port.js';
import { proxyEntry } from '../../client/commands/proxy.js';
import { reloadLines } from '../../client/commands/reload.js';
import { statusLines } from '../../client/commands/status.js';
import { age, bytes, clock, endpoint, oneLine, target } from '../../client/output/format.js';
import { listenerRoutes, route, sessionColumns } from '../../client/output/sessions.js';
import { styleFor } from '../../client/output/style.js';
import { table, tableWidth, truncate } from '../../client/output/table.js';
import { logLine, prettyLogFileLine } from '../../daemon/api/log-line.js';
import type { DaemonStatus } from '../../daemon/api/rpc.js';
import { daemonStatus, forwardSpec, proxySpec, sessionStatus } from './fake-daemon.js';

const plain = styleFor(false, {});
const ANSI = /\x1b\[/;

describe('format', () => {
  test('bytes: SI units, at most three significant digits', () => {
    const cases: [number, string][] = [
      [0, '0 B'],
      [999, '999 B'],
      [1000, '1.0 kB'],
      [1234, '1.2 kB'],
      [12_345, '12 kB'],
      [999_960, '1.0 MB'],
      [5_500_000_000, '5.5 GB'],
    ];
    for (const [n, text] of cases) assert.equal(bytes(n), text, `bytes(${n})`);
  });

  test('age: the largest unit, or two', () => {
    assert.equal(age(0), '0s');
    assert.equal(age(45_000), '45s');
    assert.equal(age(5 * 60_000 + 30_000), '5m');
    assert.equal(age(3 * 3_600_000 + 12 * 60_000), '3h');
    assert.equal(age(3 * 3_600_000 + 12 * 60_000, 2), '3h12m');
    assert.equal(age(2 * 86_400_000 + 5_000, 2), '2d');
    assert.equal(age(-5), '0s');
  });

  test('endpoints bracket IPv6 and show Unix sockets as paths', () => {
    assert.equal(endpoint('127.0.0.1', 8080), '127.0.0.1:8080');
    assert.equal(endpoint('::1', 8080), '[::1]:8080');
    assert.equal(endpoint(['127.0.0.1', '::1'], '8080,9090'), '127.0.0.1,[::1]:8080,9090');
    assert.equal(endpoint('/tmp/k.sock', 0), '/tmp/k.sock');
  });

  test('targets use kubectl short kinds; selectors and proxies read plainly', () => {
    assert.equal(target(forwardSpec('web')), 'svc/web');
    assert.equal(target(forwardSpec('db', { target: { kind: 'statefulset', name: 'pg' } })), 'sts/pg');
    assert.equal(target(forwardSpec('api', { target: { kind: 'selector', labels: { app: 'api', tier: 'be' } } })), '[app=api,tier=be]');
    assert.equal(target(proxySpec('k8s')), 'API (dev)');
    assert.equal(target(proxySpec('k8s', { context: null })), 'API');
  });

  test('text from the daemon loses control characters', () => {
    assert.equal(oneLine('a\nb\x1b[31mc\td'), 'a b [31mc d');
  });
});

describe('table', () => {
  const columns = [
    { header: 'NAME', cell: (r: string[]) => r[0]!, flex: 2, min: 10 },
    { header: 'N', cell: (r: string[]) => r[1]!, right: true },
    { header: 'NOTE', cell: (r: string[]) => r[2]!, flex: 1, min: 4 },
  ];

  test('columns as wide as their widest cell, numbers right-aligned, no trailing spaces', () => {
    assert.deepEqual(table(columns, [['web', '5', ''], ['database', '12', 'ok']], 80), ['NAME       N  NOTE', 'web        5', 'database  12  ok']);
  });

  test('too wide: free text is cut with …, the lowest rank first, down to its minimum, then the next', () => {
    const row = ['a-very-long-session-name', '1', 'x'.repeat(50)];
    assert.deepEqual(table(columns, [row], 60)[1], `a-very-long-session-name  1  ${'x'.repeat(30)}…`);
    assert.deepEqual(table(columns, [row], 40)[1], `a-very-long-session-name  1  ${'x'.repeat(10)}…`);
    assert.deepEqual(table(columns, [row], 24)[1], 'a-very-long-se…  1  xxx…');
  });

  test('too wide at the minimums: an optional column goes first', () => {
    const optional = [columns[0]!, columns[1]!, { ...columns[2]!, optional: true }];
    assert.deepEqual(table(optional, [['a-very-long-session-name', '1', 'x'.repeat(50)]], 16), ['NAME           N', 'a-very-long-…  1']);
  });

  test('still too wide at the minimums: every column gives way', () => {
    const lines = table(columns, [['a-very-long-session-name', '123456789', 'x'.repeat(50)]], 12);
    assert.ok(lines.every((l) => [...l].length <= 12), lines.join('\n'));
  });

  test('truncate counts code points and marks the cut', () => {
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abc', 4), 'abc');
    assert.equal(truncate('→→→→→', 3), '→→…');
  });

  test('the width: the terminal, else $COLUMNS, else 80', () => {
    assert.equal(tableWidth({ isTTY: true, columns: 120 }, { COLUMNS: '60' }), 120);
    assert.equal(tableWidth({ isTTY: false, columns: undefined }, { COLUMNS: '60' }), 60);
    assert.equal(tableWidth({ isTTY: false, columns: undefined }, {}), 80);
    assert.equal(tableWidth({ isTTY: false, columns: undefined }, { COLUMNS: 'x' }), 80);
  });

  test('colour only on a terminal without NO_COLOR; escapes never count as width', () => {
    const tty = styleFor(true, {});
    assert.ok(tty.enabled);
    assert.equal(styleFor(true, { NO_COLOR: '1' }).enabled, false);
    assert.equal(plain.enabled, false);
    const rows = [sessionStatus(forwardSpec('web')), sessionStatus(forwardSpec('db'), { state: 'failed', reason: 'port 8080 in use' })];
    const colored = table(sessionColumns(false, Date.now(), tty), rows, 80);
    const uncolored = table(sessionColumns(false, Date.now(), plain), rows, 80);
    assert.match(colored.join('\n'), ANSI);
    assert.doesNotMatch(uncolored.join('\n'), ANSI);
    assert.deepEqual(colored.map((l) => l.replace(/\x1b\[\d+m/g, '')), uncolored);
  });
});

describe('sessions', () => {
  test('route: bound listeners with their remotes, or what the spec asks for', () => {
    const spec = forwardSpec('web', {
      ports: [
        { local: 8080, remote: 80, spec: '8080:80' },
        { local: 0, remote: 'https', spec: ':https' },
      ],
    });
    assert.equal(route(sessionStatus(spec, { listeners: [] })), '127.0.0.1:8080,* → svc/web:80,https');
    const bound = sessionStatus(spec, {
      listeners: [
        { address: '127.0.0.1', port: 8080, remote: 80 },
        { address: '127.0.0.1', port: 41234, remote: 'https' },
      ],
    });
    assert.equal(route(bound), '127.0.0.1:8080,41234 → svc/web:80,https');
    assert.equal(route(bound, true), '8080,41234 → svc/web:80,https');
    assert.equal(route(sessionStatus(forwardSpec('web', { addresses: ['0.0.0.0'] })), true), '0.0.0.0:8080 → svc/web:80');
    assert.deepEqual(listenerRoutes(bound), ['127.0.0.1:8080 → svc/web:80', '127.0.0.1:41234 → svc/web:https']);
    assert.equal(route(sessionStatus(proxySpec('k'))), '127.0.0.1:8001 → API (dev)');
    assert.equal(route(sessionStatus(proxySpec('k', { unixSocket: '/tmp/k.sock', addresses: [] }), { listeners: [] })), '/tmp/k.sock → API (dev)');
  });

  test('wide columns show kind, namespace, context, totals and the last error', () => {
    const s = sessionStatus(forwardSpec('web'), {
      counters: { ...sessionStatus(forwardSpec('web')).counters, connectionsActive: 2, connectionsTotal: 17, reconnects: 3, failovers: 1 },
      lastError: { code: 'STREAM_ERROR', message: 'connection refused', at: new Date().toISOString() },
    });
    const [header, row] = table(sessionColumns(true, Date.now(), plain), [s], Infinity);
    assert.match(header!, /KIND.*NAMESPACE.*CONTEXT.*TRANSPORT.*RECONNECTS.*FAILOVERS.*LAST ERROR.*ERROR AT/);
    assert.match(row!, /forward.*default.*dev.*spdy.*2\/17.*3.*1.*STREAM_ERROR: connection refused/);
  });

  test('the transport column: the one in use, else what the forward asks for', () => {
    const cell = (s: ReturnType<typeof sessionStatus>) => table(sessionColumns(true, Date.now(), plain), [s], Infinity)[1]!;
    assert.match(cell(sessionStatus(forwardSpec('web'), { transport: 'spdy-websocket' })), / spdy-websocket /);
    assert.match(cell(sessionStatus(forwardSpec('web', { transport: 'websocket' }), { transport: null })), / websocket /);
  });
});

describe('log lines', () => {
  test('a pino record: time, level, message, fields; pid and hostname left out', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
    const line = logLine({ level: 40, time, pid: 1, hostname: 'h', msg: 'session error', session: 'web', err: { message: 'refused here' }, n: 3 }, plain);
    assert.equal(line, '03:04:05.006 WARN  session error session=web err="refused here" n=3');
  });

  test('a file line that is not JSON is printed as it is', () => {
    assert.equal(prettyLogFileLine('Error: boom', plain), 'Error: boom');
  });
});

describe('flag values', () => {
  test('durations: seconds or text; anything else is a usage error', () => {
    assert.equal(durationMs('30s', 'timeout'), 30_000);
    assert.equal(durationMs('2m', 'timeout'), 120_000);
    assert.equal(durationMs('45', 'timeout'), 45_000);
    assert.equal(durationMs('1m30s', 'timeout'), 90_000);
    assert.equal(durationMs('0.5', 'timeout'), 500);
    for (const bad of ['3x', '', '0', '-5', '25h']) assert.throws(() => durationMs(bad, 'timeout'), UsageError, bad);
    assert.equal(durationEntry('45', 'connect-timeout'), 45);
    assert.equal(durationEntry('2m', 'connect-timeout'), '2m');
  });

  test('integers, labels and paths', () => {
    assert.equal(integer('8001', 'port', 0, 65535), 8001);
    for (const bad of ['-1', '65536', '8k', '1.5']) assert.throws(() => integer(bad, 'port', 0, 65535), UsageError, bad);
    assert.deepEqual(labels('app=web,tier=db', 'selector'), { app: 'web', tier: 'db' });
    assert.throws(() => labels('app', 'selector'), UsageError);
    assert.equal(localPath('k.sock', '/home/u'), '/home/u/k.sock');
    assert.equal(localPath('/tmp/k.sock', '/home/u'), '/tmp/k.sock');
    assert.equal(localPath('~/k.sock', '/home/u'), '~/k.sock');
  });

  test('add: kubectl port-forward arguments become a forwards[] entry', () => {
    const here = { env: {}, cwd: '/home/u' };
    assert.deepEqual(forwardEntry(['web', 'svc/web', '8080:80', '9090'], { namespace: 'ns', context: 'c', address: ['0.0.0.0'], 'connect-timeout': '10' }, here), {
      name: 'web',
      target: 'svc/web',
      ports: ['8080:80', '9090'],
      namespace: 'ns',
      context: 'c',
      address: ['0.0.0.0'],
      connectTimeout: 10,
    });
    assert.deepEqual(forwardEntry(['dbg', 'my-pod', ':9229'], {}, here), { name: 'dbg', target: 'pod/my-pod', ports: [':9229'] });
    assert.deepEqual(forwardEntry(['api', '8080'], { selector: 'app=api', balance: 'first' }, here), { name: 'api', selector: { app: 'api' }, ports: ['8080'], balance: 'first' });
    assert.throws(() => forwardEntry(['web', '8080:80'], {}, here), /missing TARGET before the ports/);
    assert.throws(() => forwardEntry(['web', 'svc/web'], {}, here), /missing PORT/);
    assert.throws(() => forwardEntry(['web', 'svc/web', '80'], { 'connect-timeout': 'soon' }, here), UsageError);
  });

  test("add: kubectl's --address forms: comma lists and repeats", () => {
    const here = { env: {}, cwd: '/' };
    assert.deepEqual(forwardEntry(['w', 'svc/w', '80'], { address: ['127.0.0.1,::1', 'localhost'] }, here).address, ['127.0.0.1', '::1', 'localhost']);
    assert.throws(() => forwardEntry(['w', 'svc/w', '80'], { address: ['127.0.0.1,'] }, here), /--address: "127\.0\.0\.1," has an empty address/);
  });

  test("add: --kubeconfig, else the caller's $KUBECONFIG (a list), made absolute; neither: kportd's", () => {
    const cwd = '/home/u';
    assert.deepEqual(forwardEntry(['w', 'svc/w', '80'], { kubeconfig: 'k2' }, { env: { KUBECONFIG: '/other' }, cwd }).kubeconfig, ['/home/u/k2']);
    assert.deepEqual(forwardEntry(['w', 'svc/w', '80'], {}, { env: { KUBECONFIG: 'k2::/etc/k3:k2' }, cwd }).kubeconfig, ['/home/u/k2', '/etc/k3']);
    assert.equal('kubeconfig' in forwardEntry(['w', 'svc/w', '80'], {}, { env: { KUBECONFIG: '' }, cwd }), false);
  });

  test('proxy: kubectl proxy flags become a proxies[] entry, paths made absolute', () => {
    assert.deepEqual(
      proxyEntry('api', { port: '0', 'accept-hosts': ['^a$', '^b$'], 'disable-filter': true, www: 'site', 'unix-socket': 'k.sock', 'api-prefix': '/k8s/' }, {}, '/home/u'),
      { name: 'api', port: 0, unixSocket: '/home/u/k.sock', apiPrefix: '/k8s/', acceptHosts: ['^a$', '^b$'], disableFilter: true, www: '/home/u/site' },
    );
    assert.deepEqual(proxyEntry('api', {}, { KUBECONFIG: 'k2' }, '/home/u'), { name: 'api', kubeconfig: ['/home/u/k2'] });
    assert.throws(() => proxyEntry('api', { port: 'http' }, {}, '/'), UsageError);
  });

  test('port: the listener for REMOTE as written or as a number, else the first', () => {
    const ls = [
      { address: '127.0.0.1', port: 8080, remote: 80 },
      { address: '127.0.0.1', port: 8443, remote: 'https' },
    ];
    assert.equal(pickListener(ls, undefined)?.port, 8080);
    assert.equal(pickListener(ls, 'https')?.port, 8443);
    assert.equal(pickListener(ls, '80')?.port, 8080);
    assert.equal(pickListener(ls, '080')?.port, 8080);
    assert.equal(pickListener(ls, '443'), undefined);
  });
});

describe('reports', () => {
  test('status: the daemon, its files, the config load and session counts', () => {
    const s = daemonStatus('/run/k.sock', { sessions: { total: 3, starting: 0, ready: 2, waiting: 1, backoff: 0, failed: 0, stopped: 0 } });
    assert.deepEqual(statusLines(s, plain), [
      'kportd 0.1.0, pid 4242, up 1h2m',
      'socket    /run/k.sock',
      'log       /state/kportd.log',
      `config    /home/u/.config/kport/kport.yaml (loaded ${clock(new Date(s.config.loadedAt!))})`,
      'sessions  3: 2 ready, 1 waiting',
    ]);
  });

  test('status with a bad config: every issue, and that running sessions come from the last good load', () => {
    const issue = { severity: 'error' as const, file: '/k.yaml', line: 3, col: 9, path: 'forwards[0].ports[0]', message: '"x" is not a port or port name' };
    const s = daemonStatus('/k.sock', { config: { file: '/k.yaml', loadedAt: new Date().toISOString(), ok: false, blank: null, errors: [issue], warnings: [] } });
    const lines = statusLines(s, plain);
    assert.match(lines[3]!, /failed: running sessions come from the last good load/);
    assert.equal(lines[4], '          /k.yaml:3:9: forwards[0].ports[0]: "x" is not a port or port name');
  });

  test('status: where the metrics are served, or why not; no line without a metrics section', () => {
    const last = (metrics: DaemonStatus['metrics']) => statusLines(daemonStatus('/k.sock', { metrics }), plain).at(-1);
    assert.match(last(null)!, /^sessions /);
    assert.equal(last({ address: '127.0.0.1', port: 0, url: 'http://127.0.0.1:41234/metrics', error: null }), 'metrics   http://127.0.0.1:41234/metrics');
    assert.equal(last({ address: '::1', port: 9464, url: null, error: null }), 'metrics   [::1]:9464 (starting)');
    const error = { code: 'PORT_IN_USE' as const, message: 'address 127.0.0.1:9464 is in use by another process' };
    assert.equal(
      last({ address: '127.0.0.1', port: 9464, url: null, error }),
      'metrics   127.0.0.1:9464: not served: address 127.0.0.1:9464 is in use by another process (PORT_IN_USE; kportctl reload retries)',
    );
  });

  test('reload: counts, then the names of each non-empty group', () => {
    assert.deepEqual(reloadLines({ ok: true, added: ['a', 'b'], removed: [], changed: ['c'], unchanged: ['d'], errors: [], warnings: [] }), [
      'config reloaded: 2 added, 0 removed, 1 changed, 1 unchanged',
      '  added    a, b',
      '  changed  c',
    ]);
  });
});

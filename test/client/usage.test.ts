/**
 * How kportctl fails: kportd not running (exit 3, one line), usage errors (exit 2), and --help everywhere
 * (exit 0). Per-verb cases run in-process; the first of each kind runs the real binary too.
 */
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COMMANDS } from '../../client/commands/index.js';
import { VERSION } from '../../daemon/api/version.js';
import { env, kportctl } from './kportctl.js';
import { runInProcess } from './memory-io.js';

/** Valid arguments for each verb that needs kportd (start, stop and version also work without it). */
const VALID: Record<string, string[]> = {
  list: [],
  add: ['web', 'svc/web', '8080:80'],
  proxy: ['api'],
  gateway: ['cluster'],
  env: ['cluster'],
  remove: ['web'],
  restart: ['web'],
  enable: ['web'],
  disable: ['web'],
  wait: ['web', '--timeout', '5s'],
  port: ['web'],
  events: [],
  status: [],
  reload: [],
  logs: ['-f'],
};

describe('kportd not running', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kportctl-'));
    // A file where the socket should be refuses connections as a dead daemon's socket does.
    await writeFile(join(dir, 'stale.sock'), '');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the table covers every verb but start, stop, version and the completion and service helpers', () => {
    const without = ['start', 'stop', 'version', 'completion', '__complete', 'service'];
    assert.deepEqual(Object.keys(VALID).sort(), COMMANDS.map((c) => c.name).filter((n) => !without.includes(n)).sort());
  });

  for (const [verb, args] of Object.entries(VALID)) {
    test(`${verb}: one line, exit 3`, async () => {
      const missing = join(dir, 'missing.sock');
      const r = await (verb === 'list' ? kportctl : runInProcess)([verb, ...args], env(missing));
      assert.deepEqual([r.code, r.stdout], [3, '']);
      assert.equal(r.stderr, `kportctl: NOT_RUNNING: kportd is not running (no socket at ${missing}); start it with: kportctl start\n`);
    });
  }

  test('a socket nothing answers on is "not running" too', async () => {
    const stale = join(dir, 'stale.sock');
    const r = await kportctl(['list'], env(stale));
    assert.deepEqual([r.code, r.stderr], [3, `kportctl: NOT_RUNNING: kportd is not running (nothing answers at ${stale}); start it with: kportctl start\n`]);
  });

  test('stop when nothing runs: done already, exit 0 (as start when running is)', async () => {
    const missing = join(dir, 'missing.sock');
    const r = await kportctl(['stop'], env(missing));
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `kportd is not running (no socket at ${missing})\n`, '']);
  });

  test("version: kportctl's, and that kportd is not running; exit 0", async () => {
    const missing = join(dir, 'missing.sock');
    const r = await kportctl(['version'], env(missing));
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `kportctl ${VERSION}\nkportd is not running (no socket at ${missing})\n`, '']);
  });
});

describe('usage', () => {
  const nowhere = env('/nonexistent/kportd.sock');

  test('no verb: the overview on stderr, exit 2; --help and help: on stdout, exit 0', async () => {
    const none = await kportctl([], nowhere);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^usage: kportctl VERB/m);
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await kportctl(args, nowhere);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^Exit codes:\n {2}0 {2}ok\n {2}1 .*\n {2}2 .*\n {2}3 {2}kportd is not running\n {2}4 .*$/m);
      for (const c of COMMANDS.filter((v) => !v.hidden)) assert.match(r.stdout, new RegExp(`^  ${c.name} +\\S`, 'm'));
      assert.match(r.stdout, /KPORT_SOCKET/);
      assert.match(r.stdout, /KPORT_STATE_DIR/);
    }
  });

  test('an unknown verb: a suggestion, exit 2', async () => {
    const r = await kportctl(['lsit'], nowhere);
    assert.deepEqual([r.code, r.stdout], [2, '']);
    assert.match(r.stderr, /^kportctl: USAGE: unknown verb "lsit"; did you mean "list"\?$/m);
    assert.equal((await kportctl(['help', 'lsit'], nowhere)).code, 2);
    const close = await runInProcess(['delet', 'web'], nowhere);
    assert.match(close.stderr, /^kportctl: USAGE: unknown verb "delet"; did you mean "delete"\?$/m);
  });

  test("kubectl's verbs are aliases: ls and get for list, rm and delete for remove; help names them", async () => {
    for (const [alias, verb] of [['ls', 'list'], ['get', 'list'], ['rm', 'remove'], ['delete', 'remove']] as const) {
      const r = await runInProcess([alias, '--help'], nowhere);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^usage: kportctl ${verb} `));
      assert.match(r.stdout, new RegExp(`^Aliases: .*\\b${alias}\\b`, 'm'));
    }
    const main = await runInProcess(['--help'], nowhere);
    assert.match(main.stdout, /^Aliases: ls, get \(list\); rm, delete \(remove\)\.$/m);
  });

  test('--version: the version alone, without kportd', async () => {
    const r = await kportctl(['--version'], nowhere);
    assert.deepEqual(r, { code: 0, stdout: `kportctl ${VERSION}\n`, stderr: '' });
  });

  test('a mistyped flag gets a suggestion, as kubectl gives one', async () => {
    const r = await kportctl(['add', 'web', 'svc/web', '8080:80', '--namspace', 'x'], nowhere);
    assert.deepEqual([r.code, r.stdout], [2, '']);
    assert.match(r.stderr, /^kportctl: USAGE: unknown flag "--namspace"; did you mean "--namespace"\?$/m);
    assert.match(r.stderr, /^usage: kportctl add NAME TARGET PORT/m);
    const short = await runInProcess(['list', '-x'], nowhere);
    assert.match(short.stderr, /^kportctl: USAGE: unknown flag "-x"$/m);
    const joined = await runInProcess(['logs', '-fz'], nowhere);
    assert.match(joined.stderr, /^kportctl: USAGE: unknown flag "-fz"$/m);
    const top = await runInProcess(['--verison'], nowhere);
    assert.match(top.stderr, /^kportctl: USAGE: unknown flag "--verison"; did you mean "--version"\?$/m);
  });

  for (const c of COMMANDS.filter((v) => !v.hidden)) {
    test(`${c.name} --help, -h and help ${c.name}: usage, flags, examples, exit codes; exit 0; fits 80 columns`, async () => {
      for (const args of [[c.name, '--help'], [c.name, '-h'], ['help', c.name]]) {
        const r = await (c === COMMANDS[0] && args[0] === 'help' ? kportctl : runInProcess)(args, nowhere);
        assert.deepEqual([r.code, r.stderr], [0, ''], args.join(' '));
        assert.match(r.stdout, new RegExp(`^usage: kportctl ${c.name}`));
        assert.match(r.stdout, /^Flags:\n/m);
        assert.match(r.stdout, /-h, --help/);
        assert.match(r.stdout, /^Examples:\n {2}.*kportctl /m);
        assert.match(r.stdout, /^Exit codes:\n {2}0 /m);
        for (const line of r.stdout.split('\n')) assert.ok([...line].length <= 80, `${args.join(' ')}: ${line}`);
      }
    });
  }

  test('an unknown flag, a missing or extra argument, a bad value: the message, the verb’s usage, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['list', '--bogus'], /^kportctl: USAGE: unknown flag "--bogus"$/m],
      [['wait'], /^kportctl: USAGE: missing NAME$/m],
      [['port', 'a', 'b', 'c'], /^kportctl: USAGE: unexpected argument "c"$/m],
      [['remove'], /^kportctl: USAGE: missing NAME$/m],
      [['wait', 'web', '--timeout'], /^kportctl: USAGE: Option '-t, --timeout <value>' argument missing$/m],
      [['wait', 'web', '--timeout', '0'], /^kportctl: USAGE: --timeout: 0 is not a duration: it must be more than 0$/m],
      [['logs', '-n', '0'], /^kportctl: USAGE: --lines: "0" is not a whole number from 1 to 10000$/m],
      [['status', '--json=yes'], /^kportctl: USAGE: Option '--json' does not take an argument$/m],
      [['start', 'now'], /^kportctl: USAGE: unexpected argument "now"$/m],
    ];
    for (const [args, message] of cases) {
      const r = await (args === cases[0]![0] ? kportctl : runInProcess)(args, nowhere);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, new RegExp(`^usage: kportctl ${args[0]}\\b`, 'm'));
      assert.equal(r.stdout, '');
    }
  });
});

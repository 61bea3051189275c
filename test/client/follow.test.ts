/** The follow modes against a fake kportd: a line per pushed notification, exit 0 on Ctrl-C, exit 3 if kportd goes. */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { FakeDaemon, forwardSpec, sessionStatus } from './fake-daemon.js';
import { env, Following } from './kportctl.js';
import { startInProcess } from './memory-io.js';

describe('follow modes (not a terminal)', () => {
  let fake: FakeDaemon;
  const running: Following[] = [];
  const fakes: FakeDaemon[] = [];
  const follow = (...args: string[]) => {
    const f = Following.start(args, env(fake.socket));
    running.push(f);
    return f;
  };
  before(async () => {
    fake = await FakeDaemon.start({}, [sessionStatus(forwardSpec('web')), sessionStatus(forwardSpec('db'), { state: 'waiting', reason: 'no ready pods' })]);
  });
  afterEach(async () => {
    running.splice(0).forEach((f) => f.kill());
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });
  after(() => fake.close());

  /** A fake of its own, so that "subscribed" can only mean this test's kportctl. */
  async function alone(): Promise<FakeDaemon> {
    const own = await FakeDaemon.start();
    own.sessions.set('web', sessionStatus(forwardSpec('web')));
    fakes.push(own);
    return own;
  }

  test('events: one line per change of state or reason, none for counters only; Ctrl-C exits 0', async () => {
    const fake = await alone();
    const f = Following.start(['events'], env(fake.socket));
    running.push(f);
    await fake.subscribed();
    const web = sessionStatus(forwardSpec('web'));
    fake.notify('session.changed', { ...web, state: 'waiting', reason: 'no ready pods behind svc/web' });
    assert.match(await f.next(/web/), /^\d\d:\d\d:\d\d {2}web {2}waiting {2}no ready pods behind svc\/web$/);
    fake.notify('session.changed', { ...web, state: 'waiting', reason: 'no ready pods behind svc/web', counters: { ...web.counters, bytesIn: 10 } });
    fake.notify('session.changed', { ...web, reason: 'forwarding to pod web-1' });
    assert.match(await f.next(/web/), /^\d\d:\d\d:\d\d {2}web {2}ready {2}forwarding to pod web-1$/);
    fake.notify('session.removed', { name: 'db' });
    assert.match(await f.next(/db/), /^\d\d:\d\d:\d\d {2}db {2}removed$/);
    assert.equal(f.lines.length, 3, f.lines.join('\n'));
    assert.equal(await f.interrupt(), 0);
    assert.doesNotMatch(f.lines.join('\n'), /\x1b/);
  });

  test('events --json: every notification, one JSON object per line', async () => {
    const fake = await alone();
    const f = Following.start(['events', '--json'], env(fake.socket));
    running.push(f);
    await fake.subscribed();
    const s = sessionStatus(forwardSpec('web'));
    fake.notify('session.changed', s);
    fake.notify('session.changed', s);
    fake.notify('session.removed', { name: 'web' });
    await f.next(/session\.removed/);
    const objects = f.lines.map((l) => JSON.parse(l) as { type: string; at: string; session?: unknown; name?: string });
    assert.deepEqual(objects.map((o) => o.type), ['session.changed', 'session.changed', 'session.removed']);
    assert.deepEqual(objects[0]!.session, s);
    assert.equal(objects[2]!.name, 'web');
    assert.ok(objects.every((o) => !Number.isNaN(Date.parse(o.at))));
    assert.equal(await f.interrupt(), 0);
  });

  test('list -w: the table, then a line per change; Ctrl-C exits 0', async () => {
    const f = follow('list', '-w');
    await f.line(/^web /);
    await f.line(/^db /);
    fake.notify('session.changed', sessionStatus(forwardSpec('db'), { state: 'ready', reason: 'forwarding to pod db-0' }));
    assert.match(await f.next(/db/), /^\d\d:\d\d:\d\d {2}db {2}ready {2}forwarding to pod db-0$/);
    fake.notify('session.changed', sessionStatus(forwardSpec('new'), { state: 'starting', reason: 'starting' }));
    assert.match(await f.next(/new/), /^\d\d:\d\d:\d\d {2}new {2}starting {2}starting$/);
    assert.equal(await f.interrupt(), 0);
    assert.match(f.lines[0]!, /^NAME +STATE/);
    assert.equal(f.lines.length, 5, f.lines.join('\n'));
  });

  test('logs -f: the last lines, then each record as it is logged', async () => {
    const record = (msg: string) => ({ level: 30, time: Date.now(), pid: 1, hostname: 'h', msg });
    const logs = await FakeDaemon.start({ 'logs.read': () => ({ lines: [JSON.stringify(record('first'))] }) });
    fakes.push(logs);
    const f = Following.start(['logs', '-f'], env(logs.socket));
    running.push(f);
    await f.line(/INFO {2}first$/);
    logs.notify('log', record('second'));
    await f.next(/INFO {2}second$/);
    assert.equal(await f.interrupt(), 0);
    assert.deepEqual(logs.paramsOf('events.subscribe'), [{ logs: true }]);
  });

  test("logs NAME -f: that session's records only, as they are logged", async () => {
    const record = (msg: string, session?: string) => ({ level: 30, time: Date.now(), pid: 1, hostname: 'h', msg, ...(session ? { session } : {}) });
    const logs = await FakeDaemon.start({ 'logs.read': () => ({ lines: [JSON.stringify(record('first', 'web')), JSON.stringify(record('other', 'db'))] }) }, [sessionStatus(forwardSpec('web'))]);
    fakes.push(logs);
    const f = Following.start(['logs', 'web', '-f'], env(logs.socket));
    running.push(f);
    await f.line(/INFO {2}first session=web$/);
    logs.notify('log', record('kportd-wide'));
    logs.notify('log', record('not this one', 'db'));
    logs.notify('log', record('second', 'web'));
    await f.next(/INFO {2}second session=web$/);
    assert.equal(await f.interrupt(), 0);
    assert.deepEqual(f.lines.map((l) => l.replace(/^\S+ /, '')), ['INFO  first session=web', 'INFO  second session=web']);
  });

  test('kportd going away ends a follow with exit 3 and one line', async () => {
    const doomed = await FakeDaemon.start();
    fakes.push(doomed);
    const f = Following.start(['events'], env(doomed.socket));
    running.push(f);
    await doomed.subscribed();
    await doomed.close();
    assert.equal(await f.exited, 3);
    assert.equal(f.stderr, 'kportctl: NOT_RUNNING: kportd closed the connection (it stopped)\n');
  });
});

describe('list -w on a terminal (in-process)', () => {
  test('redraws the table in place, in colour, on each change; Ctrl-C exits 0 leaving the last frame', async () => {
    const fake = await FakeDaemon.start({}, [sessionStatus(forwardSpec('web')), sessionStatus(forwardSpec('db'), { state: 'waiting', reason: 'no ready pods' })]);
    try {
      const run = startInProcess(['list', '-w'], env(fake.socket), { columns: 60, rows: 20 });
      await run.stdout.until(/\x1b\[H.*2 sessions: 1 ready, 1 waiting/s);
      fake.notify('session.changed', sessionStatus(forwardSpec('db'), { reason: 'forwarding to pod db-0' }));
      await run.stdout.until(/2 sessions: 2 ready[^]*\x1b\[J$/);
      run.interrupt();
      const r = await run.done;
      assert.equal(r.code, 0, r.stderr);
      const frames = r.stdout.split('\x1b[H').slice(1);
      assert.ok(frames.length >= 2, r.stdout);
      assert.ok(r.stdout.startsWith('\x1b[2J'));
      const last = frames.at(-1)!;
      assert.match(last, /\x1b\[32mready\x1b\[39m/);
      assert.ok(last.endsWith('\x1b[J'));
      const lines = last.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trimEnd().split('\n');
      assert.match(lines[2]!, /^NAME +STATE +LOCAL → TARGET/);
      assert.match(lines[3]!, /^db +ready +8080 → svc\/db:80/);
      for (const line of lines) assert.ok([...line].length <= 60, line);
    } finally {
      await fake.close();
    }
  });

  test('more sessions than rows: the frame is cut to the terminal, saying how many lines are hidden', async () => {
    const many = Array.from({ length: 12 }, (_, i) => sessionStatus(forwardSpec(`s${String(i).padStart(2, '0')}`)));
    const fake = await FakeDaemon.start({}, many);
    try {
      const run = startInProcess(['list', '-w'], env(fake.socket), { columns: 80, rows: 8 });
      await run.stdout.until(/more lines/);
      run.interrupt();
      const r = await run.done;
      const frame = r.stdout.split('\x1b[H').at(-1)!.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trimEnd().split('\n');
      assert.equal(frame.length, 7);
      assert.equal(frame.at(-1), '… 9 more lines (a taller terminal shows them)');
    } finally {
      await fake.close();
    }
  });
});

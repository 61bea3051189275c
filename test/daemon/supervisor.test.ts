/** The supervisor with sessions faked at the factory seam: waits, the file going away, runtime sessions. */
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import type { ConfigEnv, SessionSpec } from '../../config/types.js';
import type { SessionSource } from '../../daemon/api/session.js';
import { SessionCore } from '../../daemon/session/core.js';
import { DisabledSession } from '../../daemon/session/disabled.js';
import type { Session } from '../../daemon/session/session.js';
import { SessionStore } from '../../daemon/state.js';
import { Supervisor, type SessionPlan } from '../../daemon/supervisor.js';
import { silentLogger } from '../helpers/log.js';
import { forwardSpec } from '../helpers/specs.js';

/** A session that starts and stays `starting` until a test makes it ready. */
class FakeSession implements Session {
  readonly core: SessionCore;
  constructor(spec: SessionSpec, source: SessionSource) {
    this.core = new SessionCore(spec, source, silentLogger());
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {
    this.core.transition('stopped', 'stopped');
  }
}

let dir: string;
let made: FakeSession[];
let supervisor: Supervisor;
const env = (): ConfigEnv => ({ env: {}, home: join(dir, 'home'), cwd: dir });
const configFile = () => join(dir, 'kport.yaml');

/** A started supervisor over `yaml` (null: no file) and the runtime sessions in `stored`. */
async function start(yaml: string | null, stored: SessionSpec[] = []): Promise<Supervisor> {
  if (yaml !== null) writeFileSync(configFile(), yaml);
  writeFileSync(join(dir, 'sessions.json'), JSON.stringify({ version: 1, sessions: stored }));
  return open();
}

/** A started supervisor over what kport.yaml and sessions.json hold now, as kportd's next start. */
async function open(): Promise<Supervisor> {
  const log = silentLogger();
  // As kportd's own factory: disabled and displaced sessions are listed, never started.
  const createSession = (spec: SessionSpec, { source, conflict, override }: SessionPlan) => {
    if (!spec.enabled || conflict) return new DisabledSession(spec, source, log, conflict, override === false);
    const s = new FakeSession(spec, source);
    made.push(s);
    return s;
  };
  supervisor = new Supervisor({ log, env: env(), configFile: configFile(), store: new SessionStore(join(dir, 'sessions.json'), log), createSession });
  await supervisor.start();
  return supervisor;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kport-supervisor-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await supervisor.stopAll();
  made = [];
  rmSync(configFile(), { force: true });
});
made = [];

const FORWARD = 'forwards:\n  - {name: web, context: dev, target: svc/web, ports: ["18080:80"]}\n';

test('many pending waits add no listeners; a caller that goes away releases its waits', async () => {
  const sup = await start(FORWARD);
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const caller = new AbortController();
    // As an RPC connection does for its own signal: each pending call listens on it.
    setMaxListeners(300, caller.signal);
    const waits = Array.from({ length: 300 }, () => sup.wait('web', 60_000, caller.signal));
    const outcomes = Promise.allSettled(waits);
    caller.abort();
    const settled = await outcomes;
    assert.deepEqual(new Set(settled.map((s) => s.status === 'rejected' && (s.reason as { code: string }).code)), new Set(['CANCELLED']));
    // A wait still resolves when its session becomes ready.
    const ready = sup.wait('web', 60_000, new AbortController().signal);
    made[0]!.core.transition('ready', 'serving');
    assert.equal((await ready).state, 'ready');
    // Warnings are emitted on the next tick: one turn of the event loop delivers any.
    await setImmediate();
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings.map((w) => w.name), []);
});

test('runtime sessions that clash with kport.yaml are kept, not started, with a CONFLICT naming its line; the file runs', async () => {
  const port = (local: number) => ({ ports: [{ local, remote: 80, spec: `${local}:80` }] });
  const stored = [forwardSpec('web', port(9000)), forwardSpec('db', port(18080)), forwardSpec('free', port(18081))];
  const sup = await start(FORWARD, stored);
  const list = sup.list();
  assert.deepEqual(list.map((s) => [s.name, s.source, s.state]), [['db', 'runtime', 'stopped'], ['free', 'runtime', 'starting'], ['web', 'config', 'starting']]);
  const db = list[0]!;
  assert.equal(db.lastError?.code, 'CONFLICT');
  assert.match(db.lastError!.message, /ports\[0\]: 127\.0\.0\.1:18080 is already bound by forwards\[0\] at .*kport\.yaml:2:5/);
  const warnings = sup.configStatus().warnings.map((w) => w.message);
  assert.ok(sup.configStatus().ok);
  assert.ok(warnings.some((w) => /session "web" added with kportctl is kept \(in sessions\.json\) but not started: name: "web" is already used by forwards\[0\]/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /session "db" .* not started/.test(w)));
  // Once the file lets go of the port, the runtime session starts.
  writeFileSync(configFile(), FORWARD.replace('18080', '18090'));
  const reloaded = await sup.reload();
  assert.deepEqual(reloaded.changed, ['web', 'db']);
  assert.deepEqual(sup.list().map((s) => [s.name, s.state]), [['db', 'starting'], ['free', 'starting'], ['web', 'starting']]);
  // Nothing was dropped from sessions.json.
  assert.deepEqual((JSON.parse(readFileSync(join(dir, 'sessions.json'), 'utf8')) as { sessions: SessionSpec[] }).sessions.map((s) => s.name), ['web', 'db', 'free']);
});

test('a missing or empty kport.yaml keeps the sessions of the last good load; an explicit empty one stops them', async () => {
  const sup = await start(FORWARD);
  const names = () => sup.list().map((s) => s.name);
  assert.deepEqual(names(), ['web']);
  const web = made[0]!;
  for (const [blank, change] of [['missing', () => rmSync(configFile())], ['empty', () => writeFileSync(configFile(), '# nothing yet\n')]] as const) {
    change();
    const r = await sup.reload();
    assert.equal(r.ok, false);
    assert.deepEqual(names(), ['web'], `kport.yaml ${blank}`);
    assert.equal(web.core.state, 'starting', 'the session was not restarted');
    const status = sup.configStatus();
    assert.equal(status.blank, blank);
    assert.match(status.errors[0]!.message, new RegExp(`^kport\\.yaml is ${blank}: keeping the sessions of its last good load`));
  }
  writeFileSync(configFile(), 'forwards: []\n');
  assert.equal((await sup.reload()).ok, true);
  assert.deepEqual(names(), []);
  assert.equal(sup.configStatus().blank, null);
});

test('at first start without a file, or with an empty one, only runtime sessions run, and status says why', async () => {
  for (const [blank, yaml] of [['missing', null], ['empty', '']] as const) {
    const sup = await start(yaml, [forwardSpec('added', { ports: [{ local: 0, remote: 80, spec: ':80' }] })]);
    assert.deepEqual(sup.list().map((s) => s.name), ['added']);
    const status = sup.configStatus();
    assert.equal(status.ok, true);
    assert.equal(status.blank, blank);
    assert.match(status.warnings[0]!.message, new RegExp(`^kport\\.yaml is ${blank}: only sessions added with kportctl run`));
    await sup.stopAll();
    rmSync(configFile(), { force: true });
  }
});

test('kportctl disable outlives a start with kport.yaml broken or missing', async () => {
  for (const [what, spoil] of [['broken', () => writeFileSync(configFile(), FORWARD + '  - {name: oops\n')], ['missing', () => rmSync(configFile())]] as const) {
    const sup = await start(FORWARD);
    await sup.setEnabled('web', false);
    await sup.stopAll();
    spoil();
    await (await open()).stopAll();
    writeFileSync(configFile(), FORWARD);
    const again = await open();
    const web = again.list().find((s) => s.name === 'web');
    assert.equal(web?.override, 'disabled', `after a start with kport.yaml ${what}`);
    assert.equal(web?.spec.enabled, false);
    await again.stopAll();
  }
});

/** The supervisor with sessions faked at the factory seam: waits, the file going away, runtime sessions. */
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import type { ConfigEnv, SessionSpec } from '../../config/types.js';
import type { SessionSource } from '../../daemon/api/session.js';
import { SessionCore } from '../../daemon/session/core.js';
import type { Session } from '../../daemon/session/session.js';
import { SessionStore } from '../../daemon/state.js';
import { Supervisor } from '../../daemon/supervisor.js';
import { silentLogger } from '../helpers/log.js';

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

/** A started supervisor over `yaml` (null: no file). */
async function start(yaml: string | null): Promise<Supervisor> {
  if (yaml !== null) writeFileSync(configFile(), yaml);
  const log = silentLogger();
  const createSession = (spec: SessionSpec, source: SessionSource) => {
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

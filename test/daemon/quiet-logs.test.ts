/**
 * Logs a person can read: a session that keeps failing logs its failure once, not lines per retry (counted over as
 * many retries as a minute of the real 10 s pace makes, by counting lines, not by timing); kportd's foreground log
 * on a terminal is one line per record, the same line kportctl logs prints for it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { prettyLogFileLine } from '../../daemon/api/log-line.js';
import { createLogger } from '../../daemon/log.js';
import { ForwardHarness } from '../helpers/forward.js';
import { capturingLogger } from '../helpers/log.js';
import { occupyPort } from '../helpers/port.js';
import { forwardSpec } from '../helpers/specs.js';

const dir = mkdtempSync(join(tmpdir(), 'kport-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What a default (info) log shows of `lines`: level and message. */
const shown = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as { level: number; msg: string; code?: string; to?: string }).filter((r) => r.level >= 30).map((r) => `${r.msg}${r.to ? ` → ${r.to}` : ''}${r.code ? ` ${r.code}` : ''}`);

test('a forward whose local port stays taken logs its failure once, however many times it retries', async () => {
  const { port, server: squatter } = await occupyPort();
  const { log, lines } = capturingLogger();
  const harness = new ForwardHarness(join(dir, 'no-kubeconfig'), log);
  try {
    // Six retries: a minute of them at the real pace (one every 10 s).
    const RETRIES = 6;
    let retries = 0;
    let afterFirst: string[] = [];
    const retried = new Promise<void>((resolve) => {
      const session = harness.start(forwardSpec('busy', { ports: [{ local: port, remote: 80, spec: `${port}:80` }] }), { slowRetryMs: 1 });
      let was = '';
      void session.then((s) =>
        s.core.on('changed', (status: { state: string }) => {
          const entered = status.state === 'starting' && was !== 'starting';
          was = status.state;
          if (!entered) return;
          if (++retries === 1) afterFirst = shown(lines);
          if (retries === RETRIES) resolve();
        }),
      );
    });
    await retried;
    assert.deepEqual(afterFirst, ['session error PORT_IN_USE', 'session state → failed']);
    // Every retry went through starting and failed again: at debug level only.
    assert.deepEqual(shown(lines), afterFirst);
    assert.equal(lines.filter((l) => /"to":"starting"/.test(l)).length, RETRIES, 'each retry is logged at debug level');
  } finally {
    await harness.stop();
    squatter.close();
  }
  // A change of reason is news: stopping is logged.
  assert.equal(shown(lines).at(-1), 'session state → stopped');
});

test("the foreground log on a terminal: one line per record, as kportctl logs prints the file's", async () => {
  const written: string[] = [];
  const file = join(dir, 'kportd.log');
  const logs = await createLogger({ file, foreground: true, stderr: { isTTY: true, colour: false, write: (t) => written.push(t) } });
  logs.log.child({ session: 'web' }).info({ from: 'waiting', to: 'ready', reason: 'forwarding to pod web-1 (svc/web)' }, 'session state');
  logs.log.warn({ err: { message: 'boom\nsecond line', stack: 'Error: boom\n    at x (y.js:1:1)\n    at z' } }, 'uncaught exception');
  logs.close();
  assert.equal(written.length, 2);
  for (const w of written) assert.match(w, /^\d\d:\d\d:\d\d\.\d{3} [^\n]+\n$/);
  assert.match(written[0]!, / INFO  session state session=web from=waiting to=ready reason="forwarding to pod web-1 \(svc\/web\)"\n$/);
  const plain = { red: (t: string) => t, yellow: (t: string) => t, dim: (t: string) => t };
  const fileLines = readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.deepEqual(written, fileLines.map((l) => `${prettyLogFileLine(l, plain)}\n`));
});

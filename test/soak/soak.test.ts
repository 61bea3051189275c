/**
 * The soak, one minute of it: a real kportd against the simulated cluster under checksummed load and
 * seeded faults (the seed is printed; `npm run soak -- --minutes 1 --seed S` replays it). Recovery times
 * are printed, not asserted: the target (≤ 1 s) is the soak's to report.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, stuckSessions } from '../../soak/report.js';
import { FD_SLACK, runSoak } from '../../soak/run.js';

test('one minute of faults: no byte corrupted, no session stuck, kportd alive, fds back near the start', { timeout: 300_000 }, async () => {
  const seed = process.env.KPORT_SOAK_SEED ? Number(process.env.KPORT_SOAK_SEED) : undefined;
  const report = await runSoak({ minutes: 1, seed, workers: 4, rateMBs: 12, print: (line) => console.log(line) });
  console.log(formatReport(report));
  const replay = `replay: npm run soak -- --minutes 1 --seed ${report.seed}`;
  assert.equal(report.crash, null, `kportd exited during the run; ${replay}`);
  assert.equal(report.aborted, null, replay);
  assert.ok(report.alive, `kportd did not answer at the end; ${replay}`);
  assert.equal(report.ledger.total().corrupted, 0, `corrupted transfers; ${replay}`);
  assert.deepEqual(stuckSessions(report), [], replay);
  assert.ok(report.baseline && report.final, 'kportd was sampled at the start and at the end');
  assert.ok(report.final.fds <= report.baseline.fds + FD_SLACK, `fds ${report.baseline.fds} → ${report.final.fds}; ${replay}`);
  assert.deepEqual(report.faults.filter((f) => f.lifted.problem).map((f) => f.lifted.problem), [], `sessions lost to a bad kport.yaml save; ${replay}`);
  assert.ok(report.faults.length >= 3, `only ${report.faults.length} faults ran`);
});

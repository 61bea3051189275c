/** The soak's fault schedule: a seed replays it exactly; every kind comes once per round; durations follow the run's length. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_KINDS, scaleFor, Schedule } from '../../soak/faults.js';
import { Random } from '../../soak/random.js';

const draw = (seed: number, n: number, runMs = 60_000) => {
  const s = new Schedule(new Random(seed), scaleFor(runMs));
  return Array.from({ length: n }, () => s.next());
};

test('one seed, one schedule; another seed, another', () => {
  assert.deepEqual(draw(42, 40), draw(42, 40));
  assert.notDeepEqual(draw(42, 40), draw(43, 40));
});

test('each round of the schedule holds every fault kind once', () => {
  const faults = draw(7, FAULT_KINDS.length * 3);
  for (let round = 0; round < 3; round++) {
    const kinds = faults.slice(round * FAULT_KINDS.length, (round + 1) * FAULT_KINDS.length).map((f) => f.kind);
    assert.deepEqual([...kinds].sort(), [...FAULT_KINDS].sort());
  }
});

test('durations scale with the run: 60 s → outages 2–10 s, SIGSTOPs 1–3 s; 30 min → 5 s–5 min and 5–30 s', () => {
  assert.deepEqual(scaleFor(60_000).outage, [2_000, 10_000]);
  assert.deepEqual(scaleFor(60_000).pause, [1_000, 3_000]);
  assert.deepEqual(scaleFor(30 * 60_000).outage, [5_000, 300_000]);
  assert.deepEqual(scaleFor(30 * 60_000).pause, [5_000, 30_000]);
  for (const f of draw(1, 500, 10 * 60_000)) {
    if (f.kind === 'api-outage') assert.ok(f.holdMs >= 5_000 && f.holdMs <= 100_000, `outage ${f.holdMs}`);
    if (f.kind === 'sigstop') assert.ok(f.holdMs >= 5_000 && f.holdMs <= 30_000, `sigstop ${f.holdMs}`);
    if (['pod-delete', 'rollout', 'api-restart', 'drop-streams'].includes(f.kind)) assert.equal(f.holdMs, 0);
    if (f.kind === 'rollout') assert.ok(['echo', 'web'].includes(f.workload));
  }
});

/** Exponential backoff: the delays it hands out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../daemon/session/backoff.js';

test('doubles from 250 ms to a 30 s ceiling and starts over after reset', () => {
  const b = new Backoff({ random: () => 0.5 });
  const delays = Array.from({ length: 10 }, () => b.next());
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  b.reset();
  assert.equal(b.next(), 250);
});

test('jitter spreads each delay by at most ±20% and never past the ceiling', () => {
  const low = new Backoff({ random: () => 0 });
  const high = new Backoff({ random: () => 0.999999 });
  assert.equal(low.next(), 200);
  assert.equal(high.next(), 300);
  for (let i = 0; i < 12; i++) high.next();
  assert.equal(high.next(), 30000);
});

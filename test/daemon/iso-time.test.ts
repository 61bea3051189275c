/** kportd's ISO times (session `since`, `created`, errors' `at`, the daemon's start) read exactly as Date#toISOString's. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isoTime } from '../../daemon/iso-time.js';

test('isoTime writes what Date#toISOString writes, for any time in the years 0-9999', () => {
  fc.assert(fc.property(fc.integer({ min: Date.parse('0000-01-01T00:00:00.000Z'), max: Date.parse('9999-12-31T23:59:59.999Z') }), (ms) => isoTime(ms) === new Date(ms).toISOString()));
  for (const ms of [0, Date.UTC(2026, 0, 9, 3, 4, 5, 6), Date.UTC(2024, 1, 29, 23, 59, 59, 999)]) assert.equal(isoTime(ms), new Date(ms).toISOString());
});

test('isoTime without an argument is now', () => {
  const before = Date.now();
  const at = Date.parse(isoTime());
  assert.ok(at >= before && at <= Date.now());
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHostPort, isLoopback, overlaps, parseAddress } from '../../config/addresses.js';
import { parseDuration } from '../../config/duration.js';

test('addresses are IP literals or localhost, in canonical form', () => {
  const cases: Array<[string, string | string[]]> = [
    ['127.0.0.1', '127.0.0.1'],
    // As kubectl port-forward --address localhost: both loopbacks.
    ['localhost', ['127.0.0.1', '::1']],
    ['0.0.0.0', '0.0.0.0'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::', '::'],
    ['FE80::0001', 'fe80::1'],
    ['192.168.1.20', '192.168.1.20'],
  ];
  for (const [text, canonical] of cases) assert.deepEqual(parseAddress(text), { ok: true, value: [canonical].flat() }, text);
  assert.deepEqual(parseAddress('myhost'), { ok: false, message: '"myhost" is not an IP address (or localhost)' });
  assert.deepEqual(parseAddress('[::1]'), { ok: false, message: '"[::1]" is not an IP address: write IPv6 addresses without brackets' });
  assert.deepEqual(parseAddress('127.0.0.1:80'), { ok: false, message: '"127.0.0.1:80" is not an IP address (or localhost)' });
});

test('loopback, overlaps and host:port', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1']) assert.equal(isLoopback(a), true, a);
  for (const a of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'fe80::1']) assert.equal(isLoopback(a), false, a);
  const cases: Array<[string, string, boolean]> = [
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['0.0.0.0', '127.0.0.1', true],
    ['192.168.1.2', '0.0.0.0', true],
    ['0.0.0.0', '::1', false],
    ['::', '127.0.0.1', true], // Node binds :: dual-stack
    ['::1', '::', true],
    ['::1', '127.0.0.1', false],
  ];
  for (const [a, b, expected] of cases) assert.equal(overlaps(a, b), expected, `${a} ${b}`);
  assert.equal(formatHostPort('::1', 80), '[::1]:80');
  assert.equal(formatHostPort('127.0.0.1', 80), '127.0.0.1:80');
});

test('durations', () => {
  const good: Array<[string | number, number]> = [
    [30, 30_000],
    [0.5, 500],
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['24h', 86_400_000],
  ];
  for (const [raw, ms] of good) assert.deepEqual(parseDuration(raw), { ok: true, value: ms }, String(raw));
  const bad: Array<[string | number, string]> = [
    ['30', '"30" is not a duration: write seconds as a number, or text such as "500ms", "30s", "2m", "1h"'],
    ['30 s', '"30 s" is not a duration: write seconds as a number, or text such as "500ms", "30s", "2m", "1h"'],
    ['1d', '"1d" is not a duration: write seconds as a number, or text such as "500ms", "30s", "2m", "1h"'],
    [0, '0 is not a duration: it must be more than 0'],
    ['0s', '"0s" is not a duration: it must be more than 0'],
    [-5, '-5 is not a duration: it must be more than 0'],
    ['25h', '"25h" is too long: at most 24h'],
    [1e20, '100000000000000000000 is too long: at most 24h'],
  ];
  for (const [raw, message] of bad) assert.deepEqual(parseDuration(raw), { ok: false, message }, String(raw));
});

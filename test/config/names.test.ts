import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkContextName,
  checkLabelKey,
  checkLabelValue,
  checkName,
  checkPortName,
  DNS1035_LABEL,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  SESSION_NAME,
  type NameRule,
} from '../../config/names.js';

test('each name rule accepts and refuses what Kubernetes does', () => {
  const cases: Array<[NameRule, string[], string[]]> = [
    [SESSION_NAME, ['web', 'a', 'api.v2', 'db_main', 'x-1', '0', 'a'.repeat(63)], ['', 'Web', '-a', 'a-', '.a', 'a_', 'a b', 'a'.repeat(64)]],
    [DNS1123_LABEL, ['default', 'kube-system', '0', 'a1', 'a'.repeat(63)], ['', 'Default', 'a.b', 'a_b', '-a', 'a-', 'a'.repeat(64)]],
    [DNS1123_SUBDOMAIN, ['web', 'web.v2', 'a-b.c-d', '0.1', 'a'.repeat(253)], ['', 'a..b', '.a', 'a.', 'a_b', 'A', 'a.-b', 'a'.repeat(254)]],
    [DNS1035_LABEL, ['web', 'a', 'web-1', 'a'.repeat(63)], ['', '1web', 'web.x', 'web-', 'Web', 'a'.repeat(64)]],
  ];
  for (const [rule, good, bad] of cases) {
    for (const v of good) assert.equal(checkName(rule, 'name', v).ok, true, `${rule.pattern} should accept ${v}`);
    for (const v of bad) assert.equal(checkName(rule, 'name', v).ok, false, `${rule.pattern} should refuse ${v}`);
  }
});

test('name messages say the rule', () => {
  assert.deepEqual(checkName(DNS1123_LABEL, 'namespace', 'Team'), {
    ok: false,
    message: `"Team" is not a valid namespace: use lowercase letters, digits and '-', starting and ending with a letter or digit`,
  });
  assert.deepEqual(checkName(DNS1123_LABEL, 'namespace', ''), { ok: false, message: 'namespace cannot be empty' });
  assert.deepEqual(checkName(SESSION_NAME, 'name', 'x'.repeat(64)), {
    ok: false,
    message: `"${'x'.repeat(60)}…" is not a valid name: it has 64 characters, at most 63 are allowed`,
  });
});

test('port names follow IANA_SVC_NAME', () => {
  for (const good of ['http', 'https-alt', 'h2c', 'a', 'p8080', 'a-b-c', 'x'.repeat(15)]) assert.equal(checkPortName(good).ok, true, good);
  for (const bad of ['', 'HTTP', '8080', '-http', 'http-', 'ht--tp', 'my_port', 'x'.repeat(16)]) assert.equal(checkPortName(bad).ok, false, bad);
});

test('label keys and values', () => {
  for (const good of ['app', 'app.kubernetes.io/name', 'example.com/Tier_1', 'A']) assert.equal(checkLabelKey(good).ok, true, good);
  assert.deepEqual(checkLabelKey('app.kubernetes.io/name'), { ok: true, value: 'app.kubernetes.io/name' });
  for (const bad of ['', '/app', 'Example.com/app', 'a/b/c', '-app', 'app-', `${'a'.repeat(64)}`]) {
    assert.equal(checkLabelKey(bad).ok, false, bad);
  }
  for (const good of ['', 'web', 'Web_1.0', 'a'.repeat(63)]) assert.equal(checkLabelValue(good).ok, true, good);
  for (const bad of ['-web', 'web!', 'a'.repeat(64)]) assert.equal(checkLabelValue(bad).ok, false, bad);
});

test('context names allow what real kubeconfigs use', () => {
  for (const good of ['dev', 'arn:aws:eks:eu-west-1:123456789012:cluster/prod', 'gke_proj_europe-west1_main', 'admin@kind', 'My Context']) {
    assert.equal(checkContextName(good).ok, true, good);
  }
  assert.deepEqual(checkContextName(''), { ok: false, message: 'context cannot be empty' });
  assert.deepEqual(checkContextName('dev\n'), { ok: false, message: '"dev\\n" is not a valid context name: it contains control characters' });
});

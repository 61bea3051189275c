import assert from 'node:assert/strict';
import { test } from 'node:test';
import { didYouMean, formatIssue, formatPath, quote } from '../../config/issues.js';
import type { ConfigIssue } from '../../config/types.js';

test('formatIssue leaves out what is null and marks warnings after the location', () => {
  const base: ConfigIssue = { severity: 'error', file: 'kport.yaml', line: 3, col: 7, path: 'forwards[1].ports[0]', message: 'bad' };
  assert.equal(formatIssue(base), 'kport.yaml:3:7: forwards[1].ports[0]: bad');
  assert.equal(formatIssue({ ...base, severity: 'warning' }), 'kport.yaml:3:7: warning: forwards[1].ports[0]: bad');
  assert.equal(formatIssue({ ...base, line: null, col: null }), 'kport.yaml: forwards[1].ports[0]: bad');
  assert.equal(formatIssue({ ...base, file: null, line: null, col: null }), 'forwards[1].ports[0]: bad');
  assert.equal(formatIssue({ ...base, path: '' }), 'kport.yaml:3:7: bad');
  assert.equal(formatIssue({ ...base, file: null, line: null, col: null, path: '', severity: 'warning' }), 'warning: bad');
});

test('formatPath', () => {
  assert.equal(formatPath([]), '');
  assert.equal(formatPath(['forwards', 1, 'ports', 0]), 'forwards[1].ports[0]');
  assert.equal(formatPath(['ports', 1]), 'ports[1]');
  assert.equal(formatPath(['forwards', 0, 'selector', 'app.kubernetes.io/name']), 'forwards[0].selector["app.kubernetes.io/name"]');
});

test('didYouMean finds close words only', () => {
  const keys = ['name', 'target', 'selector', 'ports', 'context', 'namespace', 'address', 'balance', 'connectTimeout', 'enabled'];
  assert.equal(didYouMean('prots', keys), '; did you mean "ports"?');
  assert.equal(didYouMean('adress', keys), '; did you mean "address"?');
  assert.equal(didYouMean('namepsace', keys), '; did you mean "namespace"?');
  assert.equal(didYouMean('connecttimeout', keys), '; did you mean "connectTimeout"?');
  assert.equal(didYouMean('selecter', keys), '; did you mean "selector"?');
  assert.equal(didYouMean('port', keys), '; did you mean "ports"?');
  assert.equal(didYouMean('image', keys), '');
  assert.equal(didYouMean('x', keys), '');
  assert.equal(didYouMean('a'.repeat(10_000), keys), '');
});

test('quote cuts long values short', () => {
  assert.equal(quote('abc'), '"abc"');
  assert.equal(quote('x'.repeat(1000)), `"${'x'.repeat(60)}…"`);
});

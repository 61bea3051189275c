import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTarget } from '../../config/target.js';

test('targets in every kind word kubectl takes', () => {
  const cases: Array<[string, string, string]> = [
    ['pod/web-0', 'pod', 'web-0'],
    ['po/web-0', 'pod', 'web-0'],
    ['pods/web.1', 'pod', 'web.1'],
    ['service/web', 'service', 'web'],
    ['svc/web', 'service', 'web'],
    ['services/web', 'service', 'web'],
    ['deployment/web', 'deployment', 'web'],
    ['deploy/web.v2', 'deployment', 'web.v2'],
    ['deployments/web', 'deployment', 'web'],
    ['statefulset/db', 'statefulset', 'db'],
    ['sts/db', 'statefulset', 'db'],
    ['statefulsets/db', 'statefulset', 'db'],
    ['replicaset/web-5d4f', 'replicaset', 'web-5d4f'],
    ['rs/web-5d4f', 'replicaset', 'web-5d4f'],
    ['replicasets/web-5d4f', 'replicaset', 'web-5d4f'],
  ];
  for (const [text, kind, name] of cases) assert.deepEqual(parseTarget(text), { ok: true, value: { kind, name } }, text);
});

test('bad targets say what is wrong', () => {
  const FORMS = 'write KIND/NAME with KIND one of pod, service (svc), deployment (deploy), statefulset (sts), replicaset (rs)';
  const cases: Array<[string, string]> = [
    ['web', `"web" is not a target: ${FORMS}`],
    ['deploymnt/web', '"deploymnt/web": unknown kind "deploymnt"; did you mean "deployment"?'],
    ['Service/web', '"Service/web": unknown kind "Service"; did you mean "service"?'],
    ['job/x', `"job/x": unknown kind "job"; ${FORMS}`],
    ['svc/', '"svc/": service name cannot be empty'],
    ['svc/1web', '"svc/1web": "1web" is not a valid service name: use lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit'],
    ['svc/web.x', '"svc/web.x": "web.x" is not a valid service name: use lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit'],
    ['pod/Web', '"pod/Web": "Web" is not a valid pod name: use lowercase letters, digits, \'-\' and \'.\', each dot-separated part starting and ending with a letter or digit'],
    ['deploy/a/b', '"deploy/a/b": "a/b" is not a valid deployment name: use lowercase letters, digits, \'-\' and \'.\', each dot-separated part starting and ending with a letter or digit'],
    [`sts/${'a'.repeat(254)}`, `"sts/${'a'.repeat(56)}…": "${'a'.repeat(60)}…" is not a valid statefulset name: it has 254 characters, at most 253 are allowed`],
  ];
  for (const [text, message] of cases) assert.deepEqual(parseTarget(text), { ok: false, message }, text);
});

test('kind words are looked up as own keys only', () => {
  assert.equal(parseTarget('constructor/x').ok, false);
  assert.equal(parseTarget('__proto__/x').ok, false);
});

/** The proxy filter against kubectl's own cases (TestAccept, TestExtractHost) plus the host-splitting corners. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DEFAULTS } from '../../config/defaults.js';
import { compileFilter, filterHost, splitHostPort, type FilterRules } from '../../daemon/proxy/filter.js';
import { proxyRules } from '../../daemon/proxy/handler.js';
import { fuzz } from '../helpers/fuzz.js';
import { proxySpec } from './fixtures.js';

const KUBECTL: FilterRules = DEFAULTS.proxy;

/** kubectl's `--reject-methods=POST,PUT,PATCH` style: a comma-separated flag becomes a list. */
const rules = (over: Partial<FilterRules>): FilterRules => ({ ...KUBECTL, ...over });

interface Case {
  rules: FilterRules;
  method: string;
  path: string;
  host: string;
  accept: boolean;
}

// kubectl's TestAccept (staging/src/k8s.io/kubectl/pkg/proxy/proxy_server_test.go), case for case.
const TEST_ACCEPT: Record<string, Case> = {
  'empty path': { rules: KUBECTL, method: 'GET', path: '', host: '127.0.0.1', accept: true },
  'pods list': { rules: KUBECTL, method: 'GET', path: '/api/v1/pods', host: '127.0.0.1', accept: true },
  'localhost': { rules: KUBECTL, method: 'GET', path: '/api/v1/pods', host: 'localhost', accept: true },
  'one pod': { rules: KUBECTL, method: 'GET', path: '/api/v1/namespaces/default/pods/foo', host: 'localhost', accept: true },
  'pod named attachfoo': { rules: KUBECTL, method: 'GET', path: '/api/v1/namespaces/default/pods/attachfoo', host: 'localhost', accept: true },
  'pod named execfoo': { rules: KUBECTL, method: 'GET', path: '/api/v1/namespaces/default/pods/execfoo', host: 'localhost', accept: true },
  'exec': { rules: KUBECTL, method: 'GET', path: '/api/v1/namespaces/default/pods/foo/exec', host: '127.0.0.1', accept: false },
  'attach': { rules: KUBECTL, method: 'GET', path: '/api/v1/namespaces/default/pods/foo/attach', host: '127.0.0.1', accept: false },
  'evil host': { rules: KUBECTL, method: 'GET', path: '/api/v1/pods', host: 'evil.com', accept: false },
  'localhost as a subdomain': { rules: KUBECTL, method: 'GET', path: '/api/v1/pods', host: 'localhost.evil.com', accept: false },
  'dots are literal': { rules: KUBECTL, method: 'GET', path: '/api/v1/pods', host: '127a0b0c1', accept: false },
  'non-API path': { rules: KUBECTL, method: 'GET', path: '/ui', host: 'localhost', accept: true },
  'POST by default': { rules: KUBECTL, method: 'POST', path: '/api/v1/pods', host: 'localhost', accept: true },
  'PUT by default': { rules: KUBECTL, method: 'PUT', path: '/api/v1/namespaces/default/pods/somepod', host: 'localhost', accept: true },
  'PATCH by default': { rules: KUBECTL, method: 'PATCH', path: '/api/v1/namespaces/default/pods/somepod', host: 'localhost', accept: true },
  'GET rejected': { rules: rules({ rejectMethods: ['GET'] }), method: 'GET', path: '/api/v1/pods', host: '127.0.0.1', accept: false },
  'POST rejected': { rules: rules({ rejectMethods: ['POST'] }), method: 'POST', path: '/api/v1/pods', host: 'localhost', accept: false },
  'PUT rejected': { rules: rules({ rejectMethods: ['PUT'] }), method: 'PUT', path: '/api/v1/namespaces/default/pods/somepod', host: 'localhost', accept: false },
  'PATCH rejected': { rules: rules({ rejectMethods: ['PATCH'] }), method: 'PATCH', path: '/api/v1/namespaces/default/pods/somepod', host: 'localhost', accept: false },
  'PATCH in a list': { rules: rules({ rejectMethods: ['POST', 'PUT', 'PATCH'] }), method: 'PATCH', path: '/api/v1/namespaces/default/pods/somepod', host: 'localhost', accept: false },
  'PUT in a list': { rules: rules({ rejectMethods: ['POST', 'PUT', 'PATCH'] }), method: 'PUT', path: '/api/v1/namespaces/default/pods/somepod', host: 'localhost', accept: false },
  'exec by POST': { rules: KUBECTL, method: 'POST', path: '/api/v1/namespaces/default/pods/somepod/exec', host: 'localhost', accept: false },
  'exec with no reject rules': { rules: rules({ rejectPaths: [] }), method: 'POST', path: '/api/v1/namespaces/default/pods/somepod/exec', host: 'localhost', accept: true },
};

// Beyond kubectl's table: custom rules, unanchored matching, and the order of the checks.
const CUSTOM: Record<string, Case> = {
  'accept list narrows paths': { rules: rules({ acceptPaths: ['^/api/v1/namespaces/team/'] }), method: 'GET', path: '/api/v1/namespaces/default/pods', host: 'localhost', accept: false },
  'accept list lets its paths through': { rules: rules({ acceptPaths: ['^/api/v1/namespaces/team/'] }), method: 'GET', path: '/api/v1/namespaces/team/pods', host: 'localhost', accept: true },
  'rules are unanchored': { rules: rules({ rejectPaths: ['secrets'] }), method: 'GET', path: '/api/v1/namespaces/team/secrets/x', host: 'localhost', accept: false },
  'reject wins over accept': { rules: rules({ acceptPaths: ['^/api/'], rejectPaths: ['^/api/v1/secrets'] }), method: 'GET', path: '/api/v1/secrets', host: 'localhost', accept: false },
  'no accept hosts: nothing passes': { rules: rules({ acceptHosts: [] }), method: 'GET', path: '/api', host: 'localhost', accept: false },
  'an extra host': { rules: rules({ acceptHosts: [...KUBECTL.acceptHosts, '^kport\\.test$'] }), method: 'GET', path: '/api', host: 'kport.test', accept: true },
  'the default ^$ rejects no method': { rules: KUBECTL, method: 'DELETE', path: '/api/v1/namespaces/x', host: 'localhost', accept: true },
  'the empty host': { rules: KUBECTL, method: 'GET', path: '/api', host: '', accept: false },
  'a bracketed IPv6 host': { rules: KUBECTL, method: 'GET', path: '/api', host: '[::1]', accept: true },
  'a bare IPv6 host': { rules: KUBECTL, method: 'GET', path: '/api', host: '::1', accept: false },
};

describe('accept (kubectl TestAccept)', () => {
  for (const [name, c] of Object.entries({ ...TEST_ACCEPT, ...CUSTOM })) {
    test(name, () => {
      const filter = compileFilter(c.rules);
      assert.equal(filter.accept(c.method, c.path, c.host), c.accept);
      assert.equal(filter.rejection(c.method, c.path, c.host) === null, c.accept);
    });
  }
});

describe('rejection names the rule', () => {
  const filter = compileFilter(rules({ rejectMethods: ['^POST$'] }));
  test('path', () => assert.match(filter.rejection('GET', '/api/v1/namespaces/a/pods/b/exec', 'localhost')!, /rejectPaths "\^\/api\/\.\*\/pods\/\.\*\/exec"/));
  test('method', () => assert.match(filter.rejection('POST', '/api/v1/namespaces', 'localhost')!, /method POST matches rejectMethods "\^POST\$"/));
  test('host', () => assert.match(filter.rejection('GET', '/api', 'evil.com')!, /host "evil\.com" matches no acceptHosts/));
});

describe('the host the filter sees (kubectl extractHost = Go net.SplitHostPort, else the whole Host)', () => {
  const cases: [header: string, host: string][] = [
    ['localhost:8085', 'localhost'], // kubectl TestExtractHost
    ['marmalade', 'marmalade'], // kubectl TestExtractHost: no port → the whole value, not ""
    ['localhost', 'localhost'],
    ['127.0.0.1:8001', '127.0.0.1'],
    ['localhost:', 'localhost'], // an empty port is still a port to Go
    ['[::1]:8001', '::1'], // brackets go with the port: the default ^\[::1\]$ rule then refuses it, as kubectl does
    ['[::1]', '[::1]'], // no port: SplitHostPort fails, the brackets stay
    ['::1', '::1'], // too many colons
    ['', ''],
    ['[::1', '[::1'], // missing ]
    ['a]b:80', 'a]b:80'], // stray ]
    ['[a]b:80', '[a]b:80'], // ] not followed by the port colon
  ];
  for (const [header, host] of cases) test(JSON.stringify(header), () => assert.equal(filterHost(header), host));

  test('splitHostPort returns both parts', () => {
    assert.deepEqual(splitHostPort('[fe80::1%eth0]:443'), { host: 'fe80::1%eth0', port: '443' });
    assert.deepEqual(splitHostPort('example.com:http'), { host: 'example.com', port: 'http' });
    assert.equal(splitHostPort('example.com'), null);
  });
});

describe('disableFilter', () => {
  test('no filter at all: even exec paths and foreign hosts pass', () => {
    assert.equal(proxyRules(proxySpec({ disableFilter: true })).filter, null);
  });
  test('the filter is on by default', () => {
    assert.equal(proxyRules(proxySpec()).filter?.accept('GET', '/api/v1/namespaces/a/pods/b/exec', 'localhost'), false);
  });
});

describe('rules of literal text and .* (every default) are matched without backtracking', () => {
  const matches = (source: string, path: string) => compileFilter(rules({ rejectPaths: [source] })).rejection('GET', path, 'localhost')?.startsWith('path ') ?? false;

  test('as a regular expression would match them', (t) => {
    const piece = fc.constantFrom('a', 'b', '/', 'ab', '\\.', '\\/', '.*');
    const source = fc.tuple(fc.boolean(), fc.array(piece, { maxLength: 6 }), fc.boolean()).map(([start, body, end]) => `${start ? '^' : ''}${body.join('')}${end ? '$' : ''}`);
    // \r and U+2028/9 left out: there Go's `.` (and so kubectl's, and this matcher's) differs from JavaScript's.
    const path = fc.array(fc.constantFrom('a', 'b', '/', '.', '\n'), { maxLength: 12 }).map((cs) => cs.join(''));
    return fuzz(t, fc.tuple(source, path), ([src, p]) => assert.equal(matches(src, p), new RegExp(src).test(p), `${src} on ${JSON.stringify(p)}`), { numRuns: 3000, timeLimitMs: 5_000 });
  });

  test('with Go\'s dot, as kubectl has it: it takes a carriage return, not a newline', () => {
    assert.equal(matches('^/api/.*/pods/.*/exec', '/api/v1/namespaces/x/pods/y\r/exec'), true);
    assert.equal(matches('^/api/.*/pods/.*/exec', '/api/v1/namespaces/x/pods/y\n/exec'), false);
  });

  test('a path of thousands of /pods/ segments is judged like any other', () => {
    const path = `/api/${'pods/'.repeat(3200)}`;
    assert.equal(matches('^/api/.*/pods/.*/exec', path), false);
    assert.equal(matches('^/api/.*/pods/.*/exec', `${path}exec`), true);
  });
});

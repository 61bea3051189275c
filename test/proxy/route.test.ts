/** Routing as kubectl proxy's ServeMux + stripLeaveSlash route (kubectl's TestPathHandling, and Go's mux redirects). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanPath, parseTarget, route, unescapePath, withSlash, type Route } from '../../daemon/proxy/route.js';

function routeOf(url: string, api: string, www: string | null = null): Route {
  const target = parseTarget(url, 'localhost');
  assert.ok(target, `${url} should parse`);
  return route(target, { api: withSlash(api), www: www === null ? null : withSlash(www) });
}

describe('kubectl TestPathHandling: what the API server is asked for', () => {
  const cases: [prefix: string, path: string, expected: string | 'notFound'][] = [
    ['/api/', '/metrics', 'notFound'],
    ['/api/', '/api/metrics', '/api/metrics'],
    ['/api/', '/api/v1/pods/', '/api/v1/pods/'],
    ['/', '/metrics', '/metrics'],
    ['/', '/api/v1/pods/', '/api/v1/pods/'],
    ['/custom/', '/metrics', 'notFound'],
    ['/custom/', '/api/metrics', 'notFound'],
    ['/custom/', '/api/v1/pods/', 'notFound'],
    ['/custom/', '/custom/api/metrics', '/api/metrics'],
    ['/custom/', '/custom/api/v1/pods/', '/api/v1/pods/'],
    ['/custom', '/custom/api/v1/services/', '/api/v1/services/'], // the slash is added, as kubectl adds it
    ['/k8s-api', '/k8s-api/v1/pods', '/v1/pods'],
  ];
  for (const [prefix, path, expected] of cases) {
    test(`${prefix} ${path}`, () => {
      const r = routeOf(path, prefix);
      if (expected === 'notFound') assert.deepEqual(r, { kind: 'notFound' });
      else assert.deepEqual(r, { kind: 'api', filterPath: expected, rawPath: expected });
    });
  }
});

describe('ServeMux behaviour', () => {
  test('unclean paths are redirected to their clean form, query kept', () => {
    assert.deepEqual(routeOf('/api/../version?x=1', '/'), { kind: 'redirect', location: '/version?x=1' });
    assert.deepEqual(routeOf('/api//v1', '/'), { kind: 'redirect', location: '/api/v1' });
    assert.deepEqual(routeOf('/a/./b/', '/'), { kind: 'redirect', location: '/a/b/' });
  });
  test('escaped dot-dot is decoded before the check, so it cannot slip past rejectPaths', () => {
    assert.deepEqual(routeOf('/x/%2e%2e/api/v1/namespaces/a/pods/b/exec', '/'), { kind: 'redirect', location: '/api/v1/namespaces/a/pods/b/exec' });
  });
  test('a prefix without its slash is redirected to it', () => {
    assert.deepEqual(routeOf('/custom?x=1', '/custom/'), { kind: 'redirect', location: '/custom/?x=1' });
    assert.deepEqual(routeOf('/static', '/', '/static/'), { kind: 'redirect', location: '/static/' });
  });
  test('the longest prefix wins: www under the API root', () => {
    assert.deepEqual(routeOf('/static/app.js', '/', '/static/'), { kind: 'static', path: '/app.js' });
    assert.deepEqual(routeOf('/static/', '/', '/static/'), { kind: 'static', path: '/' });
    assert.deepEqual(routeOf('/api/v1', '/', '/static/'), { kind: 'api', filterPath: '/api/v1', rawPath: '/api/v1' });
  });
  test('the filter sees the decoded path; the API server gets the path as sent', () => {
    assert.deepEqual(routeOf('/api/v1/namespaces/a/pods/b/%65xec', '/'), { kind: 'api', filterPath: '/api/v1/namespaces/a/pods/b/exec', rawPath: '/api/v1/namespaces/a/pods/b/%65xec' });
  });
  test('the root of a stripped prefix', () => {
    assert.deepEqual(routeOf('/custom/', '/custom/'), { kind: 'api', filterPath: '', rawPath: '/' });
  });
});

describe('request targets', () => {
  test('an absolute-form target: its host is the one filtered (Go req.Host)', () => {
    assert.deepEqual(parseTarget('http://evil.com:80/api?x', 'localhost'), { host: 'evil.com:80', rawPath: '/api', path: '/api', search: '?x' });
  });
  test('no Host header: the empty host', () => assert.equal(parseTarget('/api', undefined)?.host, ''));
  test('a malformed escape is a bad request, as Go answers 400', () => assert.equal(parseTarget('/api/%zz', 'localhost'), null));
  test('escapes decode to UTF-8; bytes that are not UTF-8 do not throw', () => {
    assert.equal(unescapePath('/a%20b/%C3%A9'), '/a b/é');
    assert.equal(unescapePath('/%ff'), '/\ufffd');
  });
  test('cleanPath keeps a trailing slash, as Go does', () => {
    assert.deepEqual(['', '/', '//', '/a/../', '/a/b/..', '/a/./b/', '/../x'].map(cleanPath), ['/', '/', '/', '/', '/a', '/a/b/', '/x']);
  });
});

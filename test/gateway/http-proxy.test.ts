/** HTTP proxy requests: CONNECT, absolute form rewritten to origin form, and what is refused with 400. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorResponse, MAX_HEAD_BYTES, parseProxyRequest } from '../../daemon/gateway/http-proxy.js';

const head = (...lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

test('CONNECT host:port, bracketed IPv6 too; what follows the head is not part of it', () => {
  const h = head('CONNECT web.default.svc:443 HTTP/1.1', 'Host: web.default.svc:443');
  assert.deepEqual(parseProxyRequest(Buffer.concat([h, Buffer.from('\x16\x03')])), { kind: 'done', request: { kind: 'connect', host: 'web.default.svc', port: 443 }, used: h.length });
  const v6 = parseProxyRequest(head('CONNECT [fd00::1]:8443 HTTP/1.1'));
  assert.deepEqual(v6.kind === 'done' && v6.request, { kind: 'connect', host: 'fd00::1', port: 8443 });
});

test('an absolute-form request goes on in origin form: Host from the URL, hop-by-hop headers gone, one request per connection', () => {
  const parsed = parseProxyRequest(
    head(
      'POST http://web.default:8080/api/items?x=1 HTTP/1.1',
      'Host: something-else',
      'Proxy-Connection: keep-alive',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      'Connection: keep-alive, X-Trace',
      'X-Trace: 1',
      'Keep-Alive: timeout=5',
      'Content-Length: 2',
      'User-Agent: curl/8',
    ),
  );
  assert.equal(parsed.kind, 'done');
  if (parsed.kind !== 'done' || parsed.request.kind !== 'forward') return;
  assert.equal(parsed.request.host, 'web.default');
  assert.equal(parsed.request.port, 8080);
  assert.equal(
    parsed.request.head.toString('latin1'),
    'POST /api/items?x=1 HTTP/1.1\r\nHost: web.default:8080\r\nContent-Length: 2\r\nUser-Agent: curl/8\r\nConnection: close\r\n\r\n',
  );
});

test('port 80 by default; an upgrade keeps its Connection and Upgrade headers', () => {
  const parsed = parseProxyRequest(head('GET http://WEB/ws HTTP/1.1', 'Connection: Upgrade', 'Upgrade: websocket'));
  assert.ok(parsed.kind === 'done' && parsed.request.kind === 'forward');
  assert.equal(parsed.request.port, 80);
  assert.equal(parsed.request.host, 'web');
  assert.equal(parsed.request.head.toString('latin1'), 'GET /ws HTTP/1.1\r\nHost: web\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
});

test('a head still arriving asks for more; one over the limit is refused', () => {
  assert.deepEqual(parseProxyRequest(Buffer.from('GET http://web/ HTTP/1.1\r\nHost: web\r\n')), { kind: 'more' });
  const big = Buffer.from(`GET http://web/ HTTP/1.1\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`);
  assert.deepEqual(parseProxyRequest(big), { kind: 'bad', message: 'the request head is over 16 KiB' });
});

test('origin form, https in absolute form, and malformed heads are refused', () => {
  const refused = (h: Buffer) => {
    const r = parseProxyRequest(h);
    return r.kind === 'bad' ? r.message : `not refused: ${r.kind}`;
  };
  assert.equal(
    refused(head('GET /admin HTTP/1.1', 'Host: 127.0.0.1:1080')),
    'GET /admin is an origin-form request: this port is a proxy, and answers only clients configured to use it (absolute-form requests or CONNECT)',
  );
  assert.equal(refused(head('GET https://web/ HTTP/1.1')), 'an https:// URL in absolute form cannot be served: clients use CONNECT for https (https_proxy=http://…)');
  assert.equal(refused(head('GET ftp://web/ HTTP/1.1')), 'not an http:// URL: "ftp://web/"');
  assert.equal(refused(head('CONNECT web HTTP/1.1')), 'CONNECT needs host:port, not "web"');
  assert.equal(refused(head('CONNECT web:0 HTTP/1.1')), 'CONNECT needs host:port, not "web:0"');
  assert.equal(refused(head('GET http://web/ HTTP/2.0')), 'not an HTTP/1.x request line: "GET http://web/ HTTP/2.0"');
  assert.equal(refused(head('GET http://web/ HTTP/1.1', ' folded: line')), 'malformed header line: " folded: line"');
  assert.equal(refused(head('GET http://web/ HTTP/1.1', 'no colon')), 'malformed header line: "no colon"');
});

test('error responses have one line of text and close the connection', () => {
  assert.equal(
    errorResponse(502, 'service "x" not found\nin namespace "y"').toString(),
    'HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 39\r\nConnection: close\r\n\r\nservice "x" not found in namespace "y"\n',
  );
});

/** Which headers cross the proxy (ReverseProxy's hop-by-hop rules, client-go's "keep the client's Authorization"). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requestHeaders, responseHeaders } from '../../daemon/proxy/headers.js';

const CREDENTIALS = { Authorization: 'Bearer context-token' };

describe('requestHeaders', () => {
  test('hop-by-hop headers and those the Connection header names stop at the proxy; the Host is the API server’s', () => {
    const out = requestHeaders(
      { host: 'localhost:8001', connection: 'keep-alive, x-private', 'keep-alive': 'timeout=5', 'x-private': '1', te: 'trailers', 'proxy-authorization': 'Basic x', accept: 'application/json', 'user-agent': 'curl/8' },
      { credentials: CREDENTIALS, clientIp: undefined, upgrade: false },
    );
    assert.deepEqual(out, { accept: 'application/json', 'user-agent': 'curl/8', authorization: 'Bearer context-token' });
  });

  test('a client that sends its own Authorization keeps it (client-go leaves it alone)', () => {
    const out = requestHeaders({ authorization: 'Bearer mine' }, { credentials: CREDENTIALS, clientIp: undefined, upgrade: false });
    assert.equal(out.authorization, 'Bearer mine');
  });

  test('X-Forwarded-For gains the client address, after any it already had', () => {
    assert.equal(requestHeaders({}, { credentials: {}, clientIp: '127.0.0.1', upgrade: false })['x-forwarded-for'], '127.0.0.1');
    assert.equal(requestHeaders({ 'x-forwarded-for': '10.0.0.1' }, { credentials: {}, clientIp: '127.0.0.1', upgrade: false })['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
  });

  test('a chunked request body stays chunked', () => {
    assert.equal(requestHeaders({ 'transfer-encoding': 'chunked' }, { credentials: {}, clientIp: undefined, upgrade: false })['transfer-encoding'], 'chunked');
  });

  test('an upgrade keeps Connection and Upgrade (and the rest), drops only the Host', () => {
    const out = requestHeaders(
      { host: 'localhost', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-protocol': 'v5.channel.k8s.io' },
      { credentials: CREDENTIALS, clientIp: undefined, upgrade: true },
    );
    assert.deepEqual(out, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-protocol': 'v5.channel.k8s.io', authorization: 'Bearer context-token' });
  });
});

describe('responseHeaders', () => {
  test('hop-by-hop headers are dropped; repeated headers and their case are kept', () => {
    const raw = ['Content-Type', 'application/json', 'Connection', 'keep-alive, X-Hop', 'Keep-Alive', 'timeout=5', 'X-Hop', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Transfer-Encoding', 'chunked'];
    assert.deepEqual(responseHeaders(raw), ['Content-Type', 'application/json', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });
});

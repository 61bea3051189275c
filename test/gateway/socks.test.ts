/** SOCKS5 parsing (RFC 1928): the messages the gateway takes, and every malformed greeting and request it refuses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { methodReply, parseGreeting, parseRequest, requestReply, SOCKS_REPLY } from '../../daemon/gateway/socks.js';

const bytes = (...b: number[]) => Buffer.from(b);
const domainRequest = (name: string, port: number) => Buffer.concat([bytes(5, 1, 0, 3, Buffer.byteLength(name)), Buffer.from(name, 'latin1'), bytes(port >> 8, port & 255)]);

test('a greeting offering no-auth is answered with no-auth; one offering only others with 0xff', () => {
  const g = parseGreeting(bytes(5, 2, 0x02, 0x00));
  assert.deepEqual(g, { kind: 'done', value: { methods: [2, 0] }, used: 4 });
  assert.deepEqual([...methodReply({ methods: [2, 0] })], [5, 0]);
  assert.deepEqual([...methodReply({ methods: [2] })], [5, 0xff]);
});

test('truncated greetings ask for more, at every length', () => {
  const whole = bytes(5, 3, 0, 1, 2);
  for (let n = 0; n < whole.length; n++) assert.deepEqual(parseGreeting(whole.subarray(0, n)), { kind: 'more' }, `${n} bytes`);
  assert.equal(parseGreeting(whole).kind, 'done');
});

test('greetings of the wrong version, SOCKS4 and no methods are refused without a reply', () => {
  assert.deepEqual(parseGreeting(bytes(4, 1, 0, 80, 127, 0, 0, 1, 0)), { kind: 'bad', reply: null, message: 'SOCKS4 is not supported: use SOCKS5 (curl --socks5-hostname, socks5h://)' });
  assert.deepEqual(parseGreeting(bytes(6, 1, 0)), { kind: 'bad', reply: null, message: 'not a SOCKS5 greeting: version byte 0x06' });
  assert.deepEqual(parseGreeting(bytes(5, 0)), { kind: 'bad', reply: null, message: 'the SOCKS5 greeting offers no authentication method' });
});

test('CONNECT to a domain, an IPv4 and an IPv6 address; bytes after the request are left over', () => {
  const name = domainRequest('web.default.svc.cluster.local', 80);
  assert.deepEqual(parseRequest(Buffer.concat([name, Buffer.from('GET')])), {
    kind: 'done',
    value: { host: 'web.default.svc.cluster.local', port: 80, addressType: 'domain' },
    used: name.length,
  });
  assert.deepEqual(parseRequest(bytes(5, 1, 0, 1, 10, 96, 0, 12, 0x1f, 0x90)), { kind: 'done', value: { host: '10.96.0.12', port: 8080, addressType: 'ipv4' }, used: 10 });
  const v6 = bytes(5, 1, 0, 4, 0xfd, 0, ...Array(13).fill(0), 0x0a, 0, 22);
  assert.deepEqual(parseRequest(v6), { kind: 'done', value: { host: 'fd00::a', port: 22, addressType: 'ipv6' }, used: 22 });
});

test('truncated requests ask for more, at every length, for every address type', () => {
  for (const whole of [domainRequest('web', 80), bytes(5, 1, 0, 1, 1, 2, 3, 4, 0, 80), bytes(5, 1, 0, 4, ...Array(16).fill(1), 0, 80)]) {
    for (let n = 0; n < whole.length; n++) assert.deepEqual(parseRequest(whole.subarray(0, n)), { kind: 'more' }, `${n} of ${whole.length} bytes`);
    assert.equal(parseRequest(whole).kind, 'done');
  }
});

test('malformed requests are refused with the reply code that fits', () => {
  const cases: [Buffer, number, string][] = [
    [bytes(4, 1, 0, 1, 1, 2, 3, 4, 0, 80), SOCKS_REPLY.GENERAL_FAILURE, 'not a SOCKS5 request: version byte 0x04'],
    [bytes(5, 2, 0, 1, 1, 2, 3, 4, 0, 80), SOCKS_REPLY.COMMAND_NOT_SUPPORTED, 'SOCKS5 command BIND is not supported: only CONNECT'],
    [bytes(5, 3, 0, 1, 1, 2, 3, 4, 0, 80), SOCKS_REPLY.COMMAND_NOT_SUPPORTED, 'SOCKS5 command UDP ASSOCIATE is not supported: only CONNECT'],
    [bytes(5, 1, 7, 1, 1, 2, 3, 4, 0, 80), SOCKS_REPLY.GENERAL_FAILURE, "the SOCKS5 request's reserved byte is 0x07, not 0"],
    [bytes(5, 1, 0, 2, 1, 2, 3, 4, 0, 80), SOCKS_REPLY.ADDRESS_TYPE_NOT_SUPPORTED, 'SOCKS5 address type 0x02 is not supported'],
    [bytes(5, 1, 0, 3, 0, 0, 80), SOCKS_REPLY.HOST_UNREACHABLE, 'the SOCKS5 request names an empty host'],
    [domainRequest('web svc', 80), SOCKS_REPLY.HOST_UNREACHABLE, 'the SOCKS5 request names "web svc", which is not a host name'],
    [domainRequest('web\u0000', 80), SOCKS_REPLY.HOST_UNREACHABLE, 'the SOCKS5 request names "web\\u0000", which is not a host name'],
    [domainRequest('web', 0), SOCKS_REPLY.CONNECTION_REFUSED, 'the SOCKS5 request asks for port 0 of web'],
  ];
  for (const [buf, reply, message] of cases) assert.deepEqual(parseRequest(buf), { kind: 'bad', reply, message });
});

test('an oversized name is refused as soon as its length byte is read', () => {
  // 254 and 255 fit the length byte but no DNS name is that long; the name itself need not have arrived.
  assert.deepEqual(parseRequest(bytes(5, 1, 0, 3, 254)), { kind: 'bad', reply: SOCKS_REPLY.HOST_UNREACHABLE, message: 'the SOCKS5 request names a host of 254 characters; DNS names have at most 253' });
  assert.equal(parseRequest(domainRequest('a'.repeat(253), 80)).kind, 'done');
});

test('replies carry the code and an empty bound address', () => {
  assert.deepEqual([...requestReply(SOCKS_REPLY.SUCCEEDED)], [5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...requestReply(SOCKS_REPLY.HOST_UNREACHABLE)], [5, 4, 0, 1, 0, 0, 0, 0, 0, 0]);
});

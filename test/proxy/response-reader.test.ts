/**
 * The proxy's HTTP/1.1 response reader, on its own: each framing, when a connection may be reused, the
 * interim answers it drops, the responses it refuses, its bounds, and (a property) that however the bytes
 * are cut into reads, the same head and body come out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_HEAD_BYTES, ResponseError, ResponseReader, type ResponseHead } from '../../daemon/proxy/response-reader.js';

interface Read {
  head: ResponseHead | null;
  body: string;
  done: boolean;
  reusable: boolean;
}

/** Feeds `parts` (then a close, with `close`) and says what came out. */
function read(parts: (string | Buffer)[], opts: { head?: boolean; close?: boolean } = {}): Read {
  let head: ResponseHead | null = null;
  const body: Buffer[] = [];
  const reader = new ResponseReader({ head: (h) => (head = h), body: (c) => body.push(Buffer.from(c)) }, opts.head ?? false);
  for (const p of parts) reader.push(Buffer.isBuffer(p) ? p : Buffer.from(p, 'latin1'));
  if (opts.close) reader.close();
  return { head, body: Buffer.concat(body).toString('latin1'), done: reader.done, reusable: reader.reusable };
}

/** Cuts `text` at the given offsets. */
function cut(text: string, at: number[]): string[] {
  const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
  return [0, ...points].map((from, i) => text.slice(from, points[i] ?? text.length));
}

const OK = 'HTTP/1.1 200 OK\r\n';

test('Content-Length: the body and nothing after it; the connection can be reused', () => {
  const r = read([`${OK}Content-Type: application/json\r\nContent-Length: 5\r\n\r\nhello`]);
  assert.deepEqual(r.head, { status: 200, rawHeaders: ['Content-Type', 'application/json', 'Content-Length', '5'], framing: 'length', keepAlive: true });
  assert.deepEqual([r.body, r.done, r.reusable], ['hello', true, true]);
  assert.equal(read([`${OK}Content-Length: 0\r\n\r\n`]).done, true);
  assert.equal(read([`${OK}Content-Length: 5\r\n\r\nhel`]).done, false);
});

test('chunked: sizes, extensions and trailers are read and dropped; the body comes out whole', () => {
  const r = read([`${OK}Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA \r\n, chunked!\r\n0\r\nX-Trailer: t\r\n\r\n`]);
  assert.deepEqual([r.head?.framing, r.body, r.done, r.reusable], ['chunked', 'hello, chunked!', true, true]);
  assert.deepEqual([read([`${OK}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`]).done], [true]);
  assert.equal(read([`${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`]).done, false, 'no last chunk yet');
});

test('no length and no chunking: the body runs until the connection closes, which is then not reused', () => {
  const open = read([`${OK}Content-Type: text/plain\r\n\r\nstreamed`]);
  assert.deepEqual([open.head?.framing, open.body, open.done], ['close', 'streamed', false]);
  const closed = read([`${OK}\r\nstreamed`], { close: true });
  assert.deepEqual([closed.body, closed.done, closed.reusable], ['streamed', true, false]);
  assert.equal(read([`${OK}Transfer-Encoding: gzip\r\n\r\nzz`], { close: true }).head?.framing, 'close', 'a coding other than chunked last');
});

test('no body for HEAD, 204 and 304, whatever the headers say', () => {
  assert.deepEqual(read([`${OK}Content-Length: 50\r\n\r\n`], { head: true }), { head: { status: 200, rawHeaders: ['Content-Length', '50'], framing: 'none', keepAlive: true }, body: '', done: true, reusable: true });
  assert.equal(read(['HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n']).done, true);
  assert.equal(read(['HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n']).done, true);
});

test('not reused: Connection: close, HTTP/1.0, both framings, and bytes after the response', () => {
  assert.equal(read([`${OK}Connection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n`]).reusable, false);
  assert.equal(read(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n']).reusable, false);
  const both = read([`${OK}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n`]);
  assert.deepEqual([both.head?.framing, both.body, both.done, both.reusable], ['chunked', 'ab', true, false]);
  const surplus = read([`${OK}Content-Length: 2\r\n\r\nab`, 'HTTP/1.1 200 OK\r\n']);
  assert.deepEqual([surplus.body, surplus.done, surplus.reusable], ['ab', true, false]);
});

test('interim 1xx answers are dropped; the final answer follows', () => {
  const r = read([`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`]);
  assert.deepEqual([r.head?.status, r.body, r.done], [200, 'ok', true]);
  assert.throws(() => read(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n']), /switched protocols/);
});

test('repeated equal Content-Lengths are one; differing or invalid ones are refused', () => {
  assert.equal(read([`${OK}Content-Length: 2, 2\r\nContent-Length: 2\r\n\r\nab`]).done, true);
  for (const bad of ['1, 2', '-1', '0x10', '', '1e3', '9999999999999999']) {
    assert.throws(() => read([`${OK}Content-Length: ${bad}\r\n\r\n`]), ResponseError, bad);
  }
});

test('malformed responses are ResponseErrors', () => {
  const cases: [string, RegExp][] = [
    ['HTTP/2 200 OK\r\n\r\n', /status line/],
    ['HTTP/1.1 20 OK\r\n\r\n', /status line/],
    ['HTTP/1.1 099 X\r\n\r\n', /status line/], // Node would refuse to answer with it
    [`${OK}X-A: a\nb\r\n\r\n`, /X-A with a control character/], // a bare LF: Node would refuse the whole head
    [`${OK}X-A: a\0b\r\n\r\n`, /X-A with a control character/],
    ['SSH-2.0-OpenSSH\r\n\r\n', /status line/],
    [`${OK}No colon here\r\n\r\n`, /header line/],
    [`${OK}: empty name\r\n\r\n`, /header line/],
    [`${OK}Bad Name: x\r\n\r\n`, /header line/],
    [`${OK}X-A: 1\r\n folded\r\n\r\n`, /header line/],
    [`${OK}Transfer-Encoding: chunked\r\n\r\nzz\r\n`, /chunk size/],
    [`${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n`, /longer than its size/],
  ];
  for (const [text, message] of cases) assert.throws(() => read([text]), message, JSON.stringify(text));
});

test('a head, chunk line or trailer section over the bound is refused as soon as the bound is passed', () => {
  const long = `${OK}X-Big: ${'a'.repeat(MAX_HEAD_BYTES)}`;
  assert.throws(() => read([long]), /over 16384 bytes/, 'without its end yet');
  assert.throws(() => read([`${long}\r\n\r\n`]), /over 16384 bytes/);
  assert.doesNotThrow(() => read([`${OK}X-Fits: ${'a'.repeat(MAX_HEAD_BYTES - 64)}\r\nContent-Length: 0\r\n\r\n`]));
  assert.throws(() => read([`${OK}Transfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(MAX_HEAD_BYTES)}`]), /over 16384 bytes/);
  assert.throws(() => read([`${OK}Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: ${'t'.repeat(MAX_HEAD_BYTES)}`]), /over 16384 bytes/);
});

test('a connection closing before the response is complete is a ResponseError', () => {
  assert.throws(() => read([], { close: true }), /before a response/);
  assert.throws(() => read([`${OK}Content-Length: 5\r\n\r\nhel`], { close: true }), /middle of the response/);
  assert.throws(() => read([`${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`], { close: true }), /middle of the response/);
});

test('property: however a response is cut into reads, the same head, body and end come out', () => {
  const framed = fc.oneof(
    fc.string({ maxLength: 300 }).map((body) => ({ text: `${OK}Date: x\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`, body, close: false })),
    fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 6 }).map((chunks) => ({
      text: `${OK}Transfer-Encoding: chunked\r\n\r\n${chunks.map((c) => `${Buffer.byteLength(c, 'latin1').toString(16)};x=y\r\n${c}\r\n`).join('')}0\r\nT: 1\r\n\r\n`,
      body: chunks.join(''),
      close: false,
    })),
    fc.string({ maxLength: 300 }).map((body) => ({ text: `HTTP/1.1 100 Continue\r\n\r\n${OK}Server: x\r\n\r\n${body}`, body, close: true })),
  );
  fc.assert(
    fc.property(framed, fc.array(fc.nat(), { maxLength: 12 }), ({ text, body, close }, at) => {
      const whole = read([text], { close });
      const pieces = read(cut(text, at), { close });
      assert.deepEqual(pieces, whole);
      assert.equal(pieces.body, Buffer.from(body, 'latin1').toString('latin1'));
      assert.equal(pieces.done, true);
    }),
    { numRuns: 500 },
  );
});

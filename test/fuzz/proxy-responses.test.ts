/**
 * What an API server may answer a proxy's relay, fuzzed: the response reader on arbitrary bytes, near-valid
 * responses with damaged heads, lengths and chunks, and oversized heads, each fed whole and cut at random points.
 * It throws nothing but a ResponseError; it holds no more than its bound of an unfinished head, chunk line or
 * trailer (so a server cannot make kportd buffer without bound); it never hands on more body bytes than the
 * bytes it was given; and a response reads the same however it is cut, or fails the same way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_HEAD_BYTES, ResponseError, ResponseReader } from '../../daemon/proxy/response-reader.js';
import { fuzz } from '../helpers/fuzz.js';

// ---- inputs -----------------------------------------------------------------------------------------------------

const statusArb = fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.1 204 No Content', 'HTTP/1.1 304 Not Modified', 'HTTP/1.1 100 Continue', 'HTTP/1.0 200 OK', 'HTTP/1.1 101 Switching', 'HTTP/1.1 500', 'HTTP/2 200', 'HTTP/1.1 2000 X', '');
const headerArb = fc.oneof(
  fc.constantFrom('Content-Type: application/json', 'Connection: close', 'Connection: keep-alive', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, gzip', ' folded', 'No-Colon', ': empty'),
  fc.integer({ min: -1, max: 300 }).map((n) => `Content-Length: ${n}`),
  fc.constantFrom('Content-Length: 1, 2', 'Content-Length: 3, 3', 'Content-Length: 0x10', 'Content-Length: '),
  fc.string({ maxLength: 30 }).map((v) => `X-Any: ${v}`),
);
const chunkArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }).map((c) => `${Buffer.byteLength(c, 'latin1').toString(16)}\r\n${c}\r\n`),
  fc.constantFrom('0\r\n\r\n', '0\r\nX-T: 1\r\n\r\n', 'zz\r\n', '5\r\nab\r\n', '3;ext\r\nabc\r\n', 'ffffffffffffffff\r\n', '\r\n'),
);
/** A response-shaped text: a status line, headers, and a body or chunks, any part of it possibly wrong. */
const nearValidArb = fc
  .record({ status: statusArb, headers: fc.array(headerArb, { maxLength: 5 }), body: fc.oneof(fc.string({ maxLength: 200 }), fc.array(chunkArb, { maxLength: 5 }).map((c) => c.join(''))) })
  .map(({ status, headers, body }) => Buffer.from(`${status}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`, 'latin1'));
const oversizedArb = fc.constantFrom(
  Buffer.from(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES + 10)}\r\n\r\n`),
  Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(MAX_HEAD_BYTES + 10)}\r\n`),
  Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ${'t'.repeat(MAX_HEAD_BYTES + 10)}\r\n\r\n`),
  Buffer.from('x'.repeat(MAX_HEAD_BYTES * 2)),
);
const bytesArb = fc.oneof({ weight: 5, arbitrary: nearValidArb }, { weight: 2, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)) }, { weight: 1, arbitrary: oversizedArb });
const inputArb = fc.record({ bytes: bytesArb, cuts: fc.array(fc.nat(), { maxLength: 8 }), head: fc.boolean(), close: fc.boolean() });

// ---- the reader -------------------------------------------------------------------------------------------------

/** What reading `pieces` came to: the head's status, the body, how it ended, or the ResponseError's message. */
function outcome(pieces: Buffer[], head: boolean, close: boolean): { status: number | null; body: string; done: boolean; error: string | null } {
  let status: number | null = null;
  const body: Buffer[] = [];
  const reader = new ResponseReader({ head: (h) => (status = h.status), body: (c) => body.push(Buffer.from(c)) }, head);
  const held = () => (reader as unknown as { pending: Buffer | null }).pending?.length ?? 0;
  let given = 0;
  try {
    for (const p of pieces) {
      given += p.length;
      reader.push(p);
      assert.ok(held() <= MAX_HEAD_BYTES, `holds ${held()} bytes of an unfinished line`);
    }
    if (close) reader.close();
  } catch (err) {
    if (!(err instanceof ResponseError)) throw err;
    return { status, body: Buffer.concat(body).toString('latin1'), done: reader.done, error: err.message };
  }
  const got = Buffer.concat(body);
  assert.ok(got.length <= given, 'more body than bytes');
  return { status, body: got.toString('latin1'), done: reader.done, error: null };
}

/** `bytes` cut at the given offsets. */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
  return [0, ...points].map((from, i) => bytes.subarray(from, points[i] ?? bytes.length));
}

test('response reader: any bytes, in any cuts, give the same response or the same ResponseError, within its bound', async (t) => {
  await fuzz(
    t,
    inputArb,
    ({ bytes, cuts, head, close }) => {
      const whole = outcome([bytes], head, close);
      const pieces = outcome(cut(bytes, cuts), head, close);
      // A failure may come at a later piece than in one read, after more of the body was handed on; its reason is the same.
      if (whole.error !== null || pieces.error !== null) return assert.deepEqual([pieces.error, pieces.status], [whole.error, whole.status]);
      assert.deepEqual(pieces, whole);
    },
    { numRuns: 2_000, timeLimitMs: 10_000 },
  );
});

/**
 * What a gateway client may send before its connection is routed, fuzzed: the pure SOCKS5 and HTTP proxy parsers on
 * arbitrary, near-valid and oversized bytes, and readRequest on a real socket fed the same bytes in random pieces.
 * Nothing throws; a parser decides within a bounded number of bytes (so a client cannot make kportd buffer without
 * bound); a request is read the same however it is split; bytes sent after the request reach the destination.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { KportError } from '../../daemon/api/errors.js';
import { readRequest, type GatewayRequest } from '../../daemon/gateway/handshake.js';
import { MAX_HEAD_BYTES, parseProxyRequest } from '../../daemon/gateway/http-proxy.js';
import { MAX_NAME, NO_AUTH, parseGreeting, parseRequest } from '../../daemon/gateway/socks.js';
import { fuzz, settles } from '../helpers/fuzz.js';

// ---- inputs -----------------------------------------------------------------------------------------------------

const hostArb = fc.oneof(
  fc.constantFrom('web', 'web.default', 'db-0.db.default.svc', 'localhost', '10.0.0.7', '[::1]', 'a'.repeat(MAX_NAME), 'a'.repeat(MAX_NAME + 1)),
  fc.stringMatching(/^[a-z0-9.-]{0,20}$/),
);
const portArb = fc.oneof(fc.constantFrom(0, 80, 5432, 65535), fc.integer({ min: 0, max: 70_000 }));

/** A SOCKS5 greeting and CONNECT request, by IPv4, IPv6 or name. */
const socksArb = fc
  .record({ methods: fc.uint8Array({ minLength: 0, maxLength: 4 }), withNoAuth: fc.boolean(), atyp: fc.constantFrom(1, 3, 4, 9), host: hostArb, port: portArb, cmd: fc.constantFrom(1, 1, 1, 2, 3) })
  .map(({ methods, withNoAuth, atyp, host, port, cmd }) => {
    const m = withNoAuth ? [NO_AUTH, ...methods] : [...methods];
    const name = Buffer.from(host, 'latin1');
    const addr = atyp === 1 ? [10, 0, 0, 7] : atyp === 4 ? [...Buffer.alloc(15), 1] : [Math.min(name.length, 255), ...name.subarray(0, 255)];
    return Buffer.from([5, m.length, ...m, 5, cmd, 0, atyp, ...addr, (port >> 8) & 0xff, port & 0xff]);
  });

/** An HTTP proxy request: CONNECT, absolute form, origin form, with headers good and bad. */
const httpArb = fc
  .record({
    method: fc.constantFrom('CONNECT', 'GET', 'POST', 'get', 'G'),
    form: fc.constantFrom('authority', 'absolute', 'origin'),
    host: hostArb,
    port: portArb,
    version: fc.constantFrom('1.1', '1.1', '1.0', '2'),
    headers: fc.array(fc.oneof(fc.constantFrom('Host: web', 'Connection: keep-alive, x-a', 'X-A: 1', 'Proxy-Authorization: Basic eA==', 'bad header', ': x', 'X: \u0001'), fc.stringMatching(/^[A-Za-z-]{1,8}: [ -~]{0,12}$/)), { maxLength: 4 }),
  })
  .map(({ method, form, host, port, version, headers }) => {
    const target = form === 'authority' ? `${host}:${port}` : form === 'absolute' ? `http://${host}:${port}/p?q=1` : '/p';
    return Buffer.from(`${method} ${target} HTTP/${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`, 'latin1');
  });

/** A valid-looking request damaged: cut short, a byte changed, bytes inserted, or a tail appended. */
const mutated = fc
  .tuple(fc.oneof(socksArb, httpArb), fc.constantFrom('cut', 'flip', 'insert', 'append'), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 24 }))
  .map(([b, how, at, bytes]) => {
    const i = b.length === 0 ? 0 : at % b.length;
    if (how === 'cut') return b.subarray(0, i);
    if (how === 'flip') return Buffer.concat([b.subarray(0, i), Buffer.from([bytes[0]!]), b.subarray(i + 1)]);
    if (how === 'insert') return Buffer.concat([b.subarray(0, i), bytes, b.subarray(i)]);
    return Buffer.concat([b, bytes]);
  });

/** Heads that never end, or end too late: the parser must refuse them rather than wait for more. */
const oversized = fc.constantFrom(
  Buffer.from(`GET http://web/ HTTP/1.1\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`, 'latin1'),
  Buffer.from(`CONNECT web:80 HTTP/1.1\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`, 'latin1'),
  Buffer.from('G'.repeat(MAX_HEAD_BYTES + 1), 'latin1'),
);

const bytesArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: socksArb },
  { weight: 3, arbitrary: httpArb },
  { weight: 4, arbitrary: mutated },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: oversized },
);

// ---- the pure parsers -------------------------------------------------------------------------------------------

type Parse = { kind: 'more' } | { kind: 'bad' } | { kind: 'done'; used: number; value: unknown };

/** Each parser, with the most bytes it may ask for before it must decide. */
const PARSERS: { name: string; parse: (b: Buffer) => Parse; bound: number }[] = [
  { name: 'SOCKS5 greeting', parse: parseGreeting, bound: 2 + 255 },
  { name: 'SOCKS5 request', parse: parseRequest, bound: 5 + 255 + 2 },
  { name: 'HTTP proxy head', parse: (b) => { const r = parseProxyRequest(b); return r.kind === 'done' ? { kind: 'done', used: r.used, value: r.request } : r; }, bound: MAX_HEAD_BYTES },
];

for (const { name, parse, bound } of PARSERS) {
  test(`${name}: never throws, decides within ${bound} bytes, and a request reads the same alone, cut to its length, or followed by more`, async (t) => {
    // The SOCKS request parser sees what follows the greeting: give it that part too.
    const inputs = name === 'SOCKS5 request' ? bytesArb.map((b) => (b[0] === 5 && b.length > 1 ? b.subarray(2 + b[1]!) : b)) : bytesArb;
    await fuzz(
      t,
      fc.tuple(inputs, fc.uint8Array({ minLength: 1, maxLength: 16 })),
      ([b, extra]) => {
        const r = parse(b);
        assert.ok(['more', 'bad', 'done'].includes(r.kind), `a result kind, not ${JSON.stringify(r)}`);
        if (r.kind === 'more') assert.ok(b.length < bound, `still asks for more after ${b.length} bytes`);
        const longer = parse(Buffer.concat([b, extra]));
        if (r.kind === 'bad') return assert.equal(longer.kind, 'bad', 'more bytes cannot make a refused request good');
        if (r.kind !== 'done') return;
        assert.ok(r.used >= 1 && r.used <= b.length, `used ${r.used} of ${b.length}`);
        assert.deepEqual(parse(b.subarray(0, r.used)), r, 'the request needs only its own bytes');
        assert.deepEqual(longer, r, 'bytes after the request do not change it');
        for (let k = 0; k < r.used; k++) assert.equal(parse(b.subarray(0, k)).kind, 'more', `a prefix of ${k} bytes is not yet decided`);
      },
      { numRuns: 1500, timeLimitMs: 15_000 },
    );
  });
}

// ---- readRequest on a real socket -------------------------------------------------------------------------------

/** What readRequest should make of `b` read at once: the pure parsers in the order the gateway applies them. */
function expected(b: Buffer): { request: GatewayRequest; used: number } | 'refused' | null {
  if (b.length === 0) return null;
  if (b[0] === 5 || b[0] === 4) {
    const g = parseGreeting(b);
    if (g.kind !== 'done' || !g.value.methods.includes(NO_AUTH)) return 'refused';
    const r = parseRequest(b.subarray(g.used));
    if (r.kind !== 'done') return 'refused';
    return { request: { protocol: 'socks5', host: r.value.host, port: r.value.port, head: null }, used: g.used + r.used };
  }
  const h = parseProxyRequest(b);
  if (!/^[A-Za-z]/.test(String.fromCharCode(b[0]!)) || h.kind !== 'done') return 'refused';
  const { request } = h;
  const protocol = request.kind === 'connect' ? 'http-connect' : 'http';
  return { request: { protocol, host: request.host, port: request.port, head: request.kind === 'forward' ? request.head : null }, used: h.used };
}

let server: Server;
const accepted: Socket[] = [];
before(async () => {
  server = createServer({ pauseOnConnect: true }, (s) => void accepted.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
after(() => server.close());

/** The next connection the server accepts. */
async function nextAccepted(): Promise<Socket> {
  while (accepted.length === 0) await once(server, 'connection');
  return accepted.shift()!;
}

/** Everything `socket` delivers until its end. */
function rest(socket: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  socket.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve) => socket.once('end', () => resolve(Buffer.concat(parts))));
}

test('readRequest: the same outcome however the bytes are split; what follows a request is passed on, not lost', async (t) => {
  await fuzz(
    t,
    fc.tuple(bytesArb, fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 6 })),
    async ([head, tail, cuts]) => {
      const b = Buffer.concat([head, tail]);
      const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
      client.on('error', () => {});
      client.resume(); // SOCKS replies and refusals: read and dropped.
      const socket = await nextAccepted();
      socket.on('error', () => {});
      try {
        const reading = readRequest(socket, 10_000);
        const at = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
        let from = 0;
        for (const to of [...at, b.length]) {
          if (to > from) client.write(b.subarray(from, to));
          from = to;
          await new Promise((r) => setImmediate(r));
        }
        client.end();
        const got = await settles(reading, 'readRequest after the client ended');
        const want = expected(b);
        if (want === null) return assert.equal(got, null);
        if (want === 'refused') {
          assert.ok(got instanceof KportError, `refused, not ${JSON.stringify(got)}`);
          return assert.equal(got.code, 'BAD_REQUEST');
        }
        if (got === null || got instanceof KportError) return assert.fail(`a request, not ${got?.message ?? 'null'}`);
        assert.deepEqual(got, want.request);
        assert.deepEqual(await settles(rest(socket.resume()), 'the bytes after the request'), b.subarray(want.used));
      } finally {
        client.destroy();
        socket.destroy();
      }
    },
    { numRuns: 300, timeLimitMs: 20_000 },
  );
});

/**
 * kportctl's WebSocket against `ws`'s server (what kportd runs) on a Unix socket: messages of every size
 * both ways, pings, both closing handshakes; and against servers that are not kportd: a refused
 * upgrade, a wrong accept key, silence, a broken frame.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { HandshakeError, openWebSocket, type ClientWebSocket } from '../../client/websocket/client.js';
import { waitUntil } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'kport-ws-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const socketPath = () => join(dir, `s${n++}.sock`);

/** Resolves with the next message `ws` receives. */
const nextMessage = (ws: WebSocket) => new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString('utf8'))));
/** Resolves with the next message the client receives. */
const nextClientMessage = (c: ClientWebSocket) => new Promise<string>((resolve) => (c.onMessage = resolve));

describe('against ws, as kportd serves the control socket', () => {
  let http: HttpServer;
  let wss: WebSocketServer;
  let path: string;
  const serverSide: WebSocket[] = [];
  before(async () => {
    path = socketPath();
    wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    http = createHttpServer((_, res) => res.writeHead(404).end());
    http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => serverSide.push(ws)));
    await new Promise<void>((resolve) => http.listen(path, resolve));
  });
  after(async () => {
    wss.close();
    await new Promise((resolve) => http.close(resolve));
  });
  afterEach(() => serverSide.splice(0).forEach((ws) => ws.terminate()));

  async function open(): Promise<{ client: ClientWebSocket; server: WebSocket }> {
    const client = await openWebSocket(path, '/rpc', 5_000);
    await waitUntil(() => serverSide.length > 0, 'the server to accept');
    return { client, server: serverSide[0]! };
  }

  for (const size of [0, 125, 126, 65_535, 65_536, 3 * 1024 * 1024]) {
    test(`a ${size}-byte text message goes both ways intact`, async () => {
      const { client, server } = await open();
      const body = 'é'.repeat(Math.floor(size / 2)) + (size % 2 ? 'x' : '');
      // A frame the server refuses closes the connection: fail at once rather than wait for a message forever.
      const refused = client.closed.then(({ code, reason }) => assert.fail(`closed ${code} ${reason}`));
      const got = Promise.race([nextMessage(server), refused]);
      client.send(body);
      assert.equal(await got, body);
      const back = nextClientMessage(client);
      server.send(body);
      assert.equal(await back, body);
      client.close();
      assert.deepEqual(await client.closed, { code: 1000, reason: '' });
    });
  }

  test('a fragmented message from the server arrives whole', async () => {
    const { client, server } = await open();
    const back = nextClientMessage(client);
    server.send('{"part":', { fin: false });
    server.send('1}', { fin: true });
    assert.equal(await back, '{"part":1}');
    client.close();
    await client.closed;
  });

  test("the server's ping is answered with its payload", async () => {
    const { client, server } = await open();
    const pong = new Promise<string>((resolve) => server.once('pong', (d: Buffer) => resolve(d.toString())));
    server.ping('are you there');
    assert.equal(await pong, 'are you there');
    client.close();
    await client.closed;
  });

  test("the server's close ends the connection with its code and reason, and the client answers it", async () => {
    const { client, server } = await open();
    const serverSaw = new Promise<number>((resolve) => server.once('close', (code: number) => resolve(code)));
    server.close(4000, 'daemon stopping');
    assert.deepEqual(await client.closed, { code: 4000, reason: 'daemon stopping' });
    assert.equal(await serverSaw, 4000);
  });

  test("the client's close reaches the server as 1000, and sends nothing after it", async () => {
    const { client, server } = await open();
    const got: string[] = [];
    server.on('message', (d: Buffer) => got.push(d.toString()));
    const serverSaw = new Promise<number>((resolve) => server.once('close', (code: number) => resolve(code)));
    client.close();
    client.send('too late');
    assert.equal(await serverSaw, 1000);
    await client.closed;
    assert.deepEqual(got, []);
  });

  test('a server that goes away without a close frame is an abnormal close (1006)', async () => {
    const { client, server } = await open();
    server.terminate();
    assert.deepEqual(await client.closed, { code: 1006, reason: '' });
  });

  test('an upgrade to a path the server refuses is a HandshakeError naming its answer', async () => {
    const refusing = socketPath();
    const plain = createHttpServer((_, res) => res.writeHead(404).end('no'));
    await new Promise<void>((resolve) => plain.listen(refusing, resolve));
    try {
      await assert.rejects(openWebSocket(refusing, '/rpc', 5_000), (err: unknown) => err instanceof HandshakeError && /HTTP\/1\.1 404/.test(err.message));
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  });
});

describe('against servers that are not kportd', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.destroy());
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A raw server on a new Unix socket that answers the first bytes it reads with `answer` (or nothing). */
  async function raw(answer: ((request: string) => Buffer | string) | null): Promise<string> {
    const path = socketPath();
    const server = createServer((s) => {
      sockets.push(s);
      s.once('data', (d) => answer && s.write(answer(d.toString('latin1'))));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return path;
  }

  const upgradeHead = (accept: string) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;

  test('a wrong Sec-WebSocket-Accept is refused', async () => {
    const path = await raw(() => upgradeHead('bm90IHRoZSByaWdodCBrZXk='));
    await assert.rejects(openWebSocket(path, '/rpc', 5_000), (err: unknown) => err instanceof HandshakeError && /Sec-WebSocket-Accept/.test(err.message));
  });

  test('a server that never answers the upgrade fails within the handshake timeout', async () => {
    const path = await raw(null);
    await assert.rejects(openWebSocket(path, '/rpc', 200), (err: unknown) => err instanceof HandshakeError && /within 200 ms/.test(err.message));
  });

  test('a missing socket keeps its ENOENT', async () => {
    await assert.rejects(openWebSocket(join(dir, 'nobody.sock'), '/rpc', 5_000), (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT');
  });

  test('a broken frame after a good handshake closes the connection with 1002, saying what was wrong', async () => {
    const path = await raw((request) => {
      const key = /Sec-WebSocket-Key: (\S+)/i.exec(request)![1]!;
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      // Reserved bits set on the first frame.
      return Buffer.concat([Buffer.from(upgradeHead(accept), 'latin1'), Buffer.from([0xc1, 0x01, 0x78])]);
    });
    const client = await openWebSocket(path, '/rpc', 5_000);
    const closed = await client.closed;
    assert.equal(closed.code, 1002);
    assert.match(closed.reason, /reserved bits/);
  });
});

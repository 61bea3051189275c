/**
 * kportctl's WebSocket to kportd's control socket: RFC 6455 over a Unix socket, as much of it as a
 * JSON-RPC client needs (the opening handshake, text messages both ways, pings answered, the closing
 * handshake). kportd's side is `ws`; kportctl does without it because loading it (and node's http,
 * https, tls and zlib with it) was most of what a `kportctl list` cost over bare node.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { closePayload, encodeFrame, FrameError, FrameReader, NO_STATUS, OPCODE, type ServerEvent } from './frames.js';

/** The GUID a server hashes with the client's key to prove it speaks WebSocket (RFC 6455 §1.3). */
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** An upgrade response's head longer than this is not kportd's. */
const MAX_HEAD = 16 * 1024;
/** The largest message kportctl takes from kportd (kportd's own limit on what it receives is smaller). */
const MAX_MESSAGE = 64 * 1024 * 1024;
/** A connection that closed without a close frame (RFC 6455 §7.1.5). */
export const ABNORMAL_CLOSE = 1006;

/** How the connection ended: the close frame's code and reason, or 1006 when it simply went away. */
export interface WebSocketClose {
  code: number;
  reason: string;
}

/** An open WebSocket: text messages in and out. */
export class ClientWebSocket {
  /** Called with each message's text. */
  onMessage: (text: string) => void = () => {};
  /** Resolves once the socket has closed, whoever closed it. */
  readonly closed: Promise<WebSocketClose>;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closeFrame: WebSocketClose | null = null;
  private readonly reader = new FrameReader(MAX_MESSAGE);

  constructor(
    private readonly socket: Socket,
    leftover: Buffer,
  ) {
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.state = 'closed';
        resolve(this.closeFrame ?? { code: ABNORMAL_CLOSE, reason: '' });
      });
    });
    // The 'close' that follows an error settles everything.
    socket.on('error', () => {});
    socket.on('data', (bytes: Buffer) => this.receive(bytes));
    if (leftover.length > 0) this.receive(leftover);
  }

  /** Sends one text message; a closing or closed socket sends nothing (its pending calls fail on close). */
  send(text: string): void {
    if (this.state === 'open') this.write(OPCODE.TEXT, Buffer.from(text, 'utf8'));
  }

  /** Starts the closing handshake: kportd answers with its close frame and ends the connection. */
  close(code = 1000, reason = ''): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.write(OPCODE.CLOSE, closePayload(code, reason));
  }

  /** Cuts the connection without a handshake. */
  terminate(): void {
    this.socket.destroy();
  }

  private write(opcode: number, payload: Buffer): void {
    this.socket.write(encodeFrame(opcode, payload, randomBytes(4)));
  }

  private receive(bytes: Buffer): void {
    let events: ServerEvent[];
    try {
      events = this.reader.push(bytes);
    } catch (err) {
      const e = err as FrameError;
      return this.ended({ code: e.closeCode, reason: e.message }, closePayload(e.closeCode));
    }
    for (const e of events) this.event(e);
  }

  private event(e: ServerEvent): void {
    if (this.state === 'closed' || this.closeFrame !== null) return;
    if (e.kind === 'message') this.onMessage(e.data.toString('utf8'));
    else if (e.kind === 'ping') this.write(OPCODE.PONG, e.data);
    // Echo the code (none echoes none); the server closes the TCP connection after it.
    else if (e.kind === 'close') this.ended({ code: e.code, reason: e.reason }, e.code === NO_STATUS ? Buffer.alloc(0) : closePayload(e.code));
  }

  /** The connection is over for `why`: `reply` goes out as our close frame unless we sent one, then our side ends. */
  private ended(why: WebSocketClose, reply: Buffer): void {
    this.closeFrame = why;
    if (this.state === 'open') this.write(OPCODE.CLOSE, reply);
    this.state = 'closing';
    this.socket.end();
  }
}

/** The handshake went wrong: kportd (or whatever answers on the socket) is not speaking WebSocket. */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
}

/**
 * Connects to the Unix socket `socketPath` and upgrades `GET path` to a WebSocket within `timeoutMs`.
 * Rejects with the socket's own error (its `code`: ENOENT, ECONNREFUSED…) or a HandshakeError.
 */
export function openWebSocket(socketPath: string, path: string, timeoutMs: number): Promise<ClientWebSocket> {
  const key = randomBytes(16).toString('base64');
  const socket = connect(socketPath);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new HandshakeError(`no WebSocket handshake within ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error): void {
      settle();
      socket.destroy();
      reject(err);
    }
    function settle(): void {
      clearTimeout(timer);
      socket.off('data', onData).off('error', fail).off('close', onClose);
    }
    function onClose(): void {
      fail(Object.assign(new HandshakeError('the connection closed during the WebSocket handshake'), { code: 'ECONNRESET' }));
    }
    function onData(bytes: Buffer): void {
      head = Buffer.concat([head, bytes]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_HEAD) fail(new HandshakeError(`an upgrade response head over ${MAX_HEAD} bytes`));
        return;
      }
      const problem = checkResponse(head.subarray(0, end).toString('latin1'), key);
      if (problem) return fail(new HandshakeError(problem));
      settle();
      resolve(new ClientWebSocket(socket, head.subarray(end + 4)));
    }
    socket.on('data', onData).on('error', fail).on('close', onClose);
  });
}

/** What is wrong with an upgrade response head (status line and headers), or null when it accepts `key`. */
function checkResponse(head: string, key: string): string | null {
  const [status = '', ...lines] = head.split('\r\n');
  if (!/^HTTP\/1\.1 101\b/.test(status)) return `unexpected answer to the WebSocket upgrade: ${status.slice(0, 200)}`;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const expected = createHash('sha1').update(key + ACCEPT_GUID).digest('base64');
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return 'the upgrade response does not upgrade to websocket';
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(headers.get('connection') ?? '')) return 'the upgrade response has no "Connection: Upgrade"';
  if (headers.get('sec-websocket-accept') !== expected) return 'the upgrade response has a wrong Sec-WebSocket-Accept';
  if (headers.has('sec-websocket-extensions')) return 'the upgrade response names extensions kportctl did not offer';
  return null;
}

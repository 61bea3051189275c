/**
 * Relays one plain HTTP request to the API server over one of the context's kept-alive connections
 * (kube/connections.ts) and streams the answer back: both bodies with backpressure, the response headers
 * flushed at once for streams (watches, log follows), nothing buffered beyond what the sockets hold. The
 * HTTP/1.1 exchange is kport's own (response-reader.ts): it is the proxy's hot path, and a general-purpose
 * client (undici, before) spent more CPU per request on what a relay does not need. For the same reason the
 * request's state lives in two small objects (the request, and one exchange of it over one connection)
 * rather than in a dozen closures, and its end is reported through a callback: a promise settled at the
 * response's close measured 10-20 µs of CPU per request.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { KportError, toKportError } from '../api/errors.js';
import { Connection, type ConnectionPool, type ConnectionUser } from '../kube/connections.js';
import { requestHeaders, responseHeaders } from './headers.js';
import { send } from './reply.js';
import { ResponseReader, type ResponseHead, type ResponseSink } from './response-reader.js';
import { byteCounters, destination, unreachableReply, upstreamError, type Meter, type RelayOutcome, type Upstream } from './upstream.js';

/** Headers the relay frames itself (a body of unknown length goes chunked) or drops (Expect: node's server has answered it). */
const FRAMED_HERE = ['transfer-encoding', 'expect'];
const CHUNK_END = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/**
 * The request line and headers for the API server, as one string to write: the client's headers were checked by
 * node's parser, the credentials' by CredentialSource.
 */
function requestHead(method: string, path: string, host: string, headers: OutgoingHttpHeaders, chunked: boolean): string {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || FRAMED_HERE.includes(name)) continue;
    for (const v of Array.isArray(value) ? value : [String(value)]) head += `${name}: ${v}\r\n`;
  }
  return head + (chunked ? 'transfer-encoding: chunked\r\n\r\n' : '\r\n');
}

/**
 * Relays `req` to `rawPath` + `search` on the API server and streams the answer into `res`. `done` is called
 * once, when the response has ended one way or another.
 */
export async function relay(req: IncomingMessage, res: ServerResponse, upstream: Upstream, rawPath: string, search: string, meter: Meter, done: (outcome: RelayOutcome) => void): Promise<void> {
  const outcome: RelayOutcome = { status: 0, bytesIn: 0, bytesOut: 0, unreachable: null, broken: null, renewal: null };
  const body = hasBody(req);
  const chunked = body && req.headers['transfer-encoding'] !== undefined;
  let pool: ConnectionPool;
  let head: string;
  try {
    const opts = await upstream.connectOptions();
    outcome.renewal = opts.renewal;
    pool = await upstream.connections();
    const headers = requestHeaders(req.headers, { credentials: opts.headers, clientIp: req.socket.remoteAddress, upgrade: false });
    head = requestHead(req.method ?? 'GET', destination(upstream.server, rawPath, search).path, upstream.server.host, headers, chunked);
  } catch (err) {
    return done(failEarly(res, outcome, toKportError(err, 'UPSTREAM_ERROR')));
  }
  new Relayed(req, res, pool, head, body, chunked, upstream.server.origin, outcome, meter, done).attempt();
}

/** One request on its way: its outcome, and what to do when an exchange of it fails. */
class Relayed {
  private replayed = false;
  /** Whichever side fails first is the cause: the client hanging up, or the API server breaking off. */
  private clientGone = false;
  private current: Exchange | null = null;
  /** Adds each body chunk's size to the outcome and the session's meter. */
  readonly count: ReturnType<typeof byteCounters>;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly pool: ConnectionPool,
    readonly head: string,
    /** The request has a body (RFC 7230 §3.3.3); `chunked` when of unknown length. */
    readonly body: boolean,
    readonly chunked: boolean,
    readonly server: string,
    readonly outcome: RelayOutcome,
    meter: Meter,
    done: (outcome: RelayOutcome) => void,
  ) {
    this.count = byteCounters(outcome, meter);
    // Every path ends here: the answer sent, the client gone (then the upstream connection is closed: a watch
    // nobody reads any more), or the answer broken off.
    res.once('close', () => {
      if (!res.writableFinished && outcome.broken === null && outcome.unreachable === null) {
        this.clientGone = true;
        this.current?.conn.socket.destroy();
      }
      done(outcome);
    });
  }

  /** Sends the request over an idle connection at once, else over a new one. */
  attempt(): void {
    const conn = this.pool.acquire();
    if (conn instanceof Connection) return this.exchange(conn);
    conn.then(
      (c) => this.exchange(c),
      (err: unknown) => this.clientGone || failEarly(this.res, this.outcome, upstreamError(err, this.server)),
    );
  }

  private exchange(conn: Connection): void {
    if (this.clientGone) return this.pool.release(conn);
    this.current = new Exchange(this, conn);
  }

  /** The exchange in use ended (it has let go of its connection). */
  ended(): void {
    this.current = null;
  }

  /** An exchange failed: the response broken off, the request sent again (once, when it may be), or a 502. */
  failed(err: unknown, started: boolean, reused: boolean): void {
    if (this.clientGone) return;
    if (started) {
      this.outcome.broken ??= new KportError('UPSTREAM_ERROR', `the API server ${this.server} broke off a response (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return void this.res.destroy();
    }
    // A kept-alive connection the API server closed just as it was reused: Go's transport (kubectl) sends
    // such a request again once when it can be replayed, and so does kport.
    if (!this.replayed && reused && !this.body && idempotent(this.req.method)) {
      this.replayed = true;
      return this.attempt();
    }
    failEarly(this.res, this.outcome, upstreamError(err, this.server));
  }
}

/** One exchange of a request over one connection: the connection's user, and the response reader's sink. */
class Exchange implements ConnectionUser, ResponseSink {
  private readonly reader: ResponseReader;
  private bodySent: boolean;
  private readonly resumeSocket = () => this.conn.socket.resume();
  private readonly sendBody = (chunk: Buffer) => this.bodyChunk(chunk);

  constructor(
    private readonly r: Relayed,
    readonly conn: Connection,
  ) {
    const { req, res } = r;
    this.reader = new ResponseReader(this, req.method === 'HEAD');
    this.bodySent = !r.body;
    conn.user = this;
    res.on('drain', this.resumeSocket);
    conn.socket.write(r.head, 'latin1');
    if (!this.bodySent) {
      req.on('data', this.sendBody);
      req.once('end', () => {
        if (r.chunked) conn.socket.write(LAST_CHUNK);
        this.bodySent = true;
      });
    }
  }

  // ---- the response reader's sink ----------------------------------------------------------------

  head({ status, rawHeaders, framing }: ResponseHead): void {
    const res = this.r.res;
    this.r.outcome.status = status;
    const headers = responseHeaders(rawHeaders);
    // A length the framing overrides is not the client's to see; node frames such bodies again.
    res.writeHead(status, framing === 'length' || framing === 'none' ? headers : withoutLength(headers));
    // Streams (watches, log follows) carry no Content-Length: send their headers now, not with the first event.
    if (framing === 'chunked' || framing === 'close') res.flushHeaders();
  }

  body(chunk: Buffer): void {
    this.r.count.countIn(chunk);
    if (!this.r.res.write(chunk)) this.conn.socket.pause();
  }

  // ---- the connection's user ---------------------------------------------------------------------

  /** What one read brings (the head, body bytes, the end) goes to the client in one write. */
  data(chunk: Buffer): void {
    const res = this.r.res;
    res.cork();
    try {
      this.reader.push(chunk);
    } catch (err) {
      return this.fail(err);
    } finally {
      if (!this.reader.done) res.uncork();
    }
    if (this.reader.done) this.complete();
  }

  ended(err: Error | null): void {
    if (err) return this.fail(err);
    try {
      this.reader.close();
    } catch (closed) {
      return this.fail(closed);
    }
    this.complete();
  }

  drain(): void {
    this.r.req.resume();
  }

  // ---- the end -----------------------------------------------------------------------------------

  private bodyChunk(chunk: Buffer): void {
    const socket = this.conn.socket;
    this.r.count.countOut(chunk);
    if (this.r.chunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      socket.write(CHUNK_END);
      socket.uncork();
    } else {
      socket.write(chunk);
    }
    if (socket.writableNeedDrain) this.r.req.pause();
  }

  private stop(): void {
    this.conn.user = null;
    this.r.res.off('drain', this.resumeSocket);
    this.r.req.off('data', this.sendBody);
    this.conn.socket.resume();
    this.r.ended();
  }

  /** The response read to its end: the client's too, and the connection back to the pool if it can carry another. */
  private complete(): void {
    this.stop();
    this.r.res.end();
    if (this.reader.reusable && this.bodySent) this.r.pool.release(this.conn);
    else this.conn.socket.destroy();
  }

  private fail(err: unknown): void {
    this.stop();
    this.conn.socket.destroy();
    this.r.failed(err, this.reader.started, this.conn.reused);
  }
}

/** Raw headers without Content-Length. */
function withoutLength(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() !== 'content-length') out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/** The methods Go's net/http isReplayable sends again (a request without a body of one of them). */
function idempotent(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'TRACE';
}

/** RFC 7230 §3.3.3: a request has a body only when it declares one. */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/** Answers 502 with the reason (when nothing was sent yet) and records it as unreachable. */
function failEarly(res: ServerResponse, outcome: RelayOutcome, err: KportError): RelayOutcome {
  outcome.unreachable = err;
  outcome.status = 502;
  if (res.headersSent || res.destroyed) res.destroy();
  else send(res, unreachableReply(err));
  return outcome;
}

/**
 * Relays one plain HTTP request to the API server with the context's credentials, streaming both bodies
 * with backpressure and flushing the response headers at once, so watches and log follows pass through
 * as they happen. Nothing is buffered beyond what the sockets hold. Plain requests go over the context's
 * kept-alive connections (kube/connections.ts), in kport's own HTTP/1.1 exchange: the proxy's hot path; Upgrade
 * requests (upgrade.ts) take node:https with the context's agent, as the port-forward dialers do, since an
 * upgraded connection leaves any pool for good.
 */
import { request, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { KportError, toKportError } from '../api/errors.js';
import type { ConnectOptions } from '../kube/client.js';
import { Connection, type ConnectionPool } from '../kube/connections.js';
import { networkError } from '../kube/errors.js';
import { requestHeaders, responseHeaders } from './headers.js';
import { plain, send, type Reply } from './reply.js';
import { ResponseReader } from './response-reader.js';

/** The API server as the proxy sees it; a KubeClient is one. */
export interface Upstream {
  /** The server URL, maybe with a path prefix (kubectl's --append-server-path behaviour is always on). */
  readonly server: URL;
  /** Current credentials and TLS settings for one request. */
  connectOptions(): Promise<ConnectOptions>;
  /** Drops reused credentials (after a 401). */
  invalidateCredentials(): void;
  /** The kept-alive connections plain requests go through (a KubeClient's, with the context's TLS). */
  connections(): Promise<ConnectionPool>;
}

/** Running byte totals a relay adds to (the session's counters fit). */
export interface Meter {
  bytesIn: number;
  bytesOut: number;
}

/** Data listeners that add each chunk's size to both the relay's outcome and the session's meter. */
export function byteCounters(outcome: Pick<RelayOutcome, 'bytesIn' | 'bytesOut'>, meter: Meter): { countIn: (c: Buffer) => void; countOut: (c: Buffer) => void } {
  return {
    countIn: (chunk) => {
      outcome.bytesIn += chunk.length;
      meter.bytesIn += chunk.length;
    },
    countOut: (chunk) => {
      outcome.bytesOut += chunk.length;
      meter.bytesOut += chunk.length;
    },
  };
}

/** How one relayed request ended. */
export interface RelayOutcome {
  /** The status sent to the client (502 when the API server could not be reached). */
  status: number;
  bytesIn: number;
  bytesOut: number;
  /** Set when the API server could not be reached (no response at all). */
  unreachable: KportError | null;
  /** Set when the API server's response broke off midway (it went away during a watch, say). */
  broken: KportError | null;
}

/** Where one request goes: the API server's address and `rawPath` + `search` joined to its own path prefix. */
export interface Destination {
  https: boolean;
  hostname: string;
  port: number | undefined;
  path: string;
}

/** The destination of a request; plain fields rather than a URL, whose parsing would cost more than the rest. */
export function destination(server: URL, rawPath: string, search: string): Destination {
  const base = server.pathname.endsWith('/') ? server.pathname.slice(0, -1) : server.pathname;
  return {
    https: server.protocol === 'https:',
    hostname: server.hostname.replace(/^\[|\]$/g, ''),
    port: server.port === '' ? undefined : Number(server.port),
    path: base + (rawPath.startsWith('/') ? rawPath : `/${rawPath}`) + search,
  };
}

/** The plain-text 502 when the API server is out of reach, naming it and the cause. */
export function unreachableReply(err: KportError): Reply {
  return plain(502, `kport: ${err.message}`);
}

/** How long a new connection to the API server may take, as kubectl's dialer allows (30 s). */
const CONNECT_TIMEOUT_MS = 30_000;

/** Gives up on a request whose new connection does not connect in time (kept-alive connections are not timed). */
export function limitConnectTime(upReq: ClientRequest): void {
  upReq.once('socket', (socket: Socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => upReq.destroy(Object.assign(new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
}

/** A socket or TLS failure reaching the API server: TLS_ERROR for certificate failures, else UPSTREAM_ERROR. */
export function upstreamError(err: unknown, server: string): KportError {
  const e = networkError(err, server);
  return e.code === 'API_UNREACHABLE' ? new KportError('UPSTREAM_ERROR', e.message) : e;
}

/** One request on its way to the API server: who it is for (in messages) and how to send it (again). */
export interface Outgoing {
  server: string;
  /** Sends the request, with the connect-time limit; may be called again to replay it. */
  start(): ClientRequest;
}

/**
 * Prepares `req` for the API server: credentials, destination, forwarded headers. The reason when the
 * credentials could not be had (an exec plugin failing, say).
 */
export async function outgoing(req: IncomingMessage, upstream: Upstream, rawPath: string, search: string, upgrade: boolean): Promise<Outgoing | KportError> {
  let opts: ConnectOptions;
  try {
    opts = await upstream.connectOptions();
  } catch (err) {
    return toKportError(err, 'UPSTREAM_ERROR');
  }
  const { https, ...to } = destination(upstream.server, rawPath, search);
  const headers = requestHeaders(req.headers, { credentials: opts.headers, clientIp: req.socket.remoteAddress, upgrade });
  const { headers: _credentials, ...tls } = opts;
  const open = https ? httpsRequest : request;
  return {
    server: upstream.server.origin,
    start: () => {
      const upReq = open({ ...tls, ...to, method: req.method, headers });
      limitConnectTime(upReq);
      return upReq;
    },
  };
}

/** Headers the relay frames itself (a body of unknown length goes chunked) or drops (Expect: node's server has answered it). */
const FRAMED_HERE = ['transfer-encoding', 'expect'];
/** Characters that would end a header line early: only a credential from a kubeconfig or plugin could carry them. */
const LINE_BREAK = /[\r\n\0]/;
const CHUNK_END = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** The request line and headers for the API server, as one string to write (the client's headers were checked by node's parser). */
function requestHead(method: string, path: string, host: string, headers: OutgoingHttpHeaders, chunked: boolean): string {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || FRAMED_HERE.includes(name)) continue;
    for (const v of Array.isArray(value) ? value : [String(value)]) {
      if (LINE_BREAK.test(v)) throw new KportError('UPSTREAM_ERROR', `the ${name} header holds a line break; check the kubeconfig user's credentials`);
      head += `${name}: ${v}\r\n`;
    }
  }
  return head + (chunked ? 'transfer-encoding: chunked\r\n\r\n' : '\r\n');
}

/**
 * Relays `req` to `rawPath` + `search` on the API server over one of the upstream's kept-alive connections and
 * streams the answer into `res`: both bodies with backpressure, the response headers flushed at once for streams.
 * The HTTP/1.1 exchange is kport's own (response-reader.ts): it is the proxy's hot path, and a general-purpose
 * client (undici, before) spent more CPU per request on what a relay does not need. `done` is called once, when
 * the response has ended one way or another: a callback, because a promise settled there (a reaction run from
 * the response's close) measured 10-20 µs of CPU per request.
 */
export async function relay(req: IncomingMessage, res: ServerResponse, upstream: Upstream, rawPath: string, search: string, meter: Meter, done: (outcome: RelayOutcome) => void): Promise<void> {
  const outcome: RelayOutcome = { status: 0, bytesIn: 0, bytesOut: 0, unreachable: null, broken: null };
  const server = upstream.server.origin;
  let pool: ConnectionPool;
  let head: string;
  const body = hasBody(req);
  const chunked = body && req.headers['transfer-encoding'] !== undefined;
  try {
    const opts = await upstream.connectOptions();
    pool = await upstream.connections();
    const headers = requestHeaders(req.headers, { credentials: opts.headers, clientIp: req.socket.remoteAddress, upgrade: false });
    head = requestHead(req.method ?? 'GET', destination(upstream.server, rawPath, search).path, upstream.server.host, headers, chunked);
  } catch (err) {
    return done(failEarly(res, outcome, toKportError(err, 'UPSTREAM_ERROR')));
  }
  const { countIn, countOut } = byteCounters(outcome, meter);

  let replayed = false;
  // Whichever side fails first is the cause: the client hanging up, or the API server breaking off.
  let clientGone = false;
  let inUse: Connection | null = null;

  // Every path ends here: the answer sent, the client gone (then the upstream connection is closed: a watch
  // nobody reads any more), or the answer broken off.
  res.once('close', () => {
    if (!res.writableFinished && outcome.broken === null && outcome.unreachable === null) {
      clientGone = true;
      inUse?.socket.destroy();
    }
    done(outcome);
  });

  const exchange = (conn: Connection) => {
    if (clientGone) return pool.release(conn);
    inUse = conn;
    const { socket, reused } = conn;
    let bodySent = !body;
    const reader = new ResponseReader(
      {
        head: ({ status, rawHeaders, framing }) => {
          outcome.status = status;
          const headers = responseHeaders(rawHeaders);
          // A length the framing overrides is not the client's to see; node frames such bodies again.
          res.writeHead(status, framing === 'length' || framing === 'none' ? headers : withoutLength(headers));
          // Streams (watches, log follows) carry no Content-Length: send their headers now, not with the first event.
          if (framing === 'chunked' || framing === 'close') res.flushHeaders();
        },
        data: (chunk) => {
          countIn(chunk);
          if (!res.write(chunk)) socket.pause();
        },
      },
      req.method === 'HEAD',
    );
    const resumeSocket = () => socket.resume();
    const stop = () => {
      inUse = null;
      conn.user = null;
      res.off('drain', resumeSocket);
      req.off('data', sendBody);
      socket.resume();
    };
    // The response read to its end: the client's too, and the connection back to the pool if it can carry another.
    const complete = () => {
      stop();
      res.end();
      if (reader.reusable && bodySent) pool.release(conn);
      else socket.destroy();
    };
    const fail = (err: unknown) => {
      stop();
      socket.destroy();
      if (clientGone) return;
      if (reader.started) {
        outcome.broken ??= new KportError('UPSTREAM_ERROR', `the API server ${server} broke off a response (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        return void res.destroy();
      }
      // A kept-alive connection the API server closed just as it was reused: Go's transport (kubectl) sends
      // such a request again once when it can be replayed, and so does kport.
      if (!replayed && reused && replayable(req)) {
        replayed = true;
        return attempt();
      }
      failEarly(res, outcome, upstreamError(err, server));
    };
    const sendBody = (chunk: Buffer) => {
      countOut(chunk);
      if (chunked) {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`);
        socket.write(chunk);
        socket.write(CHUNK_END);
        socket.uncork();
      } else {
        socket.write(chunk);
      }
      if (socket.writableNeedDrain) req.pause();
    };
    conn.user = {
      // What one read brings (the head, body bytes, the end) goes to the client in one write.
      data: (chunk) => {
        res.cork();
        try {
          reader.push(chunk);
        } catch (err) {
          return fail(err);
        } finally {
          if (!reader.done) res.uncork();
        }
        if (reader.done) complete();
      },
      ended: (err) => {
        if (err) return fail(err);
        try {
          reader.close();
        } catch (closed) {
          return fail(closed);
        }
        complete();
      },
      drain: () => req.resume(),
    };
    res.on('drain', resumeSocket);
    socket.write(head, 'latin1');
    if (body) {
      req.on('data', sendBody);
      req.once('end', () => {
        if (chunked) socket.write(LAST_CHUNK);
        bodySent = true;
      });
    }
  };
  const attempt = () => {
    const conn = pool.acquire();
    if (conn instanceof Connection) return exchange(conn);
    conn.then(exchange, (err: unknown) => clientGone || failEarly(res, outcome, upstreamError(err, server)));
  };
  attempt();
}

/** Raw headers without Content-Length. */
function withoutLength(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() !== 'content-length') out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/** Go's net/http isReplayable: no body and an idempotent method. */
function replayable(req: IncomingMessage): boolean {
  return !hasBody(req) && (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS' || req.method === 'TRACE');
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

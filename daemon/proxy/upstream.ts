/**
 * Relays one plain HTTP request to the API server with the context's credentials, streaming both bodies
 * with backpressure and flushing the response headers at once, so watches and log follows pass through
 * as they happen. Nothing is buffered beyond what the sockets hold. Plain requests go through an undici
 * Pool (its HTTP/1.1 client costs a fraction of node:https' per request: the proxy's hot path); Upgrade
 * requests (upgrade.ts) take node:https with the context's agent, as the port-forward dialers do, since an
 * upgraded connection leaves any pool for good.
 */
import { request, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { KportError, toKportError } from '../api/errors.js';
import type { ConnectOptions } from '../kube/client.js';
import { networkError } from '../kube/errors.js';
import { requestHeaders, responseHeaders } from './headers.js';
import { plain, send, type Reply } from './reply.js';

/** The API server as the proxy sees it; a KubeClient is one. */
export interface Upstream {
  /** The server URL, maybe with a path prefix (kubectl's --append-server-path behaviour is always on). */
  readonly server: URL;
  /** Current credentials and TLS settings for one request. */
  connectOptions(): Promise<ConnectOptions>;
  /** Drops reused credentials (after a 401). */
  invalidateCredentials(): void;
  /**
   * The keep-alive Pool plain requests go through (a KubeClient's, with the context's TLS); an upstream
   * without one (a plain-HTTP fake in tests) is reached through undici's shared agent.
   */
  dispatcher?(): Promise<Dispatcher>;
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

/** undici's request options, minus what a relay never sets. */
type DispatchOptions = Dispatcher.DispatchOptions;

/** Headers undici frames itself (a body of unknown length goes chunked) or refuses (Expect: Node's server has answered it). */
const FRAMED_BY_UNDICI = ['transfer-encoding', 'expect'];

/**
 * Relays `req` to `rawPath` + `search` on the API server through the upstream's undici Pool and streams the
 * answer into `res`: both bodies with backpressure, the response headers flushed at once for streams.
 */
export async function relay(req: IncomingMessage, res: ServerResponse, upstream: Upstream, rawPath: string, search: string, meter: Meter): Promise<RelayOutcome> {
  const outcome: RelayOutcome = { status: 0, bytesIn: 0, bytesOut: 0, unreachable: null, broken: null };
  let opts: ConnectOptions;
  let pool: Dispatcher;
  try {
    opts = await upstream.connectOptions();
    pool = upstream.dispatcher ? await upstream.dispatcher() : (await import('undici')).getGlobalDispatcher();
  } catch (err) {
    return failEarly(res, outcome, toKportError(err, 'UPSTREAM_ERROR'));
  }
  const server = upstream.server.origin;
  const headers = requestHeaders(req.headers, { credentials: opts.headers, clientIp: req.socket.remoteAddress, upgrade: false });
  for (const name of FRAMED_BY_UNDICI) delete headers[name];
  const body = hasBody(req);
  const dispatch: DispatchOptions = { origin: server, path: destination(upstream.server, rawPath, search).path, method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers: headers as Record<string, string | string[]>, body: body ? req : null };
  const { countIn, countOut } = byteCounters(outcome, meter);

  return new Promise<RelayOutcome>((resolve) => {
    let abort: ((err?: Error) => void) | null = null;
    let replayed = false;
    // Whichever side fails first is the cause: the client hanging up, or the API server breaking off.
    let clientGone = false;

    const handler: Dispatcher.DispatchHandlers = {
      onConnect: (cancel) => void (abort = cancel),
      onHeaders: (status, raw, resume) => {
        outcome.status = status;
        const rawHeaders = (raw as Buffer[] | null ?? []).map((b) => b.toString('latin1'));
        res.writeHead(status, responseHeaders(rawHeaders));
        // Streams (watches, log follows) carry no Content-Length: send their headers now, not with the first event.
        if (!rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length')) res.flushHeaders();
        res.on('drain', resume);
        return true;
      },
      onData: (chunk) => {
        countIn(chunk);
        return res.write(chunk);
      },
      // undici 6 passes the chunk itself (its typings say a size).
      onBodySent: countOut as unknown as Dispatcher.DispatchHandlers['onBodySent'],
      onComplete: () => void res.end(),
      onError: (err) => {
        if (clientGone) return; // the abort was ours
        if (outcome.status !== 0) {
          outcome.broken ??= new KportError('UPSTREAM_ERROR', `the API server ${server} broke off a response (${(err as NodeJS.ErrnoException).code ?? err.message})`);
          return void res.destroy();
        }
        // A kept-alive connection the API server closed just as it was reused: Go's transport (kubectl) sends
        // such a request again once when it can be replayed, and so does kport. A connection that had carried
        // an earlier answer (it read bytes before this request) is a reused one.
        if (!replayed && replayable(req) && ((err as { socket?: { bytesRead?: number } }).socket?.bytesRead ?? 0) > 0) {
          replayed = true;
          return void pool.dispatch(dispatch, handler);
        }
        failEarly(res, outcome, upstreamError(err, server));
      },
    };
    // Every path ends here: the answer sent, the client gone (then the upstream request is cancelled:
    // a watch nobody reads any more), or the answer broken off.
    res.once('close', () => {
      if (!res.writableFinished && outcome.broken === null && outcome.unreachable === null) {
        clientGone = true;
        abort?.(new Error('the client went away'));
      }
      resolve(outcome);
    });
    pool.dispatch(dispatch, handler);
  });
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

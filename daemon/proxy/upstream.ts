/**
 * The API server as a proxy sees it, and what relaying a request to it takes whichever way it goes: the
 * destination, the byte counters, the errors and the 502 that names them. Plain requests are relayed by
 * relay.ts over the context's kept-alive connections; Upgrade requests (upgrade.ts) take node:https with the
 * context's agent, as the port-forward dialers do, since an upgraded connection leaves any pool for good.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { KportError, toKportError } from '../api/errors.js';
import type { ConnectOptions } from '../kube/client.js';
import { CONNECT_TIMEOUT_MS, connectTimeout, urlHost, type ConnectionPool } from '../kube/connections.js';
import { networkError } from '../kube/errors.js';
import { requestHeaders } from './headers.js';
import { plain, type Reply } from './reply.js';

/** The API server as the proxy sees it; a KubeClient is one. */
export interface Upstream {
  /** The server URL, maybe with a path prefix (kubectl's --append-server-path behaviour is always on). */
  readonly server: URL;
  /** Current credentials and TLS settings for one request. */
  connectOptions(): Promise<ConnectOptions>;
  /** Drops reused credentials of that renewal (after a 401 to them). */
  invalidateCredentials(renewal: number): void;
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
  /** The renewal of the context's credentials the request went with; null when it went with none. */
  renewal: number | null;
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
    hostname: urlHost(server),
    port: server.port === '' ? undefined : Number(server.port),
    path: base + (rawPath.startsWith('/') ? rawPath : `/${rawPath}`) + search,
  };
}

/** The plain-text 502 when the API server is out of reach, naming it and the cause. */
export function unreachableReply(err: KportError): Reply {
  return plain(502, `kport: ${err.message}`);
}

/** Gives up on a request whose new connection does not connect in time (kept-alive connections are not timed). */
export function limitConnectTime(upReq: ClientRequest): void {
  upReq.once('socket', (socket: Socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => upReq.destroy(connectTimeout()), CONNECT_TIMEOUT_MS);
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
  /** The renewal of the context's credentials it goes with. */
  renewal: number;
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
  const { headers: _credentials, renewal, ...tls } = opts;
  const open = https ? httpsRequest : request;
  return {
    server: upstream.server.origin,
    renewal,
    start: () => {
      const upReq = open({ ...tls, ...to, method: req.method, headers });
      limitConnectTime(upReq);
      return upReq;
    },
  };
}

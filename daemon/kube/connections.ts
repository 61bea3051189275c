/**
 * Keep-alive connections to one API server for the proxies' plain requests: one request at a time on each (no
 * pipelining: a slow watch must never hold up the answers queued behind it), as many as are in use at once,
 * idle ones closed 30-35 s after their last use, before API servers drop them. Connections are TLS with the
 * context's material, through the cluster's proxy-url when it has one; plain TCP only for the plain-HTTP fakes
 * of tests. A connection that sends anything while idle is out of step and is closed.
 */
import type { Agent as HttpAgent } from 'node:http';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Transport } from './client.js';

/** How long a new connection to the API server may take, as kubectl's dialer allows (30 s). */
export const CONNECT_TIMEOUT_MS = 30_000;

/** The error a connection that took longer than its limit (`limitMs`) is destroyed with. */
export function connectTimeout(limitMs = CONNECT_TIMEOUT_MS): Error {
  return Object.assign(new Error(`no connection within ${limitMs / 1000} s`), { code: 'ETIMEDOUT' });
}
/** Idle connections close after 30 s, before API servers drop idle keep-alives, so a reuse rarely races a close. */
const IDLE_MS = 30_000;
/** How often idle connections are looked at: they close 30 to 35 s after their last use. */
const SWEEP_MS = 5_000;

/** Opens one connection; resolves once it can be written to. */
export type Opener = () => Promise<Socket>;

/** Where a connection's events go while one exchange uses it. */
export interface ConnectionUser {
  data(chunk: Buffer): void;
  /** The connection ended or failed (`err`); once, and the connection is gone. */
  ended(err: Error | null): void;
  /** The connection can take more of a request body. */
  drain(): void;
}

/**
 * One kept-alive connection. Its listeners are set once, for its whole life, and hand events to the exchange
 * using it (`user`): per request, nothing is added to or removed from the socket. Bytes while idle answer nothing
 * that was asked: the connection is out of step and is closed.
 */
export class Connection {
  user: ConnectionUser | null = null;
  /** True once it carried a response: the API server may close it just as it is reused. */
  reused = false;
  /** When it went idle (performance.now()). */
  idleSince = 0;

  constructor(
    readonly socket: Socket,
    onClose: (c: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, IDLE_MS);
    socket.on('data', (chunk: Buffer) => (this.user ? this.user.data(chunk) : socket.destroy()));
    socket.on('drain', () => this.user?.drain());
    socket.on('end', () => this.end(null));
    socket.on('error', (err) => this.end(err));
    socket.on('close', () => {
      this.end(null);
      onClose(this);
    });
  }

  private end(err: Error | null): void {
    const user = this.user;
    this.user = null;
    user?.ended(err);
  }
}

/** The two shapes of agent that tunnel through a cluster's proxy-url: socks-proxy-agent's, and hpagent's (HTTP CONNECT). */
interface TunnelAgent {
  connect?(req: { destroy(): void }, opts: object): Promise<Socket>;
  createConnection(opts: object, cb: (err: Error | null, socket: Socket) => void): void;
}

/**
 * Waits for a socket to be connected (`event`), failing on an error or once `limitMs` have passed. The socket may
 * still be on its way (a proxy-url's tunnel): the limit counts from the start, and a socket that comes after it is closed.
 */
function connected(pending: Socket | Promise<Socket>, event: 'connect' | 'secureConnect', limitMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let socket: Socket | null = null;
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      if (socket) socket.destroy(connectTimeout(limitMs));
      else reject(connectTimeout(limitMs));
    }, limitMs);
    const fail = (err: Error) => (clearTimeout(timer), reject(err));
    const wait = (s: Socket) => {
      if (expired) return void s.destroy();
      socket = s;
      s.once('error', fail);
      s.once(event, () => {
        clearTimeout(timer);
        s.off('error', fail);
        resolve(s);
      });
    };
    if (pending instanceof Promise) pending.then(wait, fail);
    else wait(pending);
  });
}

/** A URL's host as a socket connects to it: an IPv6 address without its brackets. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Opens TLS connections to `server` with the context's material, through `tunnel` (the context's agent) when the
 * cluster has a proxy-url. Either way a connection is secure within `limitMs`, or fails: through a tunnel the
 * limit covers the proxy's answer (a CONNECT or SOCKS handshake) and the TLS handshake over it.
 */
export function tlsOpener(server: URL, transport: Transport, tunnel: HttpAgent | null, limitMs = CONNECT_TIMEOUT_MS): Opener {
  const host = urlHost(server);
  const port = Number(server.port) || 443;
  const { secureContext, rejectUnauthorized } = transport;
  // SNI as node's https agent sends it: the kubeconfig's tls-server-name, else the host unless it is an address.
  const servername = transport.servername ?? (isIP(host) ? undefined : host);
  if (tunnel) {
    const agent = tunnel as unknown as TunnelAgent;
    const opts = { ...transport, host, port, secureEndpoint: true, servername: transport.servername ?? host, ALPNProtocols: ['http/1.1'] };
    // Both agents hand over the TLS socket as soon as the tunnel is open, before its handshake.
    // socks-proxy-agent only calls destroy() on the request it is given, when the tunnel fails.
    const open: () => Promise<Socket> = agent.connect
      ? () => agent.connect!({ destroy() {} }, opts)
      : () => new Promise((resolve, reject) => agent.createConnection(opts, (err, socket) => (err ? reject(err) : resolve(socket))));
    return () => connected(open(), 'secureConnect', limitMs);
  }
  return () => connected(tlsConnect({ host, port, secureContext, servername, rejectUnauthorized, ALPNProtocols: ['http/1.1'] }), 'secureConnect', limitMs);
}

/** Opens plain TCP connections to an http:// server (the fakes of tests; kport reaches API servers over TLS only). */
export function tcpOpener(server: URL): Opener {
  return () => connected(tcpConnect({ host: urlHost(server), port: Number(server.port) || 80 }), 'connect', CONNECT_TIMEOUT_MS);
}

export class ConnectionPool {
  /** Idle connections, the most recently used last: it is taken first, so the rest can time out. */
  private readonly idle: Connection[] = [];
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly open: Opener) {}

  /**
   * An idle connection, at once; else a promise of a new one, which rejects when it cannot be had (the API server
   * out of reach). The caller sets the connection's user before its next turn of the event loop.
   */
  acquire(): Connection | Promise<Connection> {
    for (let c = this.idle.pop(); c !== undefined; c = this.idle.pop()) {
      if (!c.socket.destroyed && c.socket.writable) return c;
    }
    return this.open().then((socket) => new Connection(socket, this.forget));
  }

  /** Takes back a connection whose response was read to its end (or closes it, once the pool is closed). */
  release(c: Connection): void {
    c.user = null;
    if (this.closed || c.socket.destroyed || !c.socket.writable) return void c.socket.destroy();
    c.reused = true;
    c.idleSince = performance.now();
    this.idle.push(c);
    this.sweeper ??= setInterval(this.sweep, SWEEP_MS).unref();
  }

  /** Closes the idle connections now and the ones in use as they come back (the TLS material changed). */
  close(): void {
    this.closed = true;
    for (const c of [...this.idle]) c.socket.destroy();
  }

  private readonly forget = (c: Connection): void => {
    const at = this.idle.lastIndexOf(c);
    if (at >= 0) this.idle.splice(at, 1);
  };

  /** Closes the connections idle for IDLE_MS; one timer for them all, rather than one set and cleared per request. */
  private readonly sweep = (): void => {
    const before = performance.now() - IDLE_MS;
    for (const c of this.idle.filter((c) => c.idleSince <= before)) c.socket.destroy();
    if (this.idle.length === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  };
}

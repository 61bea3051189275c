/**
 * A proxy session: `kubectl proxy` inside the daemon. It resolves the context, binds its HTTP listener(s)
 * (TCP or a Unix socket), and serves every request through handler.ts. It owns its servers, their sockets,
 * its API client and its timers; every listener is wired in `server()` and `onConnection()`.
 *
 * States: `starting` → `ready` once listening; a bind or kubeconfig failure → `failed`, retried slowly;
 * the API server out of reach → `waiting` (`failed` for a TLS failure: the kubeconfig needs fixing) while
 * the listener keeps answering 502, until a probe or a request gets through → `ready`; `stop()` → `stopped`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ProxySpec } from '../../config/types.js';
import { isRetryable, toKportError, type ErrorCode, type KportError } from '../api/errors.js';
import type { BoundListener } from '../api/session.js';
import type { KubeClient } from '../kube/client.js';
import { Backoff, type BackoffOptions } from '../session/backoff.js';
import { SessionCore } from '../session/core.js';
import type { Session, SessionDeps } from '../session/session.js';
import { handleRequest, handleUpgrade, proxyRules, type Handled, type ProxyRules } from './handler.js';
import { bindTcp, bindUnix } from './listen.js';
import { plain, send, sendRaw } from './reply.js';
import { upstreamError } from './upstream.js';
import { formatHostPort } from '../../config/addresses.js';

/** Retry pacing; tests shorten it. */
export interface ProxyTiming {
  /** Between attempts to bind and resolve the context (a state that needs the user). */
  retry: Partial<BackoffOptions>;
  /** Between checks of an API server that is out of reach. */
  probe: Partial<BackoffOptions>;
}

const TIMING: ProxyTiming = { retry: { initialMs: 5_000, maxMs: 30_000 }, probe: {} };

/** Codes meaning "the API server did not answer"; any HTTP answer, even 401, means it is there. */
const NO_ANSWER: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['UPSTREAM_ERROR', 'TLS_ERROR', 'KUBECONFIG', 'CONTEXT_NOT_FOUND']);

/** Resolves once a server has closed (immediately when it never listened). */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A running proxy; `start` and `stop` never throw. */
export class ProxySession implements Session {
  readonly core: SessionCore;
  private readonly rules: ProxyRules;
  private readonly retryBackoff: Backoff;
  private readonly probeBackoff: Backoff;
  private client: KubeClient | null = null;
  /** The client's credentials as requests use them (reused briefly; see credentials.ts). */
  private servers: Server[] = [];
  /** Client connections, upgraded ones included: stop() ends them all. */
  private readonly sockets = new Set<Socket>();
  private running = false;
  private attempt: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing: AbortController | null = null;
  /** The port kept from the last start (deps.keptPorts) where the spec asks for any, until a bind succeeds. */
  private kept: number | null;

  constructor(
    readonly spec: ProxySpec,
    private readonly deps: SessionDeps,
    timing: Partial<ProxyTiming> = {},
  ) {
    this.core = new SessionCore(spec, deps.source, deps.log);
    this.kept = spec.port === 0 && spec.unixSocket === null ? (deps.keptPorts?.[0] ?? null) : null;
    this.rules = proxyRules(spec);
    this.retryBackoff = new Backoff({ ...TIMING.retry, ...timing.retry });
    this.probeBackoff = new Backoff({ ...TIMING.probe, ...timing.probe });
  }

  /** Resolves the context and binds; failures become state `failed` and are retried. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.core.state === 'stopped') this.core.transition('starting', 'starting');
    if (this.spec.disableFilter) {
      this.core.log.warn('request filter disabled: any local process or web page that reaches this proxy can use the API server with your credentials');
    }
    await this.tryStart();
  }

  /** Closes the listeners and every connection (watches and upgraded streams included); state `stopped`. */
  async stop(): Promise<void> {
    this.running = false;
    this.clearTimers();
    await this.attempt;
    const servers = this.servers;
    this.servers = [];
    const closed = servers.map(closeServer);
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closed);
    if (this.client) this.deps.clients.release(this.client);
    this.client = null;
    this.core.setListeners([]);
    if (this.core.state !== 'stopped') this.core.transition('stopped', 'stopped');
  }

  // ---- getting to ready ----------------------------------------------------------------------

  private tryStart(): Promise<void> {
    this.retryTimer = null;
    this.attempt = this.acquireAndBind().finally(() => (this.attempt = null));
    return this.attempt;
  }

  private async acquireAndBind(): Promise<void> {
    try {
      if (!this.client) this.use(this.deps.clients.acquire(this.deps.kubeconfig, this.spec.context));
      if (this.servers.length === 0) await this.bind();
    } catch (err) {
      if (!this.running) return;
      const e = toKportError(err, 'BIND_FAILED');
      this.core.recordError(e);
      this.core.transition(isRetryable(e.code) ? 'backoff' : 'failed', e.message);
      this.retryTimer = setTimeout(() => void this.tryStart(), this.retryBackoff.next());
      return;
    }
    if (!this.running) return;
    this.retryBackoff.reset();
    this.core.transition('ready', this.readyReason());
    this.scheduleProbe(0); // a first look at the API server, so an unreachable one shows before anyone asks
  }

  private async bind(): Promise<void> {
    const servers: Server[] = [];
    const bound: BoundListener[] = [];
    try {
      if (this.spec.unixSocket !== null) {
        servers.push(this.server());
        bound.push(await bindUnix(servers[0]!, this.spec.unixSocket));
      } else {
        for (const address of this.spec.addresses) {
          const server = this.server();
          servers.push(server);
          // With port 0, every address gets the port the first one was given (or the one kept from the last start).
          const one = await bindTcp(server, address, this.spec.addresses, bound[0]?.port ?? this.kept ?? this.spec.port);
          if (one) bound.push(one);
          else servers.pop();
        }
      }
    } catch (err) {
      await Promise.all(servers.map(closeServer));
      const kept = this.kept;
      if (kept === null || (err as KportError).code !== 'PORT_IN_USE') throw err;
      // Taken since the last start: any free port, as the spec asks.
      this.kept = null;
      this.core.log.warn({ kept: [kept], err: (err as KportError).message }, 'a local port kept from the last start is taken; took a new free one');
      return this.bind();
    }
    this.kept = null;
    this.servers = servers;
    this.core.setListeners(bound);
  }

  private readyReason(): string {
    const where = this.core.status().listeners.map((l) => (l.port === 0 ? `unix:${l.address}` : `http://${formatHostPort(l.address, l.port)}`));
    return `serving ${this.client?.server.origin ?? 'the API server'} on ${where.join(', ')}`;
  }

  // ---- the API server's health -----------------------------------------------------------------

  /** A request found the API server out of reach (`counted`) or a probe did: record, change state, keep probing. */
  private upstreamDown(err: KportError, counted: boolean): void {
    if (counted) this.core.counters.upstreamErrors++;
    const last = this.core.status().lastError;
    if (last?.code !== err.code || last.message !== err.message) this.core.recordError(err);
    this.core.transition(isRetryable(err.code) ? 'waiting' : 'failed', err.message);
    this.scheduleProbe(this.probeBackoff.next());
  }

  /** The API server answered: back to ready. */
  private upstreamUp(): void {
    this.probeBackoff.reset();
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    if (this.core.state !== 'ready') this.core.transition('ready', this.readyReason());
  }

  private scheduleProbe(delayMs: number): void {
    if (!this.running || this.probeTimer || this.probing) return;
    this.probeTimer = setTimeout(() => void this.probe(), delayMs);
  }

  /** One check that the API server answers; in `failed` the context is loaded again first, in case it was fixed. */
  private async probe(): Promise<void> {
    this.probeTimer = null;
    if (!this.running || !this.client) return;
    const abort = (this.probing = new AbortController());
    try {
      if (this.core.state === 'failed') this.reacquire();
      await this.client.request('/version', { signal: abort.signal, timeoutMs: 10_000 });
      this.probing = null;
      if (this.running) this.upstreamUp();
    } catch (err) {
      this.probing = null;
      if (!this.running) return;
      const e = upstreamError(err, this.client.server.origin);
      if (!NO_ANSWER.has(e.code)) return this.upstreamUp(); // an HTTP error answer: the server is there
      this.upstreamDown(e, false);
    }
  }

  private reacquire(): void {
    const fresh = this.deps.clients.acquire(this.deps.kubeconfig, this.spec.context);
    if (this.client) this.deps.clients.release(this.client);
    this.use(fresh);
  }

  private use(client: KubeClient): void {
    this.client = client;
  }

  private clearTimers(): void {
    for (const t of [this.retryTimer, this.probeTimer]) if (t) clearTimeout(t);
    this.retryTimer = this.probeTimer = null;
    this.probing?.abort();
  }

  // ---- serving -------------------------------------------------------------------------------

  /** A server with every listener attached. */
  private server(): Server {
    // No timeouts on idle keep-alive connections or long request bodies, as kubectl's Go server has none.
    const server = createServer({ keepAliveTimeout: 0, requestTimeout: 0 });
    server.on('connection', this.onConnection);
    server.on('request', this.onRequest);
    server.on('upgrade', this.onUpgrade);
    return server;
  }

  private readonly onConnection = (socket: Socket): void => {
    this.sockets.add(socket);
    this.core.connectionOpened();
    socket.once('close', () => this.onDisconnect(socket));
  };

  private onDisconnect(socket: Socket): void {
    this.sockets.delete(socket);
    this.core.connectionClosed();
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    this.core.counters.requests++;
    if (!this.client) return send(res, plain(503, 'kport: the proxy is restarting'));
    handleRequest(req, res, this.rules, this.client, this.core.counters, (h) => this.onHandled(h, started));
  };

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const started = performance.now();
    this.core.counters.requests++;
    if (!this.client) return sendRaw(socket, plain(503, 'kport: the proxy is restarting'));
    void handleUpgrade(req, socket, head, this.rules, this.client, this.core.counters).then((h) => this.onHandled(h, started));
  };

  /** Logs the request (never its headers or query) and lets the outcome steer the state. */
  private onHandled(h: Handled, started: number): void {
    const log = this.core.log;
    if (log.isLevelEnabled('debug')) {
      const ms = Math.round(performance.now() - started);
      log.debug({ method: h.method, path: h.path, status: h.status, bytesIn: h.bytesIn, bytesOut: h.bytesOut, ms, ...(h.rejected ? { rejected: h.rejected } : {}) }, 'proxy request');
    }
    if (!this.running) return;
    // Only a 401 to kport's own credentials says they are stale; one to the client's token is the client's.
    if (h.reached && h.status === 401 && h.renewal !== null) this.client?.invalidateCredentials(h.renewal);
    if (h.unreachable) this.upstreamDown(h.unreachable, true);
    else if (h.broken) this.scheduleProbe(0);
    else if (h.reached && this.core.state !== 'ready') this.upstreamUp();
  }
}

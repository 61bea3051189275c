/**
 * A gateway: one local port speaking SOCKS5 and HTTP proxy that reaches every service (and StatefulSet pod, and
 * ClusterIP and pod IP) by its cluster name. Each accepted connection is read (handshake.ts), its name resolved
 * (names.ts, lookup.ts) in its namespace's cache (held on demand: namespaces.ts), and then carried exactly as a
 * forward's connection is: held up to connectTimeout for a ready pod, balanced round-robin over the destination's
 * pods, opened with the same dialer, piped with backpressure and counted. A connection that cannot be made is
 * refused in the client's protocol, and the reason becomes the session's last error.
 *
 * States: `starting` → `ready` once listening and the user may port-forward in the gateway's namespace (a
 * SelfSubjectAccessReview); a bind failure or a refusal there → `failed`, retried slowly; the API server out of
 * reach → `waiting` until it answers again.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewaySpec } from '../../config/types.js';
import { isRetryable, KportError, toKportError } from '../api/errors.js';
import { balancerFor, type Balancer } from '../forward/balancer.js';
import { carry, DIAL_RETRY_MAX_MS, dialerFor, dialRetryable, MAX_HELD, openStream, SLOW_RETRY_MS, type StreamSessionDeps } from '../forward/dial.js';
import { bindKeeping, keptPortsOf, type Listeners } from '../forward/listener.js';
import type { Pipe } from '../forward/pipe.js';
import { portForwardVerdict } from '../kube/access.js';
import type { KubeClient } from '../kube/client.js';
import { notFoundIn } from '../kube/missing.js';
import type { NamespaceCache } from '../kube/namespace-cache.js';
import { isPodReady, type TargetView } from '../kube/resolve.js';
import type { PodDialer, PodStream } from '../kube/transport/types.js';
import { Backoff } from '../session/backoff.js';
import { SessionCore } from '../session/core.js';
import { SlowRetry } from '../session/slow-retry.js';
import type { Session } from '../session/session.js';
import { accept, readRequest, refuse, type GatewayRequest } from './handshake.js';
import { findByApi, findInCaches } from './lookup.js';
import { parseDestination } from './names.js';
import { NamespacePool, type NamespaceUse } from './namespaces.js';
import { destinationLabel, resolveRoute, type Named, type Route } from './route.js';

/** What a gateway needs beyond any session's deps. */
export type GatewayDeps = StreamSessionDeps<GatewaySpec>;

/** One accepted local connection, from accept to close. */
interface Connection {
  socket: Socket;
  deadline: number;
  /** Aborted when the connection closes: its waits and dials stop. */
  readonly gone: AbortController;
  closed: boolean;
  use: NamespaceUse | null;
  namespace: string | null;
  pod: string | null;
  destination: string | null;
  pipe: Pipe | null;
}

/** How long a client has to send its SOCKS5 greeting and request, or its HTTP request head. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Namespaces watched at once for one gateway. */
const MAX_NAMESPACES = 32;
/** Destinations whose round-robin position is remembered (the least recently used are forgotten first). */
const MAX_BALANCERS = 1024;

/** What a connection's work ends with when its client has gone meanwhile (never shown to anyone). */
const GONE = new KportError('CANCELLED', 'the client closed the connection');

/** The cache of a namespace as resolution reads it. */
function viewOf(cache: NamespaceCache): TargetView {
  return {
    namespace: cache.namespace,
    pods: cache.pods.values(),
    service: (name) => cache.services.get(name),
    endpointPods: (name) => cache.endpointPods(name),
  };
}

/** A running gateway; `start` and `stop` never throw. */
export class GatewaySession implements Session {
  readonly core: SessionCore;
  private client: KubeClient | null = null;
  private dialer: PodDialer | null = null;
  private pool: NamespacePool | null = null;
  private listeners: Listeners | null = null;
  private readonly live = new Set<Connection>();
  /** Connections waiting for a ready pod. */
  private waiting = 0;
  private readonly byDestination = new Map<string, number>();
  private readonly balancers = new Map<string, Balancer>();
  private readonly slowRetry: SlowRetry;
  private stopped = false;

  constructor(
    readonly spec: GatewaySpec,
    private readonly deps: GatewayDeps,
  ) {
    this.core = new SessionCore(spec, deps.source, deps.log);
    this.slowRetry = new SlowRetry(deps.slowRetryMs ?? SLOW_RETRY_MS, () => {
      this.core.transition('starting', 'retrying');
      void this.setup();
    });
  }

  async start(): Promise<void> {
    await this.setup();
  }

  // ---- setup --------------------------------------------------------------------------------------

  /** Binds, takes the context's client and asks whether the user may port-forward in the gateway's namespace. */
  private async setup(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.listeners) {
        // A runtime gateway on any free port asks first for the one it was given last time (see SessionDeps.keptPorts).
        const ports = [{ local: this.spec.port, remote: null }];
        const kept = keptPortsOf(ports, this.deps.keptPorts);
        const l = await bindKeeping(this.spec.addresses, ports, (socket) => this.onConnection(socket), kept, (err, given) => {
          this.core.log.warn({ kept: [...kept.values()], given, err: err.message }, 'a local port kept from the last start is taken; took a new free one');
        });
        if (this.stopped) return void (await l.close());
        this.listeners = l;
        this.core.setListeners(l.bound);
      }
      if (!this.client) {
        const client = this.deps.clients.acquire(this.deps.kubeconfig, this.spec.context);
        this.client = client;
        this.dialer = dialerFor(this.deps, client, this.spec);
        this.pool = new NamespacePool(this.deps.caches, client, { idleMs: this.spec.namespaceIdleMs, max: MAX_NAMESPACES }, (ns) => this.onNamespaceChange(ns));
        client.reachability.on('back', this.onApiBack);
      }
    } catch (err) {
      // Stopped while binding: the failure is moot (and `stopped` may not become `failed`).
      if (this.stopped) return;
      return this.failSlowly(toKportError(err));
    }
    if (this.core.state === 'starting') this.core.transition('starting', 'checking permission to port-forward');
    const verdict = await portForwardVerdict(this.client, this.spec.namespace, this.spec.transport);
    if (this.stopped) return;
    if (verdict !== 'allowed') return this.failSlowly(verdict);
    this.core.transition('ready', this.readyReason());
  }

  private readyReason(): string {
    return `resolving SVC.NS.svc.${this.spec.clusterDomain} names of context "${this.client?.context ?? this.spec.context}" (bare names in namespace "${this.spec.namespace}")`;
  }

  private failSlowly(err: KportError): void {
    this.core.recordError(err);
    this.core.transition('failed', err.message);
    if (err.code === 'FORBIDDEN' || err.code === 'UNAUTHORIZED') this.client?.access.forget();
    this.slowRetry.schedule();
  }

  /** A connection found the API server out of reach: the gateway waits for it (any success brings it back). */
  private noteUnreachable(err: KportError): void {
    if (err.code === 'API_UNREACHABLE' && this.core.state === 'ready') this.core.transition('waiting', `API server unreachable: ${err.message}`);
  }

  private readonly onApiBack = (): void => {
    if (this.core.state === 'waiting') this.core.transition('ready', this.readyReason());
  };

  // ---- connections --------------------------------------------------------------------------------

  private onConnection(socket: Socket): void {
    const conn: Connection = {
      socket,
      deadline: Date.now() + this.spec.connectTimeoutMs,
      gone: new AbortController(),
      closed: false,
      use: null,
      namespace: null,
      pod: null,
      destination: null,
      pipe: null,
    };
    socket.on('error', () => {});
    socket.once('close', () => this.close(conn));
    this.live.add(conn);
    this.core.connectionOpened();
    if (this.stopped) return this.close(conn);
    void this.serve(conn);
  }

  /** Reads the request, makes the connection or refuses it in the client's protocol. */
  private async serve(conn: Connection): Promise<void> {
    const request = await readRequest(conn.socket, HANDSHAKE_TIMEOUT_MS);
    if (request === null || conn.closed) return this.close(conn);
    if (request instanceof KportError) return this.core.recordError(request);
    const stream = await this.connect(conn, request).catch((err: unknown) => toKportError(err));
    if (conn.closed || this.stopped) {
      if (!(stream instanceof KportError)) stream.destroy();
      return this.close(conn);
    }
    if (stream instanceof KportError) {
      this.core.recordError(stream);
      this.noteUnreachable(stream);
      this.releaseNamespace(conn);
      return refuse(conn.socket, request, stream);
    }
    accept(conn.socket, request);
    if (request.head) {
      stream.write(request.head);
      this.core.counters.bytesOut += request.head.length;
    }
    conn.pipe = carry(conn.socket, stream, this.core);
    const outcome = await conn.pipe.done;
    if (outcome.error && !outcome.cancelled) this.core.recordError(outcome.error);
    this.close(conn);
  }

  /** Resolves the request's destination and opens a stream to one of its ready pods. */
  private async connect(conn: Connection, request: GatewayRequest): Promise<PodStream | KportError> {
    // Bound, but with no client for the context (its kubeconfig failed): the refusal says why.
    if (this.pool === null || this.client === null) {
      const why = this.core.status().lastError;
      return new KportError(why?.code ?? 'INTERNAL', why?.message ?? 'the gateway has no client for its context');
    }
    const dest = parseDestination(request.host, this.spec);
    if (dest instanceof KportError) return dest;
    const named = dest.kind === 'ip' ? await this.findIp(dest.ip, conn.gone.signal) : dest;
    if (named instanceof KportError) return named;
    const allowed = this.spec.namespaces;
    if (allowed && !allowed.includes(named.namespace)) {
      return new KportError('FORBIDDEN', `namespace "${named.namespace}" is not one this gateway may reach (namespaces: ${allowed.join(', ')})`);
    }
    if (conn.closed) return GONE;
    const use = this.pool.use(named.namespace);
    if (use instanceof KportError) return use;
    conn.use = use;
    conn.namespace = named.namespace;
    const verdict = await portForwardVerdict(this.client, named.namespace, this.spec.transport);
    if (verdict !== 'allowed') return verdict;
    return this.dial(conn, named, request.port, use.cache);
  }

  /** The service or pod with `ip`: in the namespaces watched already, else as the API server says. */
  private async findIp(ip: string, signal: AbortSignal): Promise<Named | KportError> {
    return findInCaches(ip, this.pool!.watched()) ?? findByApi(ip, this.client!, this.spec.namespaces, signal);
  }

  /** Picks a ready pod of the route and dials it; retryable failures are retried (with a short backoff) until the deadline. */
  private async dial(conn: Connection, named: Named, port: number, cache: NamespaceCache): Promise<PodStream | KportError> {
    const label = destinationLabel(named, port);
    const balancer = this.balancerFor(label);
    const backoff = new Backoff({ maxMs: DIAL_RETRY_MAX_MS });
    for (;;) {
      if (conn.closed) return GONE;
      const route = await this.routeTo(conn, named, port, label, cache);
      if (route instanceof KportError) return route;
      const pod = balancer.pick(route.pods);
      const podPort = route.podPort(pod);
      if (podPort instanceof KportError) return podPort;
      conn.pod = pod.metadata.name;
      conn.destination = label;
      try {
        const stream = await openStream(this.dialer!, { namespace: named.namespace, pod: pod.metadata.name, port: podPort }, this.core, this.client!, conn.gone.signal);
        if (conn.closed) {
          stream.destroy();
          return GONE;
        }
        this.count(label, +1);
        return stream;
      } catch (err) {
        conn.pod = null;
        conn.destination = null;
        const e = toKportError(err);
        if (conn.closed || !dialRetryable(e)) return e;
        this.core.recordError(e);
        this.noteUnreachable(e);
        const delay = backoff.next();
        if (Date.now() + delay >= conn.deadline) return this.timedOut(`no stream to ${label}`, e);
        this.core.counters.reconnects++;
        await sleep(delay, undefined, { signal: conn.gone.signal }).catch(() => {});
      }
    }
  }

  /**
   * The route once the cache has one: at once when it does, else after the changes that bring it, until the
   * connection's deadline (CONNECT_TIMEOUT naming what it waited for, API_UNREACHABLE when that was the API
   * server). Something absent from the start is refused
   * at once (TARGET_NOT_FOUND, or NAMESPACE_NOT_FOUND when its namespace is missing too); something seen during the
   * wait that goes away (a pod being replaced) is waited for.
   */
  private routeTo(conn: Connection, named: Named, port: number, label: string, cache: NamespaceCache): Promise<Route | KportError> {
    let seen = false;
    let reason = `waiting for the watches of namespace "${named.namespace}"`;
    let down: KportError | null = null;
    /** A route or an error when done; null to keep waiting (or while the namespace is being asked about). */
    const evaluate = (): Route | KportError | Promise<KportError> | null => {
      const problem = cache.problem;
      if (problem && !isRetryable(problem.code)) return problem;
      down = problem?.code === 'API_UNREACHABLE' ? problem : null;
      if (problem || !cache.synced) {
        if (problem) reason = `API server unreachable: ${problem.message}`;
        if (down) this.noteUnreachable(down);
        return null;
      }
      const r = resolveRoute(named, port, viewOf(cache));
      if (r.ok) return r.route;
      if (r.why === 'refused') return r.error;
      if (r.why === 'unready' || seen) {
        seen = true;
        reason = r.error.message;
        return null;
      }
      return notFoundIn(this.client!, named.namespace, r.what, conn.gone.signal);
    };
    const first = evaluate();
    if (first !== null) return Promise.resolve(first);
    if (this.waiting >= MAX_HELD) return Promise.resolve(new KportError('CONNECT_TIMEOUT', `more than ${MAX_HELD} connections waiting; refusing new ones`));
    this.waiting++;
    return new Promise((resolve) => {
      const finish = (result: Route | KportError | Promise<KportError>) => {
        cache.off('change', check);
        clearTimeout(timer);
        conn.gone.signal.removeEventListener('abort', onGone);
        this.waiting--;
        resolve(result);
      };
      const check = () => {
        const result = evaluate();
        if (result !== null) finish(result);
      };
      const onGone = () => finish(GONE);
      const timer = setTimeout(() => {
        finish(down ? this.timedOut(`no ready pod for ${label}`, down) : new KportError('CONNECT_TIMEOUT', `no ready pod for ${label} within ${this.spec.connectTimeoutMs / 1000} s (${reason}); closed a waiting connection`));
      }, Math.max(0, conn.deadline - Date.now()));
      cache.on('change', check);
      conn.gone.signal.addEventListener('abort', onGone);
    });
  }

  /** What a wait that ran out says: the API server's unreachability as it is, anything else as CONNECT_TIMEOUT. */
  private timedOut(what: string, last: KportError): KportError {
    const within = `within ${this.spec.connectTimeoutMs / 1000} s`;
    if (last.code === 'API_UNREACHABLE') return new KportError('API_UNREACHABLE', `${what} ${within}: ${last.message}`);
    return new KportError('CONNECT_TIMEOUT', `${what} ${within}: ${last.message}`);
  }

  private balancerFor(label: string): Balancer {
    let b = this.balancers.get(label);
    if (b) this.balancers.delete(label);
    else b = balancerFor('round-robin');
    // Map order is insertion order: re-inserting keeps the busiest destinations last, and the first the stalest.
    this.balancers.set(label, b);
    if (this.balancers.size > MAX_BALANCERS) this.balancers.delete(this.balancers.keys().next().value!);
    return b;
  }

  /** Updates the open connections by destination that `kportctl list --wide` shows. */
  private count(label: string, delta: number): void {
    const n = (this.byDestination.get(label) ?? 0) + delta;
    if (n > 0) this.byDestination.set(label, n);
    else this.byDestination.delete(label);
    const list = [...this.byDestination].map(([destination, active]) => ({ destination, active }));
    this.core.setDestinations(list.sort((a, b) => b.active - a.active || a.destination.localeCompare(b.destination)));
  }

  /** Closes connections on pods of `namespace` that went away or stopped being ready; counts a failover per pod lost. */
  private onNamespaceChange(namespace: string): void {
    const lost = new Set<string>();
    for (const c of this.live) {
      if (c.namespace !== namespace || !c.pipe || c.pod === null || !c.use) continue;
      const pod = c.use.cache.pods.get(c.pod);
      if (pod && isPodReady(pod)) continue;
      lost.add(c.pod);
      c.pipe.cancel(new KportError('NO_READY_PODS', `pod ${c.pod} went away`));
    }
    if (lost.size === 0) return;
    this.core.counters.failovers += lost.size;
    this.core.log.info({ namespace, pods: [...lost] }, 'pod gone or not ready; closed its connections');
    for (const pod of lost) this.dialer?.forget({ namespace, pod });
  }

  private releaseNamespace(conn: Connection): void {
    conn.use?.release();
    conn.use = null;
  }

  /** Ends a connection once: destroys the socket, gives its namespace back, updates counters. */
  private close(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.gone.abort();
    this.live.delete(conn);
    if (conn.destination !== null) this.count(conn.destination, -1);
    this.releaseNamespace(conn);
    if (!conn.socket.destroyed) conn.socket.destroy();
    this.core.connectionClosed();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.slowRetry.cancel();
    const closing = this.listeners?.close();
    for (const c of [...this.live]) {
      c.pipe?.cancel(new KportError('SHUTTING_DOWN', 'gateway stopped'));
      this.close(c);
    }
    this.dialer?.close();
    this.pool?.close();
    this.client?.reachability.off('back', this.onApiBack);
    if (this.client) this.deps.clients.release(this.client);
    await closing;
    this.core.transition('stopped', 'stopped');
  }
}

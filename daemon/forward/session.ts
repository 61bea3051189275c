/**
 * A forward: local listeners that stay bound for the session's whole life, and per accepted
 * connection a port-forward stream to a ready pod of the target. Watch events (not failures)
 * drive failover: when a pod stops being ready its connections are closed and new ones go
 * elsewhere; with no ready pod (or no API server) new connections are held up to connectTimeout.
 */
import type { Socket } from 'node:net';
import type { ForwardSpec, PortMapping } from '../../config/types.js';
import { isRetryable, KportError, toKportError } from '../api/errors.js';
import type { KubeClient } from '../kube/client.js';
import type { PodDialer } from '../kube/transport/types.js';
import { portForwardVerdict } from '../kube/access.js';
import { ApiStatusError } from '../kube/errors.js';
import { notFoundIn } from '../kube/missing.js';
import type { NamespaceCache } from '../kube/namespace-cache.js';
import type { LabelSelector, Pod, Workload } from '../kube/objects.js';
import { candidates, describeTarget, remotePort, type TargetView } from '../kube/resolve.js';
import { Backoff } from '../session/backoff.js';
import { SlowRetry } from '../session/slow-retry.js';
import { SessionCore } from '../session/core.js';
import type { Session } from '../session/session.js';
import { balancerFor, type Balancer } from './balancer.js';
import { carry, DIAL_RETRY_MAX_MS, dialerFor, dialRetryable, MAX_HELD, openStream, SLOW_RETRY_MS, type StreamSessionDeps } from './dial.js';
import { bindKeeping, keptPortsOf, type Listeners } from './listener.js';
import type { Pipe } from './pipe.js';

/** What a forward needs beyond any session's deps. */
export type ForwardDeps = StreamSessionDeps<ForwardSpec>;

/** One accepted local connection, from accept to close. */
interface Connection {
  socket: Socket;
  mapping: PortMapping;
  deadline: number;
  timer?: NodeJS.Timeout;
  pod?: string;
  pipe?: Pipe;
  closed: boolean;
}


const WORKLOAD_PATHS: Record<string, string> = { deployment: 'deployments', statefulset: 'statefulsets', replicaset: 'replicasets' };

/** A self-healing port-forward session. */
export class ForwardSession implements Session {
  readonly core: SessionCore;
  private client: KubeClient | null = null;
  private cache: NamespaceCache | null = null;
  private dialer: PodDialer | null = null;
  private listeners: Listeners | null = null;
  private chosenPorts = new Map<PortMapping, number>();
  private readonly balancer: Balancer;
  /** A workload target's selector (immutable in apps/v1, so fetched once), or why it could not be read. */
  private workloadSelector: LabelSelector | null = null;
  private workloadError: KportError | null = null;
  private workloadFetching = false;
  private workloadRetryAt = 0;
  private workloadTimer: NodeJS.Timeout | null = null;
  private readonly workloadBackoff = new Backoff({ initialMs: 1_000 });
  private ready: Pod[] = [];
  private held: Connection[] = [];
  private readonly live = new Set<Connection>();
  /** The target has existed at some point: its absence is churn, not a typo. */
  private seenTarget = false;
  private readonly backoff = new Backoff({ maxMs: DIAL_RETRY_MAX_MS });
  /** The cache last said the API server was unreachable (or not synced yet). */
  private cacheWasDown = false;
  /** Whether the user may port-forward here: unknown until asked, then the answer. */
  private access: 'unknown' | 'asking' | 'allowed' | KportError = 'unknown';
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly slowRetry: SlowRetry;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(
    readonly spec: ForwardSpec,
    private readonly deps: ForwardDeps,
  ) {
    this.core = new SessionCore(spec, deps.source, deps.log);
    this.balancer = balancerFor(spec.balance);
    this.slowRetry = new SlowRetry(deps.slowRetryMs ?? SLOW_RETRY_MS, () => {
      this.core.transition('starting', 'retrying');
      void this.setup();
    });
  }

  async start(): Promise<void> {
    await this.setup();
  }

  /** Bytes queued in the daemon for this session's connections right now (for backpressure checks). */
  bufferedBytes(): number {
    let n = 0;
    for (const c of this.live) n += c.pipe?.buffered() ?? 0;
    return n;
  }

  // ---- setup and retries ------------------------------------------------------------------------

  /** Binds, connects to the cluster view and evaluates; each step that fails leaves `failed` and a slow retry. */
  private async setup(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.listeners) {
        const l = await this.bind();
        if (this.stopped) return void (await l.close());
        this.listeners = l;
        this.chosenPorts = l.chosen;
        this.core.setListeners(l.bound);
      }
      if (!this.cache) {
        const client = this.deps.clients.acquire(this.deps.kubeconfig, this.spec.context);
        this.client = client;
        this.dialer = dialerFor(this.deps, client, this.spec);
        this.cache = this.deps.caches.acquire(client, this.spec.namespace);
        this.cache.on('change', this.onCacheChange);
        client.reachability.on('back', this.onApiBack);
      }
    } catch (err) {
      // Stopped while binding: the failure is moot (and `stopped` may not become `failed`).
      if (this.stopped) return;
      return this.failSlowly(toKportError(err));
    }
    this.evaluate();
  }

  /** Binds every listener, the ports kept from the last start first (a taken one gives way, with a warning). */
  private async bind(): Promise<Listeners & { chosen: Map<PortMapping, number> }> {
    const kept = this.chosenPorts.size > 0 ? this.chosenPorts : keptPortsOf(this.spec.ports, this.deps.keptPorts);
    return bindKeeping(this.spec.addresses, this.spec.ports, (s, m) => this.onConnection(s, m), kept, (err, given) => {
      this.core.log.warn({ kept: [...kept.values()], given, err: err.message }, 'a local port kept from the last start is taken; took a new free one');
    });
  }

  private failSlowly(err: KportError): void {
    this.refuse(err);
    // The retry asks again: RBAC may have been fixed meanwhile.
    if (err.code === 'FORBIDDEN' || err.code === 'UNAUTHORIZED') this.forgetAccess();
    this.slowRetry.schedule();
  }

  /** Starts reading the workload's selector unless a read is under way or backing off; evaluate() calls it. */
  private lookUpWorkload(): void {
    if (this.workloadFetching || Date.now() < this.workloadRetryAt) return;
    this.workloadFetching = true;
    void this.fetchWorkloadSelector().finally(() => {
      this.workloadFetching = false;
      this.evaluate();
    });
  }

  private async fetchWorkloadSelector(): Promise<void> {
    const t = this.spec.target;
    if (t.kind === 'selector' || !this.client) return;
    const path = `/apis/apps/v1/namespaces/${encodeURIComponent(this.spec.namespace)}/${WORKLOAD_PATHS[t.kind]}/${encodeURIComponent(t.name)}`;
    try {
      const w = await this.client.request<Workload>(path, { signal: this.abort.signal });
      if (!w.spec?.selector) throw new KportError('TARGET_NOT_FOUND', `${t.kind}/${t.name} has no selector`);
      this.workloadSelector = w.spec.selector;
      this.workloadError = null;
      this.seenTarget = true;
    } catch (err) {
      if (this.stopped) return;
      const e = err instanceof ApiStatusError && err.httpStatus === 404 ? await this.notFound(t.kind, t.name) : toKportError(err);
      this.workloadError = e;
      this.core.recordError(e);
      // Retried with backoff even if the cache stays quiet (a deployment created later, a fixed kubeconfig).
      const delay = this.workloadBackoff.next();
      this.workloadRetryAt = Date.now() + delay;
      if (this.workloadTimer) clearTimeout(this.workloadTimer);
      this.workloadTimer = setTimeout(() => this.evaluate(), delay);
    }
  }

  /** TARGET_NOT_FOUND for `kind/name`, or NAMESPACE_NOT_FOUND when the namespace itself is missing. */
  private notFound(kind: string, name: string): Promise<KportError> {
    return notFoundIn(this.client!, this.spec.namespace, `${kind} "${name}"`, this.abort.signal);
  }

  /** Enters `backoff` and runs `then` after the next backoff delay (one retry pending at a time). */
  private retryLater(err: KportError, then: () => void): void {
    if (this.retryTimer || this.stopped) return;
    const delay = this.backoff.next();
    this.core.counters.reconnects++;
    this.core.transition('backoff', `retrying in ${delay} ms: ${err.message}`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      then();
    }, delay);
  }

  /** A sign the cluster is usable again: the pending retry is not waited out, and the backoff starts over. */
  private cancelRetry(): boolean {
    if (!this.retryTimer) return false;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.backoff.reset();
    return true;
  }

  // ---- the cluster view ---------------------------------------------------------------------------

  private readonly onCacheChange = (): void => this.evaluate();
  private readonly onApiBack = (): void => void (this.cancelRetry() && this.evaluate());

  private view(): TargetView {
    const cache = this.cache!;
    return {
      namespace: this.spec.namespace,
      pods: cache.pods.values(),
      service: (name) => cache.services.get(name),
      endpointPods: (name) => cache.endpointPods(name),
    };
  }

  /** Recomputes the ready pods from the cache and moves the state machine accordingly. */
  private evaluate(): void {
    const cache = this.cache;
    if (this.stopped || !cache || this.slowRetry.pending) return;
    const problem = cache.problem;
    if (problem && !isRetryable(problem.code)) return this.refuse(problem);
    if (problem || !cache.synced) {
      this.cacheWasDown = true;
      if (problem && this.core.state !== 'waiting') this.core.recordError(problem);
      return this.core.transition('waiting', problem ? `API server unreachable: ${problem.message}` : 'connecting to the API server');
    }
    if (WORKLOAD_PATHS[this.spec.target.kind] && !this.workloadSelector) {
      this.lookUpWorkload();
      const e = this.workloadError;
      if (e && !isRetryable(e.code) && !this.seenTarget) return this.refuse(e);
      if (e) return this.core.transition('waiting', e.message);
    }
    const found = candidates(this.spec.target, this.view(), this.workloadSelector);
    const names = found.ok ? found.pods.map((p) => p.metadata.name) : [];
    // The API server is back, or a pod is newly ready: whatever a pending retry waits for may be over.
    const fresh = this.cacheWasDown || names.some((n) => !this.ready.some((p) => p.metadata.name === n));
    this.cacheWasDown = false;
    if (fresh) this.cancelRetry();
    this.failOver(names);
    this.ready = found.ok ? found.pods : [];
    this.core.setPods(names);
    if (!found.ok) {
      if (found.missing && !this.seenTarget) return this.refuse(found.error);
      return this.core.transition('waiting', found.error.message);
    }
    this.seenTarget = true;
    // Ready means usable: every port resolves, and the user may port-forward.
    const port = this.unresolvedPort(found.pods);
    if (port) return this.refuse(port);
    if (this.access === 'unknown') return this.askAccess();
    if (this.access === 'asking') return;
    if (this.access !== 'allowed') return this.failSlowly(this.access);
    if (this.retryTimer) return; // a backoff retry is pending; it re-evaluates when due
    const target = describeTarget(this.spec.target);
    this.core.transition('ready', names.length === 1 ? `forwarding to pod ${names[0]} (${target})` : `forwarding to ${names.length} pods of ${target}`);
    for (const c of this.held.splice(0)) void this.dispatch(c);
  }

  /** PORT_NOT_FOUND when a mapping's remote port resolves on none of the ready pods (kubectl refuses these at once). */
  private unresolvedPort(pods: readonly Pod[]): KportError | null {
    const services = { service: (name: string) => this.cache!.services.get(name) };
    for (const m of this.spec.ports) {
      const tries = pods.map((pod) => remotePort(this.spec.target, m.remote, pod, services));
      const missing = tries.find((p): p is KportError => p instanceof KportError && p.code === 'PORT_NOT_FOUND');
      if (missing && tries.every((p) => p instanceof KportError)) return missing;
    }
    return null;
  }

  /**
   * Asks the API server (SelfSubjectAccessReview) whether the user may use the verb the transport
   * needs: SPDY is a POST (`create`), WebSockets are GETs (`get`); auto works with either. A cluster
   * that will not answer is taken at its first stream's word.
   */
  private askAccess(): void {
    this.access = 'asking';
    if (this.core.state === 'starting') this.core.transition('starting', 'checking permission to port-forward');
    void portForwardVerdict(this.client!, this.spec.namespace, this.spec.transport).then((verdict) => {
      if (this.stopped || this.access !== 'asking') return;
      this.access = verdict;
      this.evaluate();
    });
  }

  private forgetAccess(): void {
    this.access = 'unknown';
    this.client?.access.forget();
  }

  /**
   * `failed` until the cache says otherwise (the watches keep running, so a target that appears or
   * credentials that start working bring the session back); waiting connections are refused.
   */
  private refuse(err: KportError): void {
    if (this.core.state !== 'failed') this.core.recordError(err);
    this.core.transition('failed', err.message);
    for (const c of this.held.splice(0)) this.close(c, null);
  }

  /** Closes connections on pods that are no longer ready; counts a failover per pod lost. */
  private failOver(readyNames: string[]): void {
    const lost = this.ready.map((p) => p.metadata.name).filter((n) => !readyNames.includes(n));
    if (lost.length === 0) return;
    this.core.counters.failovers += lost.length;
    this.core.log.info({ pods: lost }, 'pod gone or not ready; failing over');
    for (const pod of lost) this.dialer?.forget({ namespace: this.spec.namespace, pod });
    for (const c of this.live) {
      if (c.pod && lost.includes(c.pod)) c.pipe?.cancel(new KportError('NO_READY_PODS', `pod ${c.pod} went away`));
    }
  }

  // ---- connections --------------------------------------------------------------------------------

  private onConnection(socket: Socket, mapping: PortMapping): void {
    const conn: Connection = { socket, mapping, deadline: Date.now() + this.spec.connectTimeoutMs, closed: false };
    socket.on('error', () => {});
    socket.once('close', () => this.close(conn, null));
    this.live.add(conn);
    this.core.connectionOpened();
    if (this.stopped || this.core.state === 'failed') return this.close(conn, null);
    if (this.core.state === 'ready') void this.dispatch(conn);
    else this.hold(conn);
  }

  /** Keeps a connection waiting (paused, unread) for a ready pod until its deadline. */
  private hold(conn: Connection): void {
    if (conn.closed) return;
    if (this.held.length >= MAX_HELD) return this.close(conn, new KportError('CONNECT_TIMEOUT', `more than ${MAX_HELD} connections waiting; refusing new ones`));
    this.held.push(conn);
    conn.timer ??= setTimeout(() => {
      const why = new KportError('CONNECT_TIMEOUT', `no ready pod for ${describeTarget(this.spec.target)} within ${this.spec.connectTimeoutMs / 1000} s; closed a waiting connection`);
      this.close(conn, why);
    }, Math.max(0, conn.deadline - Date.now()));
  }

  private async dispatch(conn: Connection): Promise<void> {
    if (conn.closed || this.stopped) return;
    const pod = this.balancer.pick(this.ready);
    // Only the service is read here: no per-connection copy of the namespace's pods.
    const port = remotePort(this.spec.target, conn.mapping.remote, pod, { service: (name) => this.cache!.services.get(name) });
    if (port instanceof KportError) return this.close(conn, port);
    conn.pod = pod.metadata.name;
    let stream;
    try {
      stream = await openStream(this.dialer!, { namespace: this.spec.namespace, pod: pod.metadata.name, port }, this.core, this.client!, this.abort.signal);
    } catch (err) {
      conn.pod = undefined;
      if (conn.closed || this.stopped) return;
      const e = toKportError(err);
      this.core.recordError(e);
      // A pod that vanished or stopped running since the last watch event is churn: retry elsewhere.
      if (!dialRetryable(e)) {
        this.close(conn, null);
        return this.failSlowly(e);
      }
      this.hold(conn);
      return this.retryLater(e, () => this.evaluate());
    }
    if (conn.closed || this.stopped) return void stream.destroy();
    clearTimeout(conn.timer);
    this.backoff.reset();
    // A stream opened: connections held for a retry need not wait for it.
    if (this.cancelRetry()) this.evaluate();
    conn.pipe = carry(conn.socket, stream, this.core);
    const outcome = await conn.pipe.done;
    if (outcome.error && !outcome.cancelled) this.core.recordError(outcome.error);
    this.close(conn, null);
  }

  /** Ends a connection once: destroys the socket, records `why`, updates counters. */
  private close(conn: Connection, why: KportError | null): void {
    if (conn.closed) return;
    conn.closed = true;
    clearTimeout(conn.timer);
    this.held = this.held.filter((c) => c !== conn);
    this.live.delete(conn);
    if (why) this.core.recordError(why);
    if (!conn.socket.destroyed) conn.socket.destroy();
    this.core.connectionClosed();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    for (const t of [this.retryTimer, this.workloadTimer]) if (t) clearTimeout(t);
    this.slowRetry.cancel();
    const closing = this.listeners?.close();
    for (const c of [...this.live]) {
      c.pipe?.cancel(new KportError('SHUTTING_DOWN', 'forward stopped'));
      this.close(c, null);
    }
    this.dialer?.close();
    this.client?.reachability.off('back', this.onApiBack);
    if (this.cache) {
      this.cache.off('change', this.onCacheChange);
      this.deps.caches.release(this.cache);
    }
    if (this.client) this.deps.clients.release(this.client);
    await closing;
    this.core.transition('stopped', 'stopped');
  }
}

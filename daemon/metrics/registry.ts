/**
 * kportd's Prometheus registry. Per-session gauges and counters are read from the sessions' own status when
 * scraped (collect callbacks), so the hot path counts nothing twice; errors by code and stream-open times, which no
 * status holds, are fed by SessionCore's events. Node's default process metrics come with it. This is the only
 * module that imports prom-client: endpoint.ts loads it on demand, so a kportd without `metrics:` never does.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '../api/errors.js';
import { SESSION_STATES, type SessionCounters, type SessionStatus } from '../api/session.js';

/** Where the sessions come from at scrape time (the supervisor). */
export interface SessionSource {
  list(): SessionStatus[];
}

type Kind = SessionStatus['kind'];
type SessionLabels = 'session' | 'kind';

/** Stream-open buckets in seconds: a warm SPDY session opens in well under a millisecond, a cold TLS dial in seconds. */
export const STREAM_OPEN_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A per-session value read from its status; null where it does not apply (proxy counters on a forward). */
interface FromStatus {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  read: (c: SessionCounters, kind: Kind) => number | null;
}

const proxyOnly = (pick: (c: SessionCounters) => number) => (c: SessionCounters, kind: Kind) => (kind === 'proxy' ? pick(c) : null);

const FROM_STATUS: readonly FromStatus[] = [
  { name: 'kport_session_connections_active', type: 'gauge', help: 'Local connections open now.', read: (c) => c.connectionsActive },
  { name: 'kport_session_connections_total', type: 'counter', help: 'Local connections accepted.', read: (c) => c.connectionsTotal },
  { name: 'kport_session_bytes_in_total', type: 'counter', help: 'Bytes carried from the cluster to local clients.', read: (c) => c.bytesIn },
  { name: 'kport_session_bytes_out_total', type: 'counter', help: 'Bytes carried from local clients to the cluster.', read: (c) => c.bytesOut },
  { name: 'kport_session_reconnects_total', type: 'counter', help: 'Stream (re)opens that had to be retried.', read: (c) => c.reconnects },
  { name: 'kport_session_failovers_total', type: 'counter', help: 'Times the session moved off a pod that went away or stopped being ready.', read: (c) => c.failovers },
  { name: 'kport_session_requests_total', type: 'counter', help: 'Requests a proxy served.', read: proxyOnly((c) => c.requests) },
  { name: 'kport_session_upstream_errors_total', type: 'counter', help: 'Requests a proxy could not reach the API server for.', read: proxyOnly((c) => c.upstreamErrors) },
];

/** What the events told about one session name (kept while the name exists). */
interface Observed {
  kind: Kind;
  errors: Map<ErrorCode, number>;
}

/** One registry for the daemon's life: prom-client's default collectors (an event-loop monitor, a GC observer) cannot be stopped. */
export class KportMetrics {
  readonly registry = new Registry();
  private readonly observed = new Map<string, Observed>();
  private readonly streamOpen: Histogram<SessionLabels>;
  /** The sessions as this scrape sees them: one list for every metric, so they agree with one another. */
  private snapshot: SessionStatus[] | null = null;

  constructor(
    private readonly source: SessionSource,
    version: string,
  ) {
    const registers = [this.registry];
    // Standard names (process_resident_memory_bytes, nodejs_eventloop_lag_seconds, …), no prefix: stock Node.js
    // dashboards and alerts then work unchanged; the scrape job tells kportd apart.
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'kport_build_info', help: 'kportd version; always 1.', labelNames: ['version'], registers }).set({ version }, 1);
    const states: Gauge<SessionLabels | 'state'> = new Gauge({
      name: 'kport_session_state',
      help: 'Session state: 1 for the state the session is in, 0 for the others.',
      labelNames: ['session', 'kind', 'state'],
      registers,
      collect: () => {
        states.reset();
        for (const s of this.sessions()) {
          for (const state of SESSION_STATES) states.set({ session: s.name, kind: s.kind, state }, s.state === state ? 1 : 0);
        }
      },
    });
    for (const m of FROM_STATUS) this.fromStatus(m);
    const errors: Counter<SessionLabels | 'code'> = new Counter({
      name: 'kport_session_errors_total',
      help: "Errors a session recorded, by code (the codes of kportctl list's last error).",
      labelNames: ['session', 'kind', 'code'],
      registers,
      collect: () => {
        errors.reset();
        this.forget();
        for (const [session, o] of this.observed) for (const [code, n] of o.errors) errors.inc({ session, kind: o.kind, code }, n);
      },
    });
    this.streamOpen = new Histogram({
      name: 'kport_session_stream_open_seconds',
      help: "Time from a forward's dial to an open stream to the pod.",
      labelNames: ['session', 'kind'],
      buckets: STREAM_OPEN_BUCKETS,
      registers,
      collect: () => this.forget(),
    });
  }

  /** The text exposition of every metric. */
  async scrape(): Promise<string> {
    this.snapshot = this.source.list();
    try {
      return await this.registry.metrics();
    } finally {
      this.snapshot = null;
    }
  }

  /** The Content-Type of scrape()'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts one recorded error of session `name`. */
  recordError(name: string, kind: Kind, code: ErrorCode): void {
    const errors = this.observedFor(name, kind).errors;
    errors.set(code, (errors.get(code) ?? 0) + 1);
  }

  /** Adds one stream-open time of session `name`. */
  observeStreamOpen(name: string, kind: Kind, ms: number): void {
    this.observedFor(name, kind);
    this.streamOpen.observe({ session: name, kind }, ms / 1000);
  }

  private sessions(): SessionStatus[] {
    return this.snapshot ?? this.source.list();
  }

  /** Registers one metric whose values are read from each session's counters at scrape time. */
  private fromStatus({ name, help, type, read }: FromStatus): void {
    const each = (put: (labels: Record<SessionLabels, string>, value: number) => void) => {
      for (const s of this.sessions()) {
        const value = read(s.counters, s.kind);
        if (value !== null) put({ session: s.name, kind: s.kind }, value);
      }
    };
    const config = { name, help, labelNames: ['session', 'kind'] as SessionLabels[], registers: [this.registry] };
    if (type === 'gauge') {
      const gauge: Gauge<SessionLabels> = new Gauge({
        ...config,
        collect: () => {
          gauge.reset();
          each((labels, v) => gauge.set(labels, v));
        },
      });
    } else {
      // A counter has no set(): a reset, then one inc() by the session's own count, amounts to the same.
      const counter: Counter<SessionLabels> = new Counter({
        ...config,
        collect: () => {
          counter.reset();
          each((labels, v) => counter.inc(labels, v));
        },
      });
    }
  }

  private observedFor(name: string, kind: Kind): Observed {
    let o = this.observed.get(name);
    if (o?.kind !== kind) {
      if (o) this.streamOpen.remove({ session: name, kind: o.kind });
      o = { kind, errors: new Map() };
      this.observed.set(name, o);
    }
    return o;
  }

  /** Drops what the events told about sessions that no longer exist, so removed sessions leave no series behind. */
  private forget(): void {
    const live = new Set(this.sessions().map((s) => s.name));
    for (const [name, o] of this.observed) {
      if (live.has(name)) continue;
      this.observed.delete(name);
      this.streamOpen.remove({ session: name, kind: o.kind });
    }
  }
}

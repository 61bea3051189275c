/**
 * What a running session reports: its state machine, counters, bound listeners (and a gateway's destinations).
 * Shared by the daemon (which fills it) and kportctl (which prints it).
 */
import type { SessionSpec, TransportChoice } from '../../config/types.js';
import type { ErrorCode } from './errors.js';

/**
 * A session's lifecycle:
 * `starting` → `ready` ⇄ `waiting` (no ready pod / API unreachable; listeners stay bound)
 * → `backoff` (retrying with exponential backoff) → `failed` (needs the user; retried slowly) → `stopped`.
 */
export type SessionState = 'starting' | 'ready' | 'waiting' | 'backoff' | 'failed' | 'stopped';

/** Every state, in lifecycle order (for tables and validation). */
export const SESSION_STATES: readonly SessionState[] = ['starting', 'ready', 'waiting', 'backoff', 'failed', 'stopped'];

/** Which transitions a session may make; anything else is a bug. */
export const TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  starting: ['ready', 'waiting', 'backoff', 'failed', 'stopped'],
  ready: ['waiting', 'backoff', 'failed', 'stopped'],
  waiting: ['ready', 'backoff', 'failed', 'stopped'],
  backoff: ['ready', 'waiting', 'failed', 'stopped'],
  failed: ['starting', 'ready', 'waiting', 'backoff', 'stopped'],
  stopped: ['starting'],
};

/** The last failure a session saw. */
export interface SessionError {
  code: ErrorCode;
  message: string;
  /** ISO timestamp. */
  at: string;
}

/** Traffic and churn counters; bytes "in" flow cluster → local, "out" local → cluster. */
export interface SessionCounters {
  connectionsActive: number;
  connectionsTotal: number;
  bytesIn: number;
  bytesOut: number;
  /** Stream (re)opens that had to be retried. */
  reconnects: number;
  /** Times the session moved off a pod that went away or stopped being ready. */
  failovers: number;
  /** Proxy sessions: requests served (forwards: 0). */
  requests: number;
  /** Proxy sessions: requests the API server could not be reached for. */
  upstreamErrors: number;
}

/** A local listener as actually bound (the real port where 0 was asked). */
export interface BoundListener {
  /** IP address, or the socket path for a Unix-socket proxy. */
  address: string;
  /** 0 for Unix sockets. */
  port: number;
  /** Forwards: the remote port as written (number or name); proxies: null. */
  remote: number | string | null;
}

/** Connections a gateway carries to one destination right now. */
export interface DestinationCount {
  /** What the name resolved to: `svc/web.default:80`, `pod/db-0.default:5432`. */
  destination: string;
  active: number;
}

/** Where a session came from: kport.yaml, or added at runtime over RPC. */
export type SessionSource = 'config' | 'runtime';

/** A session's full report, as `session.get` returns it and `kportctl list` prints it. */
export interface SessionStatus {
  name: string;
  kind: SessionSpec['kind'];
  source: SessionSource;
  spec: SessionSpec;
  state: SessionState;
  /** Why it is in this state, in words. */
  reason: string;
  /** ISO timestamp of the last state change. */
  since: string;
  /** ISO timestamp of when the session was created. */
  created: string;
  listeners: BoundListener[];
  /** Pods currently receiving new connections (forwards). */
  pods: string[];
  /** Forwards: the transport that carried the last connection (spdy, spdy-websocket, websocket); null before any. */
  transport: Exclude<TransportChoice, 'auto'> | null;
  counters: SessionCounters;
  /** Gateways: open connections by destination, busiest first; [] for forwards and proxies. */
  destinations: DestinationCount[];
  lastError: SessionError | null;
  /** kportctl enable / disable's override of the spec's `enabled` (spec.enabled is the outcome); null when none. */
  override: 'enabled' | 'disabled' | null;
}

/** Zeroed counters. */
export function emptyCounters(): SessionCounters {
  return { connectionsActive: 0, connectionsTotal: 0, bytesIn: 0, bytesOut: 0, reconnects: 0, failovers: 0, requests: 0, upstreamErrors: 0 };
}

/**
 * The state every session shares, forward or proxy: the state machine with its reasons,
 * counters, bound listeners, current pods and last error. Each change emits `changed`.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { SessionSpec } from '../../config/types.js';
import type { KportError } from '../api/errors.js';
import { emptyCounters, TRANSITIONS, type BoundListener, type SessionSource, type SessionState, type SessionStatus } from '../api/session.js';

/** Emits `changed` (SessionStatus) after every state, listener, pod, connection or error change. */
export class SessionCore extends EventEmitter {
  private current: SessionState = 'starting';
  private why = 'starting';
  private sinceMs = Date.now();
  private readonly createdMs = Date.now();
  readonly counters = emptyCounters();
  private lastError: SessionStatus['lastError'] = null;
  private bound: BoundListener[] = [];
  private podNames: string[] = [];
  private carrier: SessionStatus['transport'] = null;
  /** Set by the supervisor, which owns kportctl's overrides, before the session starts; only reported here. */
  override: SessionStatus['override'] = null;

  constructor(
    readonly spec: SessionSpec,
    readonly source: SessionSource,
    readonly log: Logger,
  ) {
    super();
  }

  /** The current state. */
  get state(): SessionState {
    return this.current;
  }

  /** Moves to `next` (or updates the reason when already there); throws on a transition the machine forbids. */
  transition(next: SessionState, reason: string): void {
    if (next === this.current) {
      if (reason === this.why) return;
      this.why = reason;
    } else {
      if (!TRANSITIONS[this.current].includes(next)) throw new Error(`session ${this.spec.name}: no transition ${this.current} → ${next}`);
      this.log.info({ from: this.current, to: next, reason }, 'session state');
      this.current = next;
      this.why = reason;
      this.sinceMs = Date.now();
    }
    this.changed();
  }

  /** Records an error as the last error (and logs it); the caller decides the state. */
  recordError(err: KportError): void {
    this.lastError = { code: err.code, message: err.message, at: new Date().toISOString() };
    this.log.warn({ code: err.code, err: err.message }, 'session error');
    this.changed();
  }

  /** Replaces the list of bound listeners. */
  setListeners(listeners: BoundListener[]): void {
    this.bound = listeners;
    this.changed();
  }

  /** Replaces the list of pods receiving new connections; no event when unchanged. */
  setPods(pods: string[]): void {
    if (pods.length === this.podNames.length && pods.every((p, i) => p === this.podNames[i])) return;
    this.podNames = pods;
    this.changed();
  }

  /** Records the transport that carries the session's streams; no event when unchanged. */
  setTransport(transport: SessionStatus['transport']): void {
    if (transport === this.carrier) return;
    this.carrier = transport;
    this.changed();
  }

  /** Announces a change to subscribers. */
  changed(): void {
    this.emit('changed', this.status());
  }

  /** A snapshot for RPC and listings. */
  status(): SessionStatus {
    return {
      name: this.spec.name,
      kind: this.spec.kind,
      source: this.source,
      spec: this.spec,
      state: this.current,
      reason: this.why,
      since: new Date(this.sinceMs).toISOString(),
      created: new Date(this.createdMs).toISOString(),
      listeners: this.bound,
      pods: this.podNames,
      transport: this.carrier,
      counters: { ...this.counters },
      lastError: this.lastError,
      override: this.override,
    };
  }
}

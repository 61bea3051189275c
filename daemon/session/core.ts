/**
 * The state every session shares, forward, proxy or gateway: the state machine with its reasons,
 * counters, bound listeners, current pods (a gateway's destinations) and last error. Each change emits `changed`.
 *
 * What it logs stays readable however long a session fails: each state with its reason is logged
 * once, and again only once something else was logged in between; an error is logged once until a
 * different one (or a recovery) comes; `starting`, the step a retry goes through, is debug. A session
 * retrying a failure every 10 s thus logs the failure once, not three lines per retry; one in
 * backoff logs its step (the reason names the delay), one line each.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { SessionSpec } from '../../config/types.js';
import type { KportError } from '../api/errors.js';
import { emptyCounters, TRANSITIONS, type BoundListener, type DestinationCount, type SessionSource, type SessionState, type SessionStatus } from '../api/session.js';
import { isoTime } from '../iso-time.js';

/**
 * Connections opening and closing are announced at most this often, in one snapshot: a busy forward would otherwise
 * build and send one per connection, on the path of each new connection, to every `kportctl events`.
 */
const COUNTS_ANNOUNCE_MS = 250;

/**
 * Emits `changed` (SessionStatus) after every state, listener, pod or error change, and within COUNTS_ANNOUNCE_MS of
 * connections opening or closing. For observers that count events a snapshot cannot show (the metrics), also
 * `errorRecorded` (the ErrorCode) and `streamOpened` (ms).
 */
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
  /** The state and reason last logged, and the error: not logged again while they stay the same. */
  private loggedState = '';
  private loggedError = '';
  /** Set by the supervisor, which owns kportctl's overrides, before the session starts; only reported here. */
  override: SessionStatus['override'] = null;
  private byDestination: DestinationCount[] = [];
  private countsTimer: NodeJS.Timeout | null = null;

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
    const from = this.current;
    if (next === this.current) {
      if (reason === this.why) return;
      this.why = reason;
    } else {
      if (!TRANSITIONS[this.current].includes(next)) throw new Error(`session ${this.spec.name}: no transition ${this.current} → ${next}`);
      this.current = next;
      this.why = reason;
      this.sinceMs = Date.now();
    }
    this.logState(from);
    this.changed();
  }

  private logState(from: SessionState): void {
    const fields = { from, to: this.current, reason: this.why };
    if (this.current === 'starting') return this.log.debug(fields, 'session state');
    const key = `${this.current}\n${this.why}`;
    if (key === this.loggedState) return;
    this.loggedState = key;
    // Serving again: the next failure is news, even the same as the last one.
    if (this.current === 'ready') this.loggedError = '';
    if (this.current === 'failed') this.log.warn(fields, 'session state');
    else this.log.info(fields, 'session state');
  }

  /** Records an error as the last error (and logs it, unless it is the one last logged); the caller decides the state. */
  recordError(err: KportError): void {
    this.lastError = { code: err.code, message: err.message, at: isoTime() };
    const key = `${err.code}\n${err.message}`;
    if (key !== this.loggedError) {
      this.loggedError = key;
      this.log.warn({ code: err.code, err: err.message }, 'session error');
    }
    this.emit('errorRecorded', err.code);
    this.changed();
  }

  /** Reports how long a stream took to open, from the dial to an open stream (a forward calls it per connection). */
  observeStreamOpen(ms: number): void {
    this.emit('streamOpened', ms);
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

  /** Counts a newly accepted local connection. */
  connectionOpened(): void {
    this.counters.connectionsTotal++;
    this.counters.connectionsActive++;
    this.countsChanged();
  }

  /** Counts a local connection closed. */
  connectionClosed(): void {
    this.counters.connectionsActive--;
    this.countsChanged();
  }

  /** Replaces a gateway's open connections by destination (the caller sorts them). */
  setDestinations(destinations: DestinationCount[]): void {
    this.byDestination = destinations;
    this.countsChanged();
  }

  /** Announces a change to subscribers now (with the counts, so a pending announcement of them is dropped). */
  private changed(): void {
    if (this.countsTimer) clearTimeout(this.countsTimer);
    this.countsTimer = null;
    this.emit('changed', this.status());
  }

  /** Announces changed counts within COUNTS_ANNOUNCE_MS. */
  private countsChanged(): void {
    this.countsTimer ??= setTimeout(() => this.changed(), COUNTS_ANNOUNCE_MS);
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
      since: isoTime(this.sinceMs),
      created: isoTime(this.createdMs),
      listeners: this.bound,
      pods: this.podNames,
      transport: this.carrier,
      counters: { ...this.counters },
      destinations: this.byDestination,
      lastError: this.lastError,
      override: this.override,
    };
  }
}

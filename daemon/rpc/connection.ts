/**
 * One control connection and what bounds it: calls in flight (MAX_PENDING_CALLS), answer and notification bytes
 * queued but unread (MAX_UNREAD_BYTES: past it the connection is dropped, never buffered for), and liveness (a
 * ping per heartbeat; no pong by the next one ends it). Closing aborts `signal`, which releases every call still
 * pending for the connection.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { MAX_PENDING_CALLS, MAX_UNREAD_BYTES } from '../api/rpc.js';
import type { Caller } from './methods.js';

/** Where a connection's subscription goes (the server's broadcast). */
export interface Subscriptions {
  subscribe(conn: Connection, opts: { logs: boolean }): void;
}

/** A connected client. */
export class Connection implements Caller {
  private readonly aborter = new AbortController();
  /** Aborted once the connection has closed. */
  readonly signal = this.aborter.signal;
  private inFlight = 0;
  /** Bytes of batch answers computed and waiting for the rest of their batch. */
  private held = 0;
  private ponged = true;

  constructor(
    readonly ws: WebSocket,
    private readonly subscriptions: Subscriptions,
    private readonly log: Logger,
  ) {
    // Each pending call may listen for the abort; their number is bounded by MAX_PENDING_CALLS.
    setMaxListeners(MAX_PENDING_CALLS + 1, this.signal);
    ws.on('pong', () => (this.ponged = true));
  }

  subscribe(opts: { logs: boolean }): void {
    this.subscriptions.subscribe(this, opts);
  }

  /** Counts a call in; false (and not counted) when MAX_PENDING_CALLS are already in flight. */
  begin(): boolean {
    if (this.inFlight >= MAX_PENDING_CALLS) return false;
    this.inFlight++;
    return true;
  }

  /** Counts a call out. */
  end(): void {
    this.inFlight--;
  }

  /** Sends `text` unless the connection is gone; drops the connection when its unread bytes would pass the limit. */
  write(text: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.overLimit(Buffer.byteLength(text))) return;
    this.ws.send(text);
  }

  /** Sends one JSON message. */
  send(payload: unknown): void {
    this.write(JSON.stringify(payload));
  }

  /** Keeps one answer of a batch until the batch is complete; its bytes count as unread from now on. */
  hold(payload: unknown): string {
    const text = JSON.stringify(payload);
    const bytes = Buffer.byteLength(text);
    this.overLimit(bytes);
    this.held += bytes;
    return text;
  }

  /** Sends a batch's held answers as one array. */
  sendHeld(texts: string[]): void {
    for (const t of texts) this.held -= Buffer.byteLength(t);
    if (texts.length > 0) this.write(`[${texts.join(',')}]`);
  }

  /** True, and the connection dropped, when `bytes` more would pass MAX_UNREAD_BYTES. */
  private overLimit(bytes: number): boolean {
    const unread = this.ws.bufferedAmount + this.held + bytes;
    if (unread <= MAX_UNREAD_BYTES) return false;
    this.log.warn({ unread, limit: MAX_UNREAD_BYTES }, 'control client disconnected: it left too many answers unread');
    // close() would queue its frame behind the unread bytes; the point is to let them go.
    this.ws.terminate();
    return true;
  }

  /** Called every heartbeat: ends a connection that did not answer the last ping, then pings again. */
  heartbeat(): void {
    if (!this.ponged) return void this.ws.terminate();
    this.ponged = false;
    this.ws.ping();
  }

  /** Releases everything pending for the connection (it has closed). */
  close(): void {
    this.aborter.abort();
  }
}

/**
 * Notifications to subscribed connections: one listener on each of the daemon's sources however many clients
 * subscribe (so no source ever nears its listener limit), each notification serialised once for all of them.
 * The log source is listened to only while some connection wants logs: the tap parses lines only then.
 */
import type { EventEmitter } from 'node:events';
import type { Notifications } from '../api/rpc.js';
import type { Connection, Subscriptions } from './connection.js';

/** Where notifications come from. */
export interface EventSources {
  /** Emits `session.changed` and `session.removed`. */
  sessions: EventEmitter;
  /** Emits `record` per log line. */
  logs: EventEmitter;
}

const message = <N extends keyof Notifications>(method: N, params: Notifications[N]) => JSON.stringify({ jsonrpc: '2.0', method, params });

/** The subscribers of one server. */
export class Broadcast implements Subscriptions {
  private readonly sessions = new Set<Connection>();
  private readonly logs = new Set<Connection>();

  constructor(private readonly sources: EventSources) {
    sources.sessions.on('session.changed', this.onChanged);
    sources.sessions.on('session.removed', this.onRemoved);
  }

  private readonly onChanged = (s: Notifications['session.changed']) => this.send(this.sessions, () => message('session.changed', s));
  private readonly onRemoved = (r: Notifications['session.removed']) => this.send(this.sessions, () => message('session.removed', r));
  private readonly onRecord = (r: Notifications['log']) => this.send(this.logs, () => message('log', r));

  private send(to: ReadonlySet<Connection>, text: () => string): void {
    // Sessions change with every connection they accept: serialise only when someone listens.
    if (to.size === 0) return;
    const once = text();
    for (const conn of to) conn.write(once);
  }

  /** Session notifications for `conn` from now on, and log ones too with `logs`; subscribing again adds nothing. */
  subscribe(conn: Connection, { logs }: { logs: boolean }): void {
    this.sessions.add(conn);
    if (!logs || this.logs.has(conn)) return;
    if (this.logs.size === 0) this.sources.logs.on('record', this.onRecord);
    this.logs.add(conn);
  }

  /** No more notifications for `conn` (it has closed). */
  remove(conn: Connection): void {
    this.sessions.delete(conn);
    if (this.logs.delete(conn) && this.logs.size === 0) this.sources.logs.off('record', this.onRecord);
  }

  /** Detaches from the sources (the server is closing). */
  close(): void {
    this.sources.sessions.off('session.changed', this.onChanged);
    this.sources.sessions.off('session.removed', this.onRemoved);
    this.sources.logs.off('record', this.onRecord);
  }
}

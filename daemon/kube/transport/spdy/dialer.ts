/**
 * The SPDY transports' dialer: one session per pod, opened on the pod's first connection and
 * shared by every later one; each connection is a stream pair inside it. Concurrent first
 * connections share one upgrade. A session that is full, stalled (a slow reader holds it up) or
 * going away takes no new pairs: the next connection opens another session to the same pod, so one
 * slow local reader never freezes new connections. Sessions close after SESSION_DEFAULTS.idleCloseMs
 * without streams and when their pod stops being a target (`forget`); nothing is dialed ahead.
 */
import { KportError } from '../../../api/errors.js';
import type { PodDialer, PodPort, PodStream, TransportName } from '../types.js';
import { PortForwardStream } from './portforward.js';
import { SpdySession, type SessionOptions } from './session.js';
import type { SessionConnector } from './upgrade.js';

/** A session unheard from for this long is pinged before a new connection is trusted to it (after sleep, a NAT drop). */
const REUSE_PING_AFTER_MS = 30_000;
const REUSE_PING_TIMEOUT_MS = 2_000;

const keyOf = (t: Pick<PodPort, 'namespace' | 'pod'>) => `${t.namespace}/${t.pod}`;

/** Dials port-forward stream pairs over per-pod SPDY sessions. */
export class SpdyDialer implements PodDialer {
  private readonly sessions = new Map<string, SpdySession[]>();
  private readonly opening = new Map<string, Promise<SpdySession>>();
  private nextRequestId = 0;
  private closed = false;

  constructor(
    readonly transport: TransportName,
    private readonly connect: SessionConnector,
    private readonly options: Partial<SessionOptions> = {},
  ) {}

  /**
   * A stream pair in a session with room for it: an open one, the one being opened, or a new one. The pair is
   * opened in the same turn as the room is checked, so connections that waited together cannot overfill a session.
   */
  async dial(target: PodPort, signal?: AbortSignal): Promise<PodStream> {
    const key = keyOf(target);
    for (const s of this.sessions.get(key) ?? []) {
      if (!s.accepts(2)) continue;
      if (s.idleMs() < REUSE_PING_AFTER_MS || (await s.ping(REUSE_PING_TIMEOUT_MS))) {
        if (s.accepts(2)) return this.pair(s, target);
        continue;
      }
      s.destroy(new KportError('API_UNREACHABLE', `the SPDY session to pod ${target.pod} did not answer a ping after ${Math.round(s.idleMs() / 1000)} s of silence`));
    }
    let opening = this.opening.get(key);
    const mine = !opening;
    if (!opening) {
      opening = this.open(key, target, signal);
      this.opening.set(key, opening);
      const clear = () => this.opening.get(key) === opening && this.opening.delete(key);
      opening.then(clear, clear);
    }
    const session = await opening;
    if (session.accepts(2)) return this.pair(session, target);
    if (mine) throw new KportError('STREAM_REFUSED', `a new SPDY session to pod ${target.pod} takes no streams`);
    // Many connections waited for one upgrade; those it has no room for open the next.
    return this.dial(target, signal);
  }

  private pair(session: SpdySession, target: PodPort): PortForwardStream {
    return new PortForwardStream(session, target.port, this.nextRequestId++);
  }

  forget(target: Pick<PodPort, 'namespace' | 'pod'>): void {
    for (const s of this.sessions.get(keyOf(target)) ?? []) s.close();
    this.sessions.delete(keyOf(target));
  }

  close(): void {
    this.closed = true;
    for (const list of this.sessions.values()) for (const s of list) s.close();
    this.sessions.clear();
  }

  private async open(key: string, target: PodPort, signal?: AbortSignal): Promise<SpdySession> {
    const socket = await this.connect(target, signal);
    if (this.closed) {
      socket.destroy();
      throw new KportError('SHUTTING_DOWN', 'forward stopped');
    }
    const session = new SpdySession(socket, `pod ${target.pod}`, this.options);
    const list = this.sessions.get(key) ?? [];
    list.push(session);
    this.sessions.set(key, list);
    const drop = () => {
      const now = (this.sessions.get(key) ?? []).filter((s) => s !== session);
      if (now.length > 0) this.sessions.set(key, now);
      else this.sessions.delete(key);
    };
    session.once('goaway', drop);
    session.once('close', drop);
    return session;
  }
}

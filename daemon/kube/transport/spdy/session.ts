/**
 * A client SPDY/3.1 session over one upgraded connection: the read loop, the stream table,
 * liveness (PING), GOAWAY and RST_STREAM both ways. The peer is the API server and kubelet's
 * spdystream, which has no flow control (it sends no WINDOW_UPDATE and ignores ours) and delivers
 * each stream's DATA through an unbuffered channel: so kport never waits for window, bounds what it
 * buffers per stream, and reports a session that is held up (`stalled`) so that new connections go
 * to another session instead of queueing behind one slow reader. (Connections already on a session
 * when it stalls wait with it: that is spdystream's design, and kubectl's forwards share it.)
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { KportError } from '../../../api/errors.js';
import { writeCoalesced } from '../../../io/coalesce.js';
import { dataHeader, FrameError, FrameReader, goAway, GoAwayStatus, MAX_DATA_LENGTH, ping, rstStream, RstStatus, Setting, synStream, type Frame } from './framer.js';
import { HeaderDecoder, HeaderEncoder, type Headers } from './headers.js';
import { SpdyStream, type StreamHandler, type StreamOwner } from './stream.js';

/** How a session behaves; every field has a default (SESSION_DEFAULTS). */
export interface SessionOptions {
  /** Streams open at once at most (a port-forward connection takes two). */
  maxStreams: number;
  /** Send a PING after this long with nothing received. */
  pingIntervalMs: number;
  /** A PING unanswered for this long means the connection is dead. */
  pingTimeoutMs: number;
  /** Close the session after this long without streams. */
  idleCloseMs: number;
}

export const SESSION_DEFAULTS: SessionOptions = {
  maxStreams: 512,
  pingIntervalMs: 15_000,
  pingTimeoutMs: 5_000,
  idleCloseMs: 5 * 60_000,
};

/** Above this many bytes queued on the connection, stream writes wait for it to drain. */
const WRITE_HIGH_WATER = 1 << 20;
/** How long a cleanly closed connection may take to close from the peer's side. */
const CLOSE_GRACE_MS = 5_000;
/** The highest stream id SPDY allows. */
const MAX_STREAM_ID = 0x7fffffff;

/** One SPDY session; emits `close` (KportError | null) once, when it is gone. */
export class SpdySession extends EventEmitter implements StreamOwner {
  private readonly reader = new FrameReader(new HeaderDecoder());
  private readonly encoder = new HeaderEncoder();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly held = new Set<SpdyStream>();
  private waiters: ((err?: Error | null) => void)[] = [];
  private nextId = 1;
  private nextPingId = 1;
  private pending: { id: number; resolve: (ok: boolean) => void; timer: NodeJS.Timeout }[] = [];
  private lastFrameAt = performance.now();
  private peerMaxStreams = Infinity;
  private goingAway = false;
  private peerWentAway = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly liveness: NodeJS.Timeout;
  private readonly opts: SessionOptions;

  constructor(
    private readonly socket: Duplex,
    /** Names the session in errors ("pod web-1"). */
    readonly label: string,
    opts: Partial<SessionOptions> = {},
  ) {
    super();
    this.opts = { ...SESSION_DEFAULTS, ...opts };
    socket.on('data', this.socketOnData);
    socket.on('drain', this.socketOnDrain);
    socket.on('end', this.socketOnEnd);
    socket.on('error', this.socketOnError);
    socket.on('close', this.socketOnClose);
    this.liveness = setInterval(this.checkLiveness, this.opts.pingIntervalMs).unref();
    this.armIdle();
  }

  /** Streams open now. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** True once GOAWAY was sent or received, or the connection is gone: no new streams. */
  get draining(): boolean {
    return this.goingAway || this.closed;
  }

  /**
   * Held up now: kport holds reads for a stream whose reader is behind, or the peer is not taking
   * writes. Every stream of the session waits while it is (spdystream has one unbuffered channel per
   * stream and no flow control), so a new stream put here could wait as long as the slowest reader.
   */
  get stalled(): boolean {
    return this.held.size > 0 || this.waiters.length > 0;
  }

  /** Whether `n` more streams may open here now. */
  accepts(n: number): boolean {
    const room = Math.min(this.opts.maxStreams, this.peerMaxStreams) - this.streams.size;
    return !this.draining && !this.stalled && room >= n && this.nextId + 2 * n <= MAX_STREAM_ID;
  }

  /** Milliseconds since the peer last sent anything. */
  idleMs(): number {
    return performance.now() - this.lastFrameAt;
  }

  /** Opens a stream now (SYN_STREAM goes out at once; no wait for the reply). */
  open(headers: Headers, handler: StreamHandler): SpdyStream {
    if (!this.accepts(1)) throw new KportError('STREAM_REFUSED', `the SPDY session to ${this.label} takes no new streams`);
    const stream = new SpdyStream(this.nextId, this, handler);
    this.nextId += 2;
    this.streams.set(stream.id, stream);
    this.clearIdle();
    this.socket.write(synStream(stream.id, this.encoder.encode(headers)));
    return stream;
  }

  /** Runs `fn` with the connection corked, so the frames it writes leave in one write. */
  batch<T>(fn: () => T): T {
    this.socket.cork();
    try {
      return fn();
    } finally {
      this.socket.uncork();
    }
  }

  /** Sends a PING; resolves true when answered within `timeoutMs`, false otherwise (or if closed). */
  ping(timeoutMs = this.opts.pingTimeoutMs): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const id = this.nextPingId;
    this.nextPingId = this.nextPingId + 2 > MAX_STREAM_ID ? 1 : this.nextPingId + 2;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settlePing(id, false), timeoutMs).unref();
      this.pending.push({ id, resolve, timer });
      this.socket.write(ping(id));
    });
  }

  /**
   * Takes no new streams and closes once the open ones are done. GOAWAY goes out only then:
   * spdystream stops reading the moment it gets one, which would cut replies still in flight.
   */
  close(): void {
    if (this.closed) return;
    this.goingAway = true;
    if (this.streams.size === 0) this.goneAway();
  }

  /** Cuts the connection now; every open stream ends with `err`. */
  destroy(err: KportError): void {
    this.end(err);
  }

  // ---- StreamOwner ---------------------------------------------------------------------------------

  writeData(stream: SpdyStream, chunk: Buffer, fin: boolean, cb?: (err?: Error | null) => void): void {
    if (this.closed || stream.closed || stream.localFin) {
      cb?.(new Error(`write on a closed SPDY stream (${this.label})`));
      return;
    }
    // A turn's DATA frames, from every stream of the session, leave as one write (writeCoalesced).
    let at = 0;
    do {
      const piece = chunk.length - at > MAX_DATA_LENGTH ? chunk.subarray(at, at + MAX_DATA_LENGTH) : at === 0 ? chunk : chunk.subarray(at);
      at += piece.length;
      const header = dataHeader(stream.id, piece.length, fin && at >= chunk.length);
      if (piece.length > 0) writeCoalesced(this.socket, header, piece);
      else writeCoalesced(this.socket, header);
    } while (at < chunk.length);
    if (fin) {
      stream.localFin = true;
      if (stream.remoteFin) this.forget(stream);
    }
    if (!cb) return;
    if (this.socket.writableLength < WRITE_HIGH_WATER) return cb();
    this.waiters.push(cb);
  }

  reset(stream: SpdyStream): void {
    if (stream.closed) return;
    const finished = stream.localFin && stream.remoteFin;
    this.forget(stream);
    if (!finished && !this.closed) this.socket.write(rstStream(stream.id, RstStatus.CANCEL));
  }

  hold(stream: SpdyStream): void {
    if (stream.closed || this.held.has(stream)) return;
    this.held.add(stream);
    this.socket.pause();
  }

  release(stream: SpdyStream): void {
    if (!this.held.delete(stream) || this.held.size > 0) return;
    if (!this.closed) this.socket.resume();
  }

  // ---- reading -------------------------------------------------------------------------------------

  private readonly socketOnData = (chunk: Buffer): void => {
    this.lastFrameAt = performance.now();
    this.reader.push(chunk);
    try {
      for (let f = this.reader.next(); f && !this.closed; f = this.reader.next()) this.onFrame(f);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      if (!this.closed) this.socket.write(goAway(0, GoAwayStatus.PROTOCOL_ERROR));
      this.end(new KportError('STREAM_ERROR', `the SPDY session to ${this.label} broke the protocol: ${err.message}`));
    }
  };

  private onFrame(f: Frame): void {
    switch (f.type) {
      case 'data': {
        const s = this.streams.get(f.streamId);
        // DATA for a stream we reset or finished: spdystream ignores it too.
        if (!s || s.remoteFin) return;
        if (f.data.length > 0) s.handler.data(f.data);
        if (f.fin) this.remoteFin(s);
        return;
      }
      case 'syn_reply': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        s.replied = true;
        if (f.fin) this.remoteFin(s);
        return;
      }
      case 'rst_stream': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        this.forget(s);
        s.handler.abort(new KportError('STREAM_ERROR', `the API server reset the stream (${RST_NAMES[f.status] ?? `status ${f.status}`})`));
        return;
      }
      case 'ping':
        // Odd ids are ours (we are the client): an answer. Even ones are the server's: echo them.
        if (f.id % 2 === 1) this.settlePing(f.id, true);
        else this.answer(ping(f.id));
        return;
      case 'goaway':
        return this.onGoAway(f.lastGoodStreamId);
      case 'settings':
        for (const s of f.settings) if (s.id === Setting.MAX_CONCURRENT_STREAMS) this.peerMaxStreams = s.value;
        return;
      case 'syn_stream':
        // The server never opens streams in port-forward; refuse rather than track one.
        this.answer(rstStream(f.streamId, RstStatus.REFUSED_STREAM));
        return;
      case 'headers': {
        // No use for trailing headers; their FIN still ends the stream's incoming side.
        const s = this.streams.get(f.streamId);
        if (s && !s.remoteFin && f.fin) this.remoteFin(s);
        return;
      }
      case 'window_update':
      case 'unknown':
        // No flow control (spdystream has none).
        return;
    }
  }

  /**
   * Writes what a frame of the server's asks for (a PING's echo, a refusal), unless the connection holds a
   * backlog already: a server that floods them and reads nothing must not make kport queue without bound.
   */
  private answer(frame: Buffer): void {
    if (this.socket.writableLength < WRITE_HIGH_WATER) this.socket.write(frame);
  }

  private remoteFin(s: SpdyStream): void {
    s.remoteFin = true;
    // Nothing more will come for it, so its reader being behind holds up no one.
    this.release(s);
    if (s.localFin) this.forget(s);
    s.handler.end();
  }

  private onGoAway(lastGood: number): void {
    this.goingAway = true;
    this.peerWentAway = true;
    this.emit('goaway');
    // Streams above the last one the server took were never processed: they may be retried.
    for (const s of [...this.streams.values()]) {
      if (s.id > lastGood && lastGood > 0) {
        this.forget(s);
        s.handler.abort(new KportError('STREAM_REFUSED', `the API server went away before stream ${s.id} was processed`));
      }
    }
    if (this.streams.size === 0) this.goneAway();
  }

  /** The last stream of a session going away is done: say GOAWAY (unless the peer did) and close. */
  private goneAway(): void {
    if (!this.peerWentAway && !this.closed) this.socket.write(goAway(0, GoAwayStatus.OK));
    this.end(null);
  }

  private settlePing(id: number, ok: boolean): void {
    const i = this.pending.findIndex((p) => p.id === id);
    if (i < 0) return;
    const [p] = this.pending.splice(i, 1);
    clearTimeout(p!.timer);
    p!.resolve(ok);
  }

  /**
   * Every pingIntervalMs: a session that has heard nothing for that long is pinged; no answer in
   * pingTimeoutMs and it is dead. Skipped while kport itself holds reads (the pong would sit unread)
   * or the peer is not taking writes (then it is `stalled`, which already diverts new connections).
   */
  private readonly checkLiveness = (): void => {
    if (this.closed || this.pending.length > 0 || this.held.size > 0 || this.waiters.length > 0) return;
    if (this.idleMs() < this.opts.pingIntervalMs) return;
    void this.ping().then((ok) => {
      if (!ok && !this.closed) this.end(new KportError('API_UNREACHABLE', `the SPDY session to ${this.label} stopped answering pings`));
    });
  };

  // ---- the connection -----------------------------------------------------------------------------

  private readonly socketOnDrain = (): void => {
    const waiters = this.waiters;
    this.waiters = [];
    for (const cb of waiters) cb();
  };

  private readonly socketOnEnd = (): void => this.end(this.streams.size > 0 ? new KportError('STREAM_ERROR', `the API server closed the SPDY session to ${this.label}`) : null);
  private readonly socketOnError = (err: Error): void => this.end(new KportError('API_UNREACHABLE', `the SPDY session to ${this.label} failed: ${err.message}`));
  private readonly socketOnClose = (): void => this.end(this.streams.size > 0 ? new KportError('API_UNREACHABLE', `the SPDY session to ${this.label} was cut`) : null);

  private forget(s: SpdyStream): void {
    s.closed = true;
    this.streams.delete(s.id);
    this.release(s);
    if (this.streams.size > 0) return;
    if (this.goingAway) this.goneAway();
    else this.armIdle();
  }

  private armIdle(): void {
    this.clearIdle();
    this.idleTimer = setTimeout(() => this.close(), this.opts.idleCloseMs).unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private end(err: KportError | null): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.liveness);
    this.clearIdle();
    for (const p of this.pending.splice(0)) (clearTimeout(p.timer), p.resolve(false));
    const streams = [...this.streams.values()];
    this.streams.clear();
    const why = err ?? new KportError('STREAM_ERROR', `the SPDY session to ${this.label} closed`);
    for (const s of streams) (s.closed = true), s.handler.abort(why);
    for (const cb of this.waiters.splice(0)) cb(why);
    if (err) {
      // Frames held for the end of this turn (a GOAWAY for a protocol error) still leave before the cut.
      while (this.socket.writableCorked > 0) this.socket.uncork();
      this.socket.destroy();
    } else {
      // The peer closes on our FIN; one that does not is cut after a grace period (no fd is kept).
      this.socket.end();
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    }
    this.emit('close', err);
  }
}

const RST_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RstStatus).map(([k, v]) => [v, k]));

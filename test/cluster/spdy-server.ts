/**
 * One SPDY/3.1 server connection, run the way the kubelet's spdystream runs it (moby/spdystream
 * connection.go and stream.go), odd parts included, because clients must cope with exactly those:
 * - every SYN_STREAM gets a SYN_REPLY at once, unless its handler refuses it (then RST_STREAM
 *   CANCEL, as apimachinery's newSpdyStream does with `stream.Reset()`); a stream id lower than one
 *   already seen gets RST_STREAM PROTOCOL_ERROR;
 * - no flow control: no WINDOW_UPDATE is ever sent and received ones are ignored (as are SETTINGS
 *   and HEADERS);
 * - unbuffered streams: each DATA payload is handed to its stream's reader, and while one reader
 *   cannot take it the whole connection stops reading (spdystream's unbuffered channel blocks its
 *   frame worker, then the read loop) — PINGs included;
 * - PINGs with the client's (odd) ids are echoed; even ids would answer pings this side never sends;
 * - after the client's GOAWAY nothing more is read: open streams finish, then the socket closes.
 * The socket is any Duplex: a TLS socket after `101`, or a WebSocket carrying the same bytes.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { dataHeader, FrameError, FrameReader, goAway, GoAwayStatus, ping, rstStream, RstStatus, synReply, type Frame } from '../../daemon/kube/transport/spdy/framer.js';
import { HeaderDecoder, HeaderEncoder, type Headers } from '../../daemon/kube/transport/spdy/headers.js';

/** Where an accepted stream's incoming side goes once its handler is ready for it. */
export interface StreamSink {
  /** One DATA payload piece; false stalls the whole connection until the stream's `resume()`. */
  data(chunk: Buffer): boolean;
  /** The client's FIN: it sends no more. */
  end(): void;
  /** RST_STREAM from the client, or the connection is gone: stop at once, send nothing. */
  reset(): void;
}

/** What the connection asks of the protocol served over it (port-forward, in the kubelet). */
export interface StreamHandler {
  /** Why a new stream is refused (it is reset), or null to accept it. */
  refuse(headers: Headers): string | null;
  /** A stream that has just been replied to. */
  accepted(stream: SpdyStream): void;
  /** The socket has written out what was queued: senders held back by `write() === false` may go on. */
  drained(): void;
}

/** The faults a connection reads live, at every frame. */
export interface ConnectionFaults {
  /** PINGs are read and dropped: the connection otherwise works (a half-dead path). */
  swallowPings: boolean;
}

/** One stream of a connection, as the handler sees it. */
export class SpdyStream {
  private sink: StreamSink | null = null;
  /** Payload that arrived before a sink was attached (a data stream whose error stream is late). */
  private early: Buffer[] = [];
  /** The client sent FIN. */
  remoteDone = false;
  /** This side sent FIN. */
  localDone = false;
  /** Reset by either side, or the connection is gone. */
  isReset = false;

  constructor(
    readonly id: number,
    readonly headers: Headers,
    private readonly conn: SpdyServerConnection,
  ) {}

  /** Starts delivering the client's side to `sink`, first whatever arrived before. */
  attach(sink: StreamSink): void {
    this.sink = sink;
    if (this.isReset) return sink.reset();
    for (const chunk of this.early.splice(0)) if (!sink.data(chunk)) this.conn.stall(this);
    if (this.remoteDone) sink.end();
  }

  /** Sends one DATA frame; false while the connection's socket is backed up (wait for `drained()`). */
  write(chunk: Buffer): boolean {
    if (this.localDone || this.isReset || chunk.length === 0) return true;
    return this.conn.send(dataHeader(this.id, chunk.length), chunk);
  }

  /** Sends FIN (an empty DATA frame with FLAG_FIN); once. */
  end(): void {
    if (this.localDone || this.isReset) return;
    this.localDone = true;
    this.conn.send(dataHeader(this.id, 0, true));
    this.conn.settle(this);
  }

  /** Ends a stall this stream caused (its reader can take data again). */
  resume(): void {
    this.conn.unstall(this);
  }

  /** DATA from the client. */
  received(chunk: Buffer, fin: boolean): void {
    // spdystream drops data after the stream's remote side closed.
    if (this.remoteDone || this.isReset) return;
    if (chunk.length > 0) {
      if (!this.sink) this.early.push(chunk);
      else if (!this.sink.data(chunk)) this.conn.stall(this);
    }
    if (fin) this.remoteEnded();
  }

  /** The client sends no more (its FIN, or its GOAWAY). */
  remoteEnded(): void {
    if (this.remoteDone || this.isReset) return;
    this.remoteDone = true;
    this.sink?.end();
    this.conn.settle(this);
  }

  /** Tears the stream down; `notify` sends RST_STREAM CANCEL to the client. */
  reset(notify: boolean): void {
    if (this.isReset) return;
    this.isReset = true;
    if (notify) this.conn.send(rstStream(this.id, RstStatus.CANCEL));
    this.sink?.reset();
    this.conn.settle(this);
  }

  /** True when an attached sink exists (a paired stream). */
  get attached(): boolean {
    return this.sink !== null;
  }
}

type State = 'open' | 'goneaway' | 'closed';

/** A server-side SPDY/3.1 connection. Events: `close` once, when the socket has gone. */
export class SpdyServerConnection extends EventEmitter {
  private readonly reader = new FrameReader(new HeaderDecoder());
  private readonly encoder = new HeaderEncoder();
  private readonly streams = new Map<number, SpdyStream>();
  /** Streams whose reader cannot take more: while any, nothing is read. */
  private readonly stalledBy = new Set<SpdyStream>();
  /** The lowest id the client may open next (spdystream's receivedStreamId). */
  private nextClientId = 1;
  private state: State = 'open';
  private pumping = false;

  constructor(
    private readonly socket: Duplex,
    private readonly handler: StreamHandler,
    private readonly faults: ConnectionFaults,
  ) {
    super();
    socket.on('data', this.onSocketData);
    socket.on('drain', this.onSocketDrain);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
  }

  /** Streams open now (not both sides finished, not reset). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** True while a stream's reader holds up the whole connection (nothing is read). */
  get stalled(): boolean {
    return this.stalledBy.size > 0;
  }

  /** Starts reading: `head` holds bytes that came with the upgrade request. */
  start(head: Buffer): void {
    this.reader.push(head);
    this.pump();
  }

  /**
   * Closes as the kubelet does when it is done with a connection (apimachinery's `Close`): resets
   * every stream, sends GOAWAY, ends the socket.
   */
  close(): void {
    if (this.state === 'closed') return;
    for (const s of [...this.streams.values()]) s.reset(true);
    this.send(goAway(Math.max(0, this.nextClientId - 2), GoAwayStatus.OK));
    this.finish();
  }

  /** Cuts the socket without a word (a network drop). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Writes frames as one burst; false once the socket is backed up. */
  send(...frames: Buffer[]): boolean {
    if (this.state === 'closed' || this.socket.destroyed || !this.socket.writable) return true;
    this.socket.cork();
    for (const f of frames) this.socket.write(f);
    this.socket.uncork();
    return !this.socket.writableNeedDrain;
  }

  /** Stops reading until `stream` resumes. */
  stall(stream: SpdyStream): void {
    this.stalledBy.add(stream);
    this.socket.pause();
  }

  unstall(stream: SpdyStream): void {
    if (!this.stalledBy.delete(stream) || this.stalledBy.size > 0) return;
    this.socket.resume();
    this.pump();
  }

  /** Forgets a stream once both sides are done or it was reset; the last one ends a goneaway connection. */
  settle(stream: SpdyStream): void {
    if (!stream.isReset && !(stream.localDone && stream.remoteDone)) return;
    this.streams.delete(stream.id);
    this.unstall(stream);
    if (this.state === 'goneaway' && this.streams.size === 0) this.finish();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    // Go's conn.Close(): whatever is queued goes out, then the connection is gone both ways.
    this.socket.once('finish', () => this.socket.destroy());
    this.socket.end();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.state === 'open' && this.stalledBy.size === 0) {
        const frame = this.reader.next();
        if (!frame) break;
        this.onFrame(frame);
      }
    } catch (err) {
      // spdystream's read loop ends on a frame it cannot parse, and the connection with it.
      if (!(err instanceof FrameError)) throw err;
      this.destroy();
    } finally {
      this.pumping = false;
    }
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'syn_stream':
        return this.openStream(frame);
      case 'data':
        // DATA for a stream that is unknown or gone is dropped, as spdystream does.
        return this.streams.get(frame.streamId)?.received(frame.data, frame.fin);
      case 'rst_stream':
        return this.streams.get(frame.streamId)?.reset(false);
      case 'ping':
        if (!this.faults.swallowPings && frame.id % 2 === 1) this.send(ping(frame.id));
        return;
      case 'goaway':
        return this.goneAway();
      default:
        // SYN_REPLY (this side opens no streams), SETTINGS, WINDOW_UPDATE (no flow control here),
        // HEADERS (the kubelet never reads them) and unknown types: ignored.
        return;
    }
  }

  private openStream(frame: Extract<Frame, { type: 'syn_stream' }>): void {
    const id = frame.streamId;
    if (id < this.nextClientId) return void this.send(rstStream(id, RstStatus.PROTOCOL_ERROR));
    this.nextClientId = id + 2;
    if (this.handler.refuse(frame.headers) !== null) return void this.send(rstStream(id, RstStatus.CANCEL));
    const stream = new SpdyStream(id, frame.headers, this);
    this.streams.set(id, stream);
    this.send(synReply(id, this.encoder.encode({})));
    if (frame.unidirectional) stream.localDone = true;
    if (frame.fin) stream.remoteEnded();
    this.handler.accepted(stream);
  }

  /**
   * The client's GOAWAY: spdystream stops reading, its streams' readers see EOF, and the
   * connection closes once every stream is done. A stream that never got its pair partner is
   * reset: it would otherwise wait out the kubelet's stream-creation timeout.
   */
  private goneAway(): void {
    this.state = 'goneaway';
    this.stalledBy.clear();
    this.socket.resume();
    for (const s of [...this.streams.values()]) {
      if (s.attached) s.remoteEnded();
      else s.reset(true);
    }
    if (this.streams.size === 0) this.finish();
  }

  private readonly onSocketData = (chunk: Buffer): void => {
    // After GOAWAY (or close) bytes are read only so that the client's close is seen.
    if (this.state !== 'open') return;
    this.reader.push(chunk);
    this.pump();
  };

  private readonly onSocketDrain = (): void => this.handler.drained();

  /** The client's end of the byte stream without GOAWAY: spdystream's read loop ends, and the connection. */
  private readonly onSocketEnd = (): void => {
    if (this.state === 'open') this.destroy();
  };

  private readonly onSocketError = (): void => this.destroy();

  private readonly onSocketClose = (): void => {
    this.state = 'closed';
    for (const s of [...this.streams.values()]) s.reset(false);
    this.streams.clear();
    this.stalledBy.clear();
    this.emit('close');
  };
}

/**
 * One SPDY stream inside a session: its id, its half-close state on each side, and where the
 * peer's DATA goes. Not a Node stream itself: the port-forward pair above it (portforward.ts) is
 * the Duplex the forward engine pipes, so bytes cross one stream layer, not two.
 */
import type { KportError } from '../../../api/errors.js';

/** What a stream's owner does with what arrives for it (called synchronously, in frame order). */
export interface StreamHandler {
  data(chunk: Buffer): void;
  /** The peer sent FIN: no more data will come. */
  end(): void;
  /** The stream was reset or its session died. */
  abort(err: KportError): void;
}

/** What a stream asks of its session. */
export interface StreamOwner {
  writeData(stream: SpdyStream, chunk: Buffer, fin: boolean, cb?: (err?: Error | null) => void): void;
  reset(stream: SpdyStream): void;
  hold(stream: SpdyStream): void;
  release(stream: SpdyStream): void;
}

/** A stream's state; the session drops it from its table once both sides are finished or it is reset. */
export class SpdyStream {
  /** This side sent FIN. */
  localFin = false;
  /** The peer sent FIN. */
  remoteFin = false;
  /** Reset, or its session is gone. */
  closed = false;
  /** The peer answered the SYN_STREAM. */
  replied = false;

  constructor(
    readonly id: number,
    private readonly owner: StreamOwner,
    public handler: StreamHandler,
  ) {}

  /** Sends DATA; `cb` runs once the session can take more (the shared socket's backpressure). */
  write(chunk: Buffer, cb?: (err?: Error | null) => void): void {
    this.owner.writeData(this, chunk, false, cb);
  }

  /** Half-closes this side (an empty DATA frame with FIN). */
  end(cb?: (err?: Error | null) => void): void {
    this.owner.writeData(this, Buffer.alloc(0), true, cb);
  }

  /** Abandons the stream (RST_STREAM CANCEL) unless it is already finished. */
  reset(): void {
    this.owner.reset(this);
  }

  /**
   * Stops reading the session until `release`: the peer (spdystream) has no flow control, so the
   * only way to stop one stream's sender is to stop reading the connection it shares.
   */
  hold(): void {
    this.owner.hold(this);
  }

  release(): void {
    this.owner.release(this);
  }
}

/**
 * A v4.channel.k8s.io port-forward WebSocket as a PodStream. v4 has no half-close: after the local
 * side ends, the stream stays open until the pod closes it or DRAIN_MS pass without data from it
 * (not counting time in which kport itself holds the pod back for a slow local reader).
 */
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { KportError } from '../../../api/errors.js';
import { ChannelProtocolError, ChannelReader, dataChannel, encodeFrame } from './channel.js';

/** Above this many bytes queued on the WebSocket, writes wait for it to drain. */
const HIGH_WATER = 1 << 20;
/** The close code ws reports for a connection that ended without a close frame. */
const CUT = 1006;
/** How long after the local side ended, since the last byte from the pod, the stream is closed. */
const DRAIN_MS = 2_000;

/** One v4 port-forward WebSocket (arriving paused) for `port`, as a Duplex. */
export class ChannelStream extends Duplex {
  private readonly reader: ChannelReader;
  private drainTimer: NodeJS.Timeout | undefined;
  /** The local side has ended: DRAIN_MS of the pod's silence, while kport reads it, closes the stream. */
  private draining = false;
  private waiting: ((err?: Error | null) => void) | null = null;

  constructor(
    private readonly ws: WebSocket,
    port: number,
    private readonly drainMs = DRAIN_MS,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024 });
    this.reader = new ChannelReader([port]);
    ws.on('message', this.wsOnMessage);
    ws.on('close', this.wsOnClose);
    ws.on('error', this.wsOnError);
    ws.resume();
  }

  private readonly wsOnMessage = (message: Buffer): void => {
    let m;
    try {
      m = this.reader.read(message);
    } catch (err) {
      return void this.destroy(new KportError('STREAM_ERROR', `port-forward protocol error: ${(err as ChannelProtocolError).message}`));
    }
    if (!m) return;
    if (m.kind === 'error') {
      // Blank text says nothing: no error, as on a SPDY error stream.
      const text = m.payload.toString('utf8').trim();
      if (text !== '') this.destroy(new KportError('STREAM_ERROR', text));
      return;
    }
    if (this.push(m.payload)) {
      if (this.draining) this.armDrain();
      return;
    }
    // kport holds the pod back for its local reader: that silence is not the pod's, so it is not timed.
    this.ws.pause();
    clearTimeout(this.drainTimer);
  };

  private readonly wsOnClose = (code: number): void => {
    clearTimeout(this.drainTimer);
    // 1006: the connection went without a close frame (servers always send one when a stream ends):
    // the bytes may be cut short, and the local client must not take it for a clean end.
    if (code === CUT) return void this.destroy(new KportError('STREAM_ERROR', 'the port-forward WebSocket was cut (no close frame)'));
    this.push(null);
    // Nothing more can reach the pod: end the writable side too, so the stream closes.
    if (!this.writableEnded) this.end();
  };

  private readonly wsOnError = (err: Error): void => void this.destroy(new KportError('STREAM_ERROR', `port-forward stream failed: ${err.message}`));

  private armDrain(): void {
    clearTimeout(this.drainTimer);
    this.drainTimer = setTimeout(() => this.ws.close(1000), this.drainMs);
  }

  override _read(): void {
    this.ws.resume();
    if (this.draining) this.armDrain();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) return cb();
    this.ws.send(encodeFrame(dataChannel(0), chunk), (err) => {
      if (this.waiting && this.ws.bufferedAmount < HIGH_WATER) {
        const w = this.waiting;
        this.waiting = null;
        w(err);
      }
    });
    if (this.ws.bufferedAmount < HIGH_WATER) cb();
    else this.waiting = cb;
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) {
      this.draining = true;
      this.armDrain();
    }
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.drainTimer);
    this.ws.off('message', this.wsOnMessage);
    if (err) this.ws.terminate();
    else if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    cb(err);
  }
}

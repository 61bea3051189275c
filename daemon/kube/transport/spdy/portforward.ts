/**
 * One port-forward connection over a SPDY session: an error stream and a data stream sharing a
 * `requestid` (the kubelet dials the container port once it has both). Both SYN_STREAMs leave in
 * one write, without waiting for either reply (kubectl waits for each in turn: a round trip saved).
 * The pair is the Duplex the forward engine pipes: it ends cleanly once the data stream's FIN and
 * the error stream's end have both arrived, or is destroyed with the error stream's text.
 */
import { Duplex } from 'node:stream';
import { KportError } from '../../../api/errors.js';
import type { SpdySession } from './session.js';
import type { SpdyStream } from './stream.js';

/** Buffered unread bytes per connection before kport stops reading the shared session. */
export const STREAM_BUFFER_MAX = 1 << 20;
/** The error stream carries one short message; more than this is cut. */
const MAX_ERROR_TEXT = 16 * 1024;

/** The kubelet's error text: plain (older) or `{"message": …}` JSON (1.31+); JSON with a blank message is shown as it came. */
function errorMessage(text: string): string {
  const trimmed = text.trim();
  try {
    const parsed = JSON.parse(trimmed) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message.trim() !== '') return parsed.message;
  } catch {
    // plain text
  }
  return trimmed;
}

/** A port-forward connection's PodStream. */
export class PortForwardStream extends Duplex {
  private readonly data: SpdyStream;
  private readonly error: SpdyStream;
  private dataEnded = false;
  private errorEnded = false;
  private errorText = '';
  private holding = false;

  constructor(session: SpdySession, port: number, requestId: number) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024, writableHighWaterMark: 256 * 1024 });
    const headers = { streamtype: 'error', port: String(port), requestid: String(requestId) };
    [this.error, this.data] = session.batch(() => {
      const error = session.open(headers, {
        data: (chunk) => void (this.errorText.length < MAX_ERROR_TEXT && (this.errorText += chunk.toString('utf8'))),
        end: () => this.errorDone(),
        abort: () => this.errorDone(),
      });
      // Nothing is ever written on the error stream: half-close it at once, as kubectl does.
      error.end();
      const data = session.open(
        { ...headers, streamtype: 'data' },
        {
          data: (chunk) => this.onData(chunk),
          end: () => ((this.dataEnded = true), this.maybeEnd()),
          abort: (err) => this.destroy(err),
        },
      );
      return [error, data];
    });
  }

  private onData(chunk: Buffer): void {
    this.push(chunk);
    if (!this.holding && this.readableLength > STREAM_BUFFER_MAX) {
      this.holding = true;
      this.data.hold();
    }
  }

  private errorDone(): void {
    if (this.errorEnded) return;
    this.errorEnded = true;
    if (this.errorText.trim()) this.destroy(new KportError('STREAM_ERROR', errorMessage(this.errorText)));
    else this.maybeEnd();
  }

  private maybeEnd(): void {
    if (this.dataEnded && this.errorEnded) this.push(null);
  }

  override _read(): void {
    if (!this.holding) return;
    this.holding = false;
    this.data.release();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.data.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.data.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.data.reset();
    this.error.reset();
    cb(err);
  }
}

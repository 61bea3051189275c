/**
 * A client SpdySession whose socket is in memory, and a scripted peer that writes what the server would send:
 * for tests of the session against well-formed and broken server frames.
 */
import { Duplex } from 'node:stream';
import { SpdySession } from '../../daemon/kube/transport/spdy/session.js';

/**
 * The session's socket. Whatever a listener throws while the socket emits (the session's read loop runs in its
 * `data` listener) is kept in `thrown` instead of becoming an uncaught exception, so a test can say which input did it.
 */
export class MemorySocket extends Duplex {
  readonly sent: Buffer[] = [];
  readonly thrown: unknown[] = [];

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sent.push(chunk);
    cb();
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (err) {
      this.thrown.push(err);
      return true;
    }
  }
}

/** The server's side of a scripted session. */
export interface ScriptedPeer {
  /** Bytes from the server. */
  send(bytes: Buffer): void;
  /** The server ends its side of the connection. */
  end(): void;
  /** Everything the session wrote. */
  sent: Buffer[];
  /** What the socket's listeners threw. */
  thrown: unknown[];
}

/** A session on an in-memory socket; `peer` writes what the server would send. */
export function scripted(label = 'pod test'): { session: SpdySession; peer: ScriptedPeer } {
  const socket = new MemorySocket();
  const session = new SpdySession(socket, label);
  return {
    session,
    peer: { send: (b) => void socket.push(b), end: () => void socket.push(null), sent: socket.sent, thrown: socket.thrown },
  };
}

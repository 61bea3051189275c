/**
 * RFC 6455 frames as a client writes and reads them: the pure half of kportctl's WebSocket (bytes in,
 * events out; client.ts owns the socket). Client frames are masked; a server's must not be. No
 * extensions are offered, so the RSV bits must be clear.
 */
import { isUtf8 } from 'node:buffer';

export const OPCODE = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

/** What the server's frames amount to: whole messages (fragments joined) and control frames. */
export type ServerEvent =
  | { kind: 'message'; data: Buffer }
  | { kind: 'ping'; data: Buffer }
  | { kind: 'pong' }
  | { kind: 'close'; code: number; reason: string };

/** The server broke the protocol; `closeCode` is what the client's close frame says (1002, 1007, 1009). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A close frame without a status code (RFC 6455 §7.1.5). */
export const NO_STATUS = 1005;

/** One final, masked client frame of `opcode` carrying `payload`, masked with `mask` (4 bytes). */
export function encodeFrame(opcode: number, payload: Buffer, mask: Buffer): Buffer {
  const n = payload.length;
  const lengthBytes = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + lengthBytes + 4 + n);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | (lengthBytes === 0 ? n : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) frame.writeUInt16BE(n, 2);
  else if (lengthBytes === 8) frame.writeBigUInt64BE(BigInt(n), 2);
  const start = 2 + lengthBytes + 4;
  mask.copy(frame, start - 4, 0, 4);
  for (let i = 0; i < n; i++) frame[start + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/** A close frame's payload: the status code, then the reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

interface Header {
  fin: boolean;
  opcode: number;
  /** Header bytes before the payload. */
  size: number;
  length: number;
}

/** Reads a server's byte stream into events; a message over `maxMessage` bytes (fragments together) is a FrameError 1009. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The fragments of a message still being received; null between messages. */
  private fragments: Buffer[] | null = null;
  private fragmentBytes = 0;
  /** Whether the message being received is text (which must be UTF-8). */
  private text = false;

  constructor(private readonly maxMessage: number) {}

  /** Takes the next bytes; returns the events of every frame they complete. Throws FrameError. */
  push(bytes: Buffer): ServerEvent[] {
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    const events: ServerEvent[] = [];
    for (;;) {
      const header = this.header();
      if (header === null || this.buffered < header.size + header.length) return events;
      const payload = this.take(header.size + header.length).subarray(header.size);
      const event = this.frame(header, payload);
      if (event) events.push(event);
    }
  }

  /** The next frame's header once its bytes are here, checked against the protocol; else null. */
  private header(): Header | null {
    if (this.buffered < 2) return null;
    const b = this.peek(Math.min(this.buffered, 10));
    const [b0, b1] = [b[0]!, b[1]!];
    const opcode = b0 & 0x0f;
    if (b0 & 0x70) throw new FrameError(1002, 'kportd sent a frame with reserved bits set');
    if (b1 & 0x80) throw new FrameError(1002, 'kportd sent a masked frame');
    if (![0, 1, 2, 8, 9, 10].includes(opcode)) throw new FrameError(1002, `kportd sent a frame of unknown opcode ${opcode}`);
    const fin = (b0 & 0x80) !== 0;
    let length = b1 & 0x7f;
    const size = length === 126 ? 4 : length === 127 ? 10 : 2;
    if (b.length < size) return null;
    if (length === 126) length = b.readUInt16BE(2);
    else if (length === 127) {
      const long = b.readBigUInt64BE(2);
      if (long > BigInt(this.maxMessage)) throw new FrameError(1009, `kportd sent a frame of ${long} bytes (at most ${this.maxMessage})`);
      length = Number(long);
    }
    if (opcode >= 8 && (!fin || length > 125)) throw new FrameError(1002, 'kportd sent a fragmented or oversized control frame');
    if (opcode < 8 && this.fragmentBytes + length > this.maxMessage) throw new FrameError(1009, `kportd sent a message over ${this.maxMessage} bytes`);
    return { fin, opcode, size, length };
  }

  private frame(h: Header, payload: Buffer): ServerEvent | null {
    switch (h.opcode) {
      case OPCODE.PING:
        return { kind: 'ping', data: payload };
      case OPCODE.PONG:
        return { kind: 'pong' };
      case OPCODE.CLOSE:
        return closeEvent(payload);
      case OPCODE.CONTINUATION:
        if (this.fragments === null) throw new FrameError(1002, 'kportd sent a continuation frame outside a message');
        break;
      default:
        if (this.fragments !== null) throw new FrameError(1002, 'kportd started a message inside another');
        this.fragments = [];
        this.text = h.opcode === OPCODE.TEXT;
    }
    this.fragments.push(payload);
    this.fragmentBytes += payload.length;
    if (!h.fin) return null;
    const data = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
    this.fragments = null;
    this.fragmentBytes = 0;
    if (this.text && !isUtf8(data)) throw new FrameError(1007, 'kportd sent a text message that is not UTF-8');
    return { kind: 'message', data };
  }

  /** The first `n` buffered bytes, joined into one chunk if they span several. */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  /** Removes and returns the first `n` buffered bytes. */
  private take(n: number): Buffer {
    const first = this.peek(n);
    this.buffered -= n;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    return first.subarray(0, n);
  }
}

function closeEvent(payload: Buffer): ServerEvent {
  if (payload.length === 0) return { kind: 'close', code: NO_STATUS, reason: '' };
  if (payload.length === 1) throw new FrameError(1002, 'kportd sent a close frame of one byte');
  const reason = payload.subarray(2);
  if (!isUtf8(reason)) throw new FrameError(1007, 'kportd sent a close reason that is not UTF-8');
  return { kind: 'close', code: payload.readUInt16BE(0), reason: reason.toString('utf8') };
}

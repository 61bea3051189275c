/**
 * The SPDY/3.1 framer: pure bytes in, frames out (and frames to bytes). No sockets, no timers, so
 * it can be fuzzed. DATA payloads are handed on as views of the chunks they arrived in, in pieces
 * as they arrive (only the last piece carries FIN): a payload is never copied or waited for whole.
 * Control frames are small and bounded (MAX_CONTROL_LENGTH); a frame that breaks the protocol
 * throws FrameError, which is fatal to the connection (its header compression state is lost).
 */
import { HeaderBlockError, type HeaderDecoder, type Headers } from './headers.js';

export const SPDY_VERSION = 3;

/** Control frame type numbers. */
export const FrameType = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, UNSUPPORTED_VERSION: 4, CANCEL: 5, INTERNAL_ERROR: 6 } as const;
/** GOAWAY status codes. */
export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;
/** SETTINGS ids kport reads. */
export const Setting = { MAX_CONCURRENT_STREAMS: 4 } as const;

/** The largest DATA payload one frame can carry (24-bit length). */
export const MAX_DATA_LENGTH = 0xffffff;
/** Control frames longer than this are refused: port-forward's are a few dozen bytes. */
export const MAX_CONTROL_LENGTH = 80 * 1024;

/** One decoded frame; DATA may be one piece of a frame's payload. */
export type Frame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; fin: boolean; unidirectional: boolean; headers: Headers }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headers: Headers }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; settings: { id: number; flags: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; fin: boolean; headers: Headers }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number };

/** The peer broke the protocol; the connection cannot go on. */
export class FrameError extends Error {}

const ID_MASK = 0x7fffffff;

/** Incremental decoder for one direction of one connection. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload bytes of the current DATA frame still to hand on, its stream and its flag. */
  private dataLeft = 0;
  private dataStream = 0;
  private dataFin = false;

  constructor(private readonly headers: HeaderDecoder) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next frame (or DATA piece), or null until more bytes arrive. Throws FrameError. */
  next(): Frame | null {
    if (this.dataLeft > 0) return this.dataPiece();
    if (this.buffered < 8) return null;
    const head = this.peek(8);
    const word = head.readUInt32BE(0);
    const flags = head[4]!;
    const length = head.readUIntBE(5, 3);
    if (word & 0x80000000) {
      const version = (word >>> 16) & 0x7fff;
      if (version !== SPDY_VERSION) throw new FrameError(`unsupported SPDY version ${version}`);
      if (length > MAX_CONTROL_LENGTH) throw new FrameError(`control frame of ${length} bytes exceeds ${MAX_CONTROL_LENGTH}`);
      if (this.buffered < 8 + length) return null;
      this.skip(8);
      return this.control(word & 0xffff, flags, this.take(length));
    }
    const streamId = word & ID_MASK;
    if (streamId === 0) throw new FrameError('DATA frame on stream 0');
    this.skip(8);
    const fin = (flags & FLAG_FIN) !== 0;
    if (length === 0) return { type: 'data', streamId, fin, data: Buffer.alloc(0) };
    this.dataLeft = length;
    this.dataStream = streamId;
    this.dataFin = fin;
    return this.buffered > 0 ? this.dataPiece() : null;
  }

  private dataPiece(): Frame | null {
    const first = this.chunks[0];
    if (!first) return null;
    const n = Math.min(first.length, this.dataLeft);
    const data = n === first.length ? first : first.subarray(0, n);
    this.skip(n);
    this.dataLeft -= n;
    return { type: 'data', streamId: this.dataStream, fin: this.dataLeft === 0 && this.dataFin, data };
  }

  private control(type: number, flags: number, p: Buffer): Frame {
    const fin = (flags & FLAG_FIN) !== 0;
    const need = (n: number, exact = false) => {
      if (exact ? p.length !== n : p.length < n) throw new FrameError(`${NAMES[type]} frame of ${p.length} bytes (needs ${exact ? '' : 'at least '}${n})`);
    };
    const id = (at: number) => p.readUInt32BE(at) & ID_MASK;
    const nonZero = (streamId: number) => {
      if (streamId === 0) throw new FrameError(`${NAMES[type]} frame on stream 0`);
      return streamId;
    };
    switch (type) {
      case FrameType.SYN_STREAM:
        need(10);
        return {
          type: 'syn_stream',
          streamId: nonZero(id(0)),
          associatedId: id(4),
          priority: p[8]! >> 5,
          fin,
          unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
          headers: this.block(p.subarray(10)),
        };
      case FrameType.SYN_REPLY:
        need(4);
        return { type: 'syn_reply', streamId: nonZero(id(0)), fin, headers: this.block(p.subarray(4)) };
      case FrameType.HEADERS:
        need(4);
        return { type: 'headers', streamId: nonZero(id(0)), fin, headers: this.block(p.subarray(4)) };
      case FrameType.RST_STREAM: {
        need(8, true);
        const status = p.readUInt32BE(4);
        if (status === 0) throw new FrameError('RST_STREAM with status 0');
        return { type: 'rst_stream', streamId: nonZero(id(0)), status };
      }
      case FrameType.SETTINGS: {
        need(4);
        const count = p.readUInt32BE(0);
        if (p.length !== 4 + count * 8) throw new FrameError(`SETTINGS frame of ${p.length} bytes claims ${count} entries`);
        const settings = [];
        for (let at = 4; at < p.length; at += 8) settings.push({ flags: p[at]!, id: p.readUIntBE(at + 1, 3), value: p.readUInt32BE(at + 4) });
        return { type: 'settings', settings };
      }
      case FrameType.PING:
        need(4, true);
        return { type: 'ping', id: p.readUInt32BE(0) };
      case FrameType.GOAWAY:
        need(8, true);
        return { type: 'goaway', lastGoodStreamId: id(0), status: p.readUInt32BE(4) };
      case FrameType.WINDOW_UPDATE:
        need(8, true);
        return { type: 'window_update', streamId: id(0), delta: p.readUInt32BE(4) & ID_MASK };
      default:
        // SPDY/3: a control frame of a type the endpoint does not know is ignored.
        return { type: 'unknown', frameType: type };
    }
  }

  private block(raw: Buffer): Headers {
    try {
      return this.headers.decode(raw);
    } catch (err) {
      if (err instanceof HeaderBlockError) throw new FrameError(err.message);
      throw err;
    }
  }

  /** The first n buffered bytes without consuming them (a copy only when they span chunks). */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (!first || n === 0) return Buffer.alloc(0);
    return first.length >= n ? first.subarray(0, n) : Buffer.concat(this.chunks, n);
  }

  /** Consumes n buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  private skip(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        this.chunks.shift();
        n -= first.length;
      } else {
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}

const NAMES: Record<number, string> = {
  [FrameType.SYN_STREAM]: 'SYN_STREAM',
  [FrameType.SYN_REPLY]: 'SYN_REPLY',
  [FrameType.RST_STREAM]: 'RST_STREAM',
  [FrameType.SETTINGS]: 'SETTINGS',
  [FrameType.PING]: 'PING',
  [FrameType.GOAWAY]: 'GOAWAY',
  [FrameType.HEADERS]: 'HEADERS',
  [FrameType.WINDOW_UPDATE]: 'WINDOW_UPDATE',
};

// ---- encoding ---------------------------------------------------------------------------------------

/** A control frame: the 8-byte header and the payload in one buffer. */
function control(type: number, flags: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32BE((0x8000 | SPDY_VERSION) * 0x10000 + type, 0);
  out.writeUInt32BE(flags * 0x1000000 + payload.length, 4);
  payload.copy(out, 8);
  return out;
}

function words(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/** SYN_STREAM with an already compressed header block (HeaderEncoder.encode). */
export function synStream(streamId: number, block: Buffer, opts: { fin?: boolean; unidirectional?: boolean; priority?: number } = {}): Buffer {
  const flags = (opts.fin ? FLAG_FIN : 0) | (opts.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & ID_MASK, 0);
  fixed[8] = (opts.priority ?? 0) << 5;
  return control(FrameType.SYN_STREAM, flags, Buffer.concat([fixed, block]));
}

export function synReply(streamId: number, block: Buffer, fin = false): Buffer {
  return control(FrameType.SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([words(streamId & ID_MASK), block]));
}

export function headersFrame(streamId: number, block: Buffer, fin = false): Buffer {
  return control(FrameType.HEADERS, fin ? FLAG_FIN : 0, Buffer.concat([words(streamId & ID_MASK), block]));
}

export function rstStream(streamId: number, status: number): Buffer {
  return control(FrameType.RST_STREAM, 0, words(streamId & ID_MASK, status));
}

export function ping(id: number): Buffer {
  return control(FrameType.PING, 0, words(id));
}

export function goAway(lastGoodStreamId: number, status: number): Buffer {
  return control(FrameType.GOAWAY, 0, words(lastGoodStreamId & ID_MASK, status));
}

export function settings(entries: { id: number; value: number; flags?: number }[]): Buffer {
  return control(FrameType.SETTINGS, 0, words(entries.length, ...entries.flatMap((e) => [(e.flags ?? 0) * 0x1000000 + e.id, e.value])));
}

export function windowUpdate(streamId: number, delta: number): Buffer {
  return control(FrameType.WINDOW_UPDATE, 0, words(streamId & ID_MASK, delta & ID_MASK));
}

/** The 8-byte header of a DATA frame; the payload follows it as its own write (no copy). */
export function dataHeader(streamId: number, length: number, fin = false): Buffer {
  if (length > MAX_DATA_LENGTH) throw new RangeError(`DATA payload of ${length} bytes exceeds ${MAX_DATA_LENGTH}`);
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32BE(streamId & ID_MASK, 0);
  out.writeUInt32BE((fin ? FLAG_FIN : 0) * 0x1000000 + length, 4);
  return out;
}

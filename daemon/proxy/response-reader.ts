/**
 * Reads one HTTP/1.1 response off a connection to the API server as its bytes arrive: the status line and
 * headers (at most MAX_HEAD_BYTES, as node's and undici's clients allow), then the body by its framing
 * (RFC 9112 §6.3: none, Content-Length, chunked, or until the connection closes), handing on the body's
 * bytes without the chunked framing and without copying them. Interim 1xx answers are read and dropped.
 * Whether the connection can carry the next request is decided here too. Pure: no sockets, no timers.
 */
import { HEADER_VALUE } from '../io/header-value.js';

/** Node's --max-http-header-size default: the head of a response, chunk-size lines and trailers each fit in it. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** A response the reader cannot make sense of; the relay answers 502 (or breaks the response off) with it. */
export class ResponseError extends Error {
  override readonly name = 'ResponseError';
  /** Read by networkError() in messages, as a socket error's code is. */
  readonly code = 'HPE_INVALID_RESPONSE';
}

/** How the body of a response is delimited. */
export type Framing = 'none' | 'length' | 'chunked' | 'close';

/** A response's status and headers. */
export interface ResponseHead {
  status: number;
  /** [name, value, name, value, ...] as received (values trimmed). */
  rawHeaders: string[];
  framing: Framing;
  /** The connection may carry another request once this response is read. */
  keepAlive: boolean;
}

/** What the reader hands on, in order: one head, then body chunks. `done` says when the response is complete. */
export interface ResponseSink {
  head(head: ResponseHead): void;
  body(chunk: Buffer): void;
}

type State = 'head' | 'length' | 'size' | 'chunk' | 'chunk-end' | 'trailers' | 'close' | 'done';

const CRLF = Buffer.from('\r\n');
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: .*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})[ \t]*(?:;.*)?$/;
const DIGITS = /^\d{1,15}$/;

/** The comma-separated tokens of a header's values, lower-cased. */
function tokens(values: string): string[] {
  return values.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
}

export class ResponseReader {
  private state: State = 'head';
  /** Bytes of an unfinished head, chunk-size line or trailer section. */
  private pending: Buffer | null = null;
  /** Body bytes still to come in a Content-Length body or the current chunk. */
  private remaining = 0;
  private keepAlive = false;
  /** Bytes arrived after the response ended: the connection is out of step and must not be reused. */
  private surplus = false;

  /** `noBody`: the request was a HEAD, so the response has no body whatever its headers say. */
  constructor(
    private readonly sink: ResponseSink,
    private readonly noBody: boolean,
  ) {}

  /** True once the whole response was read. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** True once the head was handed on. */
  get started(): boolean {
    return this.state !== 'head';
  }

  /** True when the connection can be reused: the response said so and ended exactly where the next one would start. */
  get reusable(): boolean {
    return this.state === 'done' && this.keepAlive && !this.surplus;
  }

  /** Reads `bytes`; throws a ResponseError when they break HTTP/1.1. */
  push(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      switch (this.state) {
        case 'head':
        case 'size':
        case 'trailers':
          at = this.line(bytes, at);
          break;
        case 'length':
        case 'chunk': {
          const n = Math.min(this.remaining, bytes.length - at);
          this.remaining -= n;
          this.sink.body(n === bytes.length ? bytes : bytes.subarray(at, at + n));
          at += n;
          if (this.remaining === 0) this.state = this.state === 'length' ? 'done' : 'chunk-end';
          break;
        }
        case 'chunk-end':
          // The CRLF after a chunk's data, collected like a line (it may arrive split).
          at = this.line(bytes, at);
          break;
        case 'close':
          this.sink.body(at === 0 ? bytes : bytes.subarray(at));
          return;
        case 'done':
          this.surplus = true;
          return;
      }
    }
  }

  /** The connection closed: the end of a body delimited by it; a ResponseError if the response is not complete. */
  close(): void {
    if (this.state === 'close') return void (this.state = 'done');
    if (this.state !== 'done') throw new ResponseError(this.started ? 'the connection closed in the middle of the response' : 'the connection closed before a response');
  }

  /**
   * Collects bytes up to the end of the unit the state reads (the head's blank line, a CRLF-ended line, the
   * trailers' blank line), then handles it; returns where reading goes on.
   */
  private line(bytes: Buffer, at: number): number {
    const joined = this.pending === null ? bytes.subarray(at) : Buffer.concat([this.pending, bytes.subarray(at)]);
    const before = this.pending?.length ?? 0;
    const mark = this.state === 'head' || this.state === 'trailers' ? CRLF_CRLF : CRLF;
    // The trailers' blank line may be the CRLF right after the last chunk's size line.
    const end = this.state === 'trailers' && joined[0] === 13 && joined[1] === 10 ? 0 : joined.indexOf(mark, Math.max(0, before - mark.length + 1));
    if ((end < 0 ? joined.length : end) > MAX_HEAD_BYTES) throw new ResponseError(`a response ${this.state === 'head' ? 'head' : 'chunk line or trailer'} over ${MAX_HEAD_BYTES} bytes`);
    if (end < 0) {
      this.pending = Buffer.from(joined);
      return bytes.length;
    }
    this.pending = null;
    const text = joined.toString('latin1', 0, end);
    const next = at + end + (end === 0 && this.state === 'trailers' ? 2 : mark.length) - before;
    switch (this.state) {
      case 'head':
        this.head(text);
        break;
      case 'size':
        this.chunkSize(text);
        break;
      case 'chunk-end':
        if (text !== '') throw new ResponseError('a chunk longer than its size said');
        this.state = 'size';
        break;
      case 'trailers':
        this.state = 'done';
        break;
    }
    return next;
  }

  /** Parses a status line and headers, and hands them on (or drops them, for an interim 1xx). Written for speed: it runs per request. */
  private head(text: string): void {
    let eol = text.indexOf('\r\n');
    if (eol < 0) eol = text.length;
    const line = text.slice(0, eol);
    const status = STATUS_LINE.exec(line);
    if (status === null) throw new ResponseError(`not an HTTP/1.1 status line: ${JSON.stringify(line.slice(0, 64))}`);
    const code = Number(status[2]);
    const rawHeaders: string[] = [];
    // The values of the headers that decide the framing, comma-joined as RFC 9110 §5.3 allows.
    let connection = '';
    let lengths: string | null = null;
    let encodings: string | null = null;
    for (let at = eol + 2; at < text.length; ) {
      let end = text.indexOf('\r\n', at);
      if (end < 0) end = text.length;
      const colon = text.indexOf(':', at);
      const name = colon > at && colon < end ? text.slice(at, colon) : '';
      // Folded lines and names that are not tokens are refused, as RFC 9112 §5 lets a client do.
      if (!TOKEN.test(name)) throw new ResponseError(`a malformed response header line: ${JSON.stringify(text.slice(at, Math.min(end, at + 64)))}`);
      const value = text.slice(colon + 1, end).trim();
      // A bare LF or a NUL would make Node refuse the whole response to the client: a 502 says why instead.
      if (!HEADER_VALUE.test(value)) throw new ResponseError(`a response header ${name} with a control character in its value`);
      rawHeaders.push(name, value);
      // Only three names matter here; most headers are told apart by their length alone.
      if (name.length === 10 || name.length === 14 || name.length === 17) {
        const lower = name.toLowerCase();
        if (lower === 'connection') connection += `,${value}`;
        else if (lower === 'content-length') lengths = lengths === null ? value : `${lengths},${value}`;
        else if (lower === 'transfer-encoding') encodings = encodings === null ? value : `${encodings},${value}`;
      }
      at = end + 2;
    }
    if (code >= 100 && code < 200) {
      if (code === 101) throw new ResponseError('the API server switched protocols on a request that asked for no upgrade');
      return; // an interim answer (100 Continue, 103 Early Hints): the final one follows
    }
    let framing: Framing;
    if (this.noBody || code === 204 || code === 304) framing = 'none';
    else if (encodings !== null) framing = tokens(encodings).at(-1) === 'chunked' ? 'chunked' : 'close';
    else if (lengths !== null) framing = 'length';
    else framing = 'close';
    if (framing === 'length') {
      // One value, as good servers send; a repeated one only if every copy says the same.
      const values = lengths!.includes(',') ? new Set(tokens(lengths!)) : new Set([lengths!]);
      const [only] = values;
      if (values.size !== 1 || !DIGITS.test(only!)) throw new ResponseError(`an invalid Content-Length: ${JSON.stringify(lengths)}`);
      this.remaining = Number(only);
    }
    // A body with both framings may have been smuggled past something: the connection is not reused after it.
    const closes = connection !== '' && tokens(connection).includes('close');
    this.keepAlive = status[1] === '1' && !closes && framing !== 'close' && !(encodings !== null && lengths !== null);
    this.state = framing === 'none' || (framing === 'length' && this.remaining === 0) ? 'done' : framing === 'chunked' ? 'size' : framing;
    this.sink.head({ status: code, rawHeaders, framing, keepAlive: this.keepAlive });
  }

  /** A chunk-size line: the next chunk's length, or 0 for the last one (trailers follow). */
  private chunkSize(text: string): void {
    const size = CHUNK_SIZE.exec(text);
    if (size === null) throw new ResponseError(`an invalid chunk size line: ${JSON.stringify(text.slice(0, 64))}`);
    this.remaining = parseInt(size[1]!, 16);
    this.state = this.remaining === 0 ? 'trailers' : 'chunk';
  }
}

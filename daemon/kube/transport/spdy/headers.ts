/**
 * SPDY/3 header blocks: a count, then length-prefixed lowercase names and NUL-joined values,
 * compressed with one zlib stream per direction for the whole connection (each block ends with a
 * sync flush). Because every block depends on the ones before it, blocks must be coded in frame
 * order and synchronously; node:zlib has no synchronous streaming API (its sync calls are one-shot),
 * so this uses pako's streaming Deflate/Inflate with the SPDY dictionary.
 */
import { Deflate, Inflate, Z_SYNC_FLUSH } from 'pako';
import { HEADER_DICTIONARY } from './dictionary.js';

/** Header names (lowercase) to values; several values of one name are joined by NUL, as on the wire. */
export type Headers = Record<string, string>;

/** A header block that cannot be decoded; the connection's zlib state is lost with it. */
export class HeaderBlockError extends Error {}

/** Inflated header blocks larger than this are refused: nothing legitimate in port-forward comes close. */
export const MAX_HEADER_BLOCK = 64 * 1024;

/** Compresses this side's header blocks (one instance per connection). */
export class HeaderEncoder {
  // Level 1: header blocks are a few dozen bytes; a higher level costs 3× the time for no gain.
  private readonly deflate = new Deflate({ level: 1, dictionary: HEADER_DICTIONARY, chunkSize: 1024 });
  private out: Uint8Array[] = [];

  constructor() {
    this.deflate.onData = (chunk: Uint8Array) => void this.out.push(chunk);
  }

  encode(headers: Headers): Buffer {
    const names = Object.keys(headers);
    const raw: Buffer[] = [u32(names.length)];
    for (const name of names) {
      const n = Buffer.from(name.toLowerCase(), 'utf8');
      const v = Buffer.from(headers[name]!, 'utf8');
      raw.push(u32(n.length), n, u32(v.length), v);
    }
    this.deflate.push(Buffer.concat(raw), Z_SYNC_FLUSH);
    const block = Buffer.concat(this.out);
    this.out = [];
    return block;
  }
}

/** Decompresses the peer's header blocks (one instance per connection). */
export class HeaderDecoder {
  private readonly inflate = new Inflate({ dictionary: HEADER_DICTIONARY, chunkSize: 1024 });
  private out: Uint8Array[] = [];
  private size = 0;
  private broken: string | null = null;

  constructor() {
    this.inflate.onData = (chunk: Uint8Array) => {
      this.size += chunk.length;
      // Stop inflating at once: a small block can inflate a thousandfold (80 KiB to 80 MiB, ~0.4 s of the loop).
      if (this.size > MAX_HEADER_BLOCK) throw new HeaderBlockError(`header block inflates to more than ${MAX_HEADER_BLOCK} bytes`);
      this.out.push(chunk);
    };
  }

  /** Decodes one block; throws HeaderBlockError (and stays broken: the zlib state is gone). */
  decode(block: Uint8Array): Headers {
    if (this.broken) throw new HeaderBlockError(this.broken);
    this.size = 0;
    this.out = [];
    try {
      this.inflate.push(block, Z_SYNC_FLUSH);
    } catch (err) {
      if (err instanceof HeaderBlockError) return this.fail(err.message);
      throw err;
    }
    const inflate = this.inflate as unknown as { err: number; msg: string };
    if (inflate.err !== 0) return this.fail(`corrupt compressed header block (${inflate.msg || `zlib error ${inflate.err}`})`);
    return parseBlock(Buffer.concat(this.out), (why) => this.fail(why));
  }

  private fail(why: string): never {
    this.broken = why;
    throw new HeaderBlockError(why);
  }
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** Parses an inflated block; every length is checked against what is left. */
function parseBlock(raw: Buffer, fail: (why: string) => never): Headers {
  if (raw.length < 4) fail(`header block of ${raw.length} bytes has no count`);
  const count = raw.readUInt32BE(0);
  // Each pair takes at least 8 bytes: a count larger than that is a lie, whatever follows.
  if (count > (raw.length - 4) / 8) fail(`header block claims ${count} headers in ${raw.length} bytes`);
  const headers: Headers = Object.create(null) as Headers;
  let at = 4;
  const field = (what: string): string => {
    if (at + 4 > raw.length) fail(`header block ends inside a ${what} length`);
    const len = raw.readUInt32BE(at);
    at += 4;
    if (len > raw.length - at) fail(`header ${what} of ${len} bytes overruns the block`);
    const text = raw.toString('utf8', at, at + len);
    at += len;
    return text;
  };
  for (let i = 0; i < count; i++) {
    const name = field('name');
    const value = field('value');
    if (name === '') fail('empty header name');
    if (name !== name.toLowerCase()) fail(`header name "${name}" is not lowercase`);
    if (name in headers) fail(`header "${name}" appears twice`);
    headers[name] = value;
  }
  if (at !== raw.length) fail(`${raw.length - at} stray bytes after the header block`);
  return headers;
}

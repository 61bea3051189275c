/**
 * `logs.read`'s source: the last lines of the log file, read backwards from its end in chunks, so that a large log
 * costs no more than the bytes returned. Reads run one at a time, and a read whose caller has gone is skipped.
 */
import { open } from 'node:fs/promises';
import { KportError } from './api/errors.js';
import { LOG_READ_MAX_BYTES } from './api/rpc.js';
import { Serial } from './serial.js';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

function newlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/** The last `lines` non-empty lines of `file`, whole lines only, from at most its last `maxBytes` bytes. */
export async function readTail(file: string, lines: number, maxBytes: number): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const floor = Math.max(0, size - maxBytes);
    const chunks: Buffer[] = [];
    let pos = size;
    let seen = 0;
    // One newline more than the lines asked for: the one before the first line proves that line whole.
    while (pos > floor && seen <= lines) {
      const length = Math.min(CHUNK, pos - floor);
      pos -= length;
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await handle.read(chunk, 0, length, pos);
      chunks.push(chunk.subarray(0, bytesRead));
      seen += newlines(chunk.subarray(0, bytesRead));
    }
    let text = Buffer.concat(chunks.reverse());
    // Unless the read went back to the start of the file, its first line may be cut short.
    if (pos > 0) {
      const first = text.indexOf(NEWLINE);
      text = first === -1 ? Buffer.alloc(0) : text.subarray(first + 1);
    }
    return text.toString('utf8').split('\n').filter((l) => l !== '').slice(-lines);
  } finally {
    await handle.close();
  }
}

/** The daemon's log file, read for `logs.read`. */
export class LogTail {
  private readonly reads = new Serial();

  constructor(private readonly file: string) {}

  /** The last `lines` lines (at most LOG_READ_MAX_BYTES of them); CANCELLED when `signal` aborts first. */
  read(lines: number, signal: AbortSignal): Promise<string[]> {
    return this.reads.run(async () => {
      if (signal.aborted) throw new KportError('CANCELLED', 'the caller went away before the log was read');
      return readTail(this.file, lines, LOG_READ_MAX_BYTES);
    });
  }
}

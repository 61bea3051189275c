/**
 * The daemon's log file, rotated by size the conventional way: `kportd.log` is always the live
 * file and older ones are `kportd.log.1` … `kportd.log.N`. (pino-roll names files `kportd.1.log`
 * and always links them as `current.log`; a rename chain around pino's own destination is shorter
 * than adapting to that.)
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { pino } from 'pino';

/** A pino-compatible stream writing to a size-rotated file. */
export class RotatingFile {
  private readonly dest: ReturnType<typeof pino.destination>;
  private size: number;

  constructor(
    readonly path: string,
    private readonly maxBytes = 10 * 1024 * 1024,
    private readonly keep = 5,
  ) {
    this.dest = pino.destination({ dest: path, sync: true, mkdir: true, mode: 0o600 });
    this.size = existsSync(path) ? statSync(path).size : 0;
  }

  /** Appends one log line; rotates first when it would pass maxBytes. */
  write(line: string): void {
    if (this.size > 0 && this.size + line.length > this.maxBytes) this.rotate();
    this.dest.write(line);
    this.size += Buffer.byteLength(line);
  }

  private rotate(): void {
    rmSync(`${this.path}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    renameSync(this.path, `${this.path}.1`);
    this.dest.reopen();
    this.size = 0;
  }

  /** Flushes and closes the file. */
  close(): void {
    this.dest.end();
  }
}

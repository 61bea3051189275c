/** Loggers for tests: silent, or capturing every line so a test can read what was logged. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A logger that drops everything. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A debug-level logger whose JSON lines are kept in `lines`. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

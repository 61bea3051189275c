/**
 * The daemon's logger: pino JSON to a size-rotated file in the state folder, plus stderr when in
 * the foreground (on a terminal one line per record, as `kportctl logs` prints them; JSON otherwise),
 * plus a tap that feeds `log` notifications to subscribed clients. Every line passes one scrubber
 * first, so a bearer token or a PEM block never reaches a log, whichever code path logged it.
 */
import { EventEmitter } from 'node:events';
import { pino, type Logger, type StreamEntry } from 'pino';
import { logLine, type LogPaints } from './api/log-line.js';
import { sgr } from './api/terminal-text.js';
import { RotatingFile } from './log-file.js';

const BEARER = /(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/g;
const PEM = /-----BEGIN [A-Z0-9 ]+-----.*?-----END [A-Z0-9 ]+-----/g;

/** Removes credentials from one serialized log line. */
export function scrub(line: string): string {
  if (!line.includes('Bearer') && !line.includes('Basic') && !line.includes('-----BEGIN')) return line;
  return line.replace(BEARER, '$1 [redacted]').replace(PEM, '[redacted PEM block]');
}

/** Where logs go. */
export interface LogOptions {
  /** The log file (created 0600, rotated by size). */
  file: string;
  /** Also log to stderr. */
  foreground: boolean;
  level?: string;
  maxBytes?: number;
  /** Where the foreground log goes (default: this process's stderr); `colour` when it is a terminal that takes it. */
  stderr?: { isTTY: boolean; colour: boolean; write(text: string): void };
}

/** The colours of a terminal's log lines, or none. */
function paints(colour: boolean): LogPaints {
  const plain = (text: string) => text;
  return colour ? { red: sgr(31, 39), yellow: sgr(33, 39), dim: sgr(2, 22) } : { red: plain, yellow: plain, dim: plain };
}

/** Stderr, written synchronously so the last lines before an exit are not lost. */
function processStderr(): NonNullable<LogOptions['stderr']> {
  const dest = pino.destination({ dest: 2, sync: true });
  const isTTY = process.stderr.isTTY === true;
  return { isTTY, colour: isTTY && !process.env.NO_COLOR, write: (text) => void dest.write(text) };
}

/** The logger and the handles the daemon needs around it. */
export interface LogSetup {
  log: Logger;
  /** Emits `record` (parsed pino object) for each line while anyone listens. */
  tap: EventEmitter;
  close(): void;
}

/** Creates the daemon's logger. */
export async function createLogger(opts: LogOptions): Promise<LogSetup> {
  const file = new RotatingFile(opts.file, opts.maxBytes);
  const tap = new EventEmitter();
  const streams: StreamEntry[] = [{ level: 'debug', stream: { write: (l: string) => file.write(scrub(l)) } }];
  if (opts.foreground) {
    const stderr = opts.stderr ?? processStderr();
    const colours = paints(stderr.colour);
    // A person reads a terminal: one line per record, the shape kportctl logs prints. Anything else reads JSON.
    const write = stderr.isTTY
      ? (l: string) => stderr.write(`${logLine(JSON.parse(scrub(l)) as Record<string, unknown>, colours)}\n`)
      : (l: string) => stderr.write(scrub(l));
    streams.push({ level: 'info', stream: { write } });
  }
  streams.push({
    level: 'info',
    stream: {
      write: (l: string) => {
        if (tap.listenerCount('record') > 0) tap.emit('record', JSON.parse(scrub(l)) as Record<string, unknown>);
      },
    },
  });
  const log = pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      // Known credential fields never print, even as objects; the line scrubber catches the rest.
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers', '*.headers', 'key', '*.key', 'cert', '*.cert'], censor: '[redacted]' },
    },
    pino.multistream(streams),
  );
  return { log, tap, close: () => file.close() };
}

/**
 * kportd's pino JSON records as one readable line: `12:00:01.123 INFO  session added session=web kind=forward`.
 * The one shape for both places a person reads them: `kportctl logs` and kportd's foreground log on a terminal.
 */
import { clock, oneLine, type Paint } from './terminal-text.js';

/** The colours a log line uses (kportctl's Style is one; plain functions when colour is off). */
export interface LogPaints {
  red: Paint;
  yellow: Paint;
  dim: Paint;
}

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A field value as `key=value` shows it: bare when plain, JSON when it has spaces or structure; errors by message. */
function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null && 'message' in v && typeof v.message === 'string') return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

function levelPaint(level: number, style: LogPaints): Paint {
  if (level >= 50) return style.red;
  if (level >= 40) return style.yellow;
  return level < 30 ? style.dim : (t) => t;
}

/** One record as a line; process fields (pid, hostname) are left out. */
export function logLine(record: Record<string, unknown>, style: LogPaints): string {
  const { level, time, msg, pid: _pid, hostname: _hostname, ...fields } = record;
  const at = typeof time === 'number' || typeof time === 'string' ? new Date(time) : null;
  const when = at && !Number.isNaN(at.getTime()) ? clock(at, true) : '--:--:--.---';
  const n = typeof level === 'number' ? level : 30;
  const name = (LEVELS[n] ?? String(level)).padEnd(5);
  const rest = Object.entries(fields).map(([k, v]) => ` ${k}=${value(v)}`).join('');
  return `${when} ${levelPaint(n, style)(name)} ${oneLine(`${String(msg ?? '')}${rest}`)}`;
}

/** A line of kportd's log file as a line to print: pretty when it is a JSON record, as it is otherwise. */
export function prettyLogFileLine(line: string, style: LogPaints): string {
  try {
    const record: unknown = JSON.parse(line);
    if (typeof record === 'object' && record !== null && !Array.isArray(record)) return logLine(record as Record<string, unknown>, style);
  } catch {
    // Not JSON (a crash trace written to the log): shown as it is.
  }
  return oneLine(line);
}

/** `kportctl logs`: the end of kportd's log (or one session's lines of it), readable; `-f` follows it. */
import { logLine, prettyLogFileLine } from '../../daemon/api/log-line.js';
import { LOG_READ_MAX_LINES } from '../../daemon/api/rpc.js';
import { integer } from '../args.js';
import { command, EXIT, JSON_FLAG, sessionName } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { styleFor } from '../output/style.js';
import { followUntilInterrupted } from './follow.js';

/** The same record as a log file line and as a notification compare equal in this form. */
function normal(line: string): string {
  try {
    return JSON.stringify(JSON.parse(line));
  } catch {
    return line;
  }
}

/** True when a log file line is a record of session `name` (every line a session logs names it). */
function ofSession(line: string, name: string): boolean {
  try {
    const record: unknown = JSON.parse(line);
    return typeof record === 'object' && record !== null && (record as { session?: unknown }).session === name;
  } catch {
    return false;
  }
}

/** `kportctl logs`. */
export const logs = command({
  name: 'logs',
  summary: "print kportd's log, or one session's lines (-f to follow)",
  usage: ['[NAME] [-f] [-n LINES] [--json]'],
  description: `
Prints the last lines of kportd's log as "time level message key=value…"; with -f, keeps
printing new records until Ctrl-C. With NAME, only that session's lines (its state changes,
errors, failovers), from the last ${LOG_READ_MAX_LINES} lines of the log. --json prints the records as kportd
wrote them (pino JSON).`,
  examples: ['kportctl logs', 'kportctl logs web -f', 'kportctl logs -f -n 20', "kportctl logs --json | jq -c 'select(.level >= 40)'"],
  flags: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing new records until Ctrl-C' },
    lines: { type: 'string', short: 'n', arg: 'N', help: `how many of the last lines to print first (default 100, at most ${LOG_READ_MAX_LINES})` },
    ...JSON_FLAG,
  },
  positionals: { min: 0, max: 1 },
  completes: ['session', null],
  exits: STANDARD_EXITS,
  async run({ args, flags: f, io, connect }) {
    const lines = f.lines === undefined ? 100 : integer(f.lines, 'lines', 1, LOG_READ_MAX_LINES);
    const name = args[0] === undefined ? null : sessionName(args[0]);
    const style = styleFor(io.stdout.isTTY, io.env);
    const interrupted = f.follow ? io.interrupted() : null;
    const rpc = await connect();
    // A NAME that is no session is an error (NOT_FOUND), as kubectl logs of a missing pod is.
    if (name !== null) await rpc.call('session.get', { name });
    // One session's lines are picked from as much of the log as one read returns.
    const wanted = (record: Record<string, unknown>) => name === null || record.session === name;
    // Records logged while the file is read arrive both ways: held back, then printed unless already read.
    const held: Record<string, unknown>[] = [];
    let live = false;
    const print = (record: Record<string, unknown>) => io.stdout.write(`${f.json ? JSON.stringify(record) : logLine(record, style)}\n`);
    rpc.on('log', (record) => {
      if (!wanted(record)) return;
      if (live) print(record);
      else held.push(record);
    });
    if (f.follow) await rpc.call('events.subscribe', { logs: true });
    const read = await rpc.call('logs.read', { lines: name === null ? lines : LOG_READ_MAX_LINES });
    const shown = name === null ? read.lines : read.lines.filter((l) => ofSession(l, name)).slice(-lines);
    for (const line of shown) io.stdout.write(`${f.json ? line : prettyLogFileLine(line, style)}\n`);
    if (!interrupted) return EXIT.OK;
    const seen = new Set(read.lines.map(normal));
    for (const record of held) if (!seen.has(JSON.stringify(record))) print(record);
    live = true;
    return followUntilInterrupted(interrupted, rpc);
  },
});

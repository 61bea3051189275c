/** `kportctl list`: every session as a table fitting the terminal, or JSON; `-w` follows changes. */
import { basename } from 'node:path';
import type { ConfigStatus } from '../../daemon/api/rpc.js';
import type { SessionStatus } from '../../daemon/api/session.js';
import { command, EXIT, JSON_FLAG, UsageError, type Io } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { clock } from '../output/format.js';
import { Screen } from '../output/screen.js';
import { countLine, eventKey, eventLine, removedLine, sessionColumns } from '../output/sessions.js';
import { styleFor } from '../output/style.js';
import { table, tableWidth, truncate } from '../output/table.js';
import type { RpcClient } from '../rpc.js';
import { followUntilInterrupted } from './follow.js';

/** The table for `sessions` as lines: fitted to the terminal, or every column uncut when `wide`. */
function render(sessions: readonly SessionStatus[], wide: boolean, io: Io): string[] {
  const columns = sessionColumns(wide, Date.now(), styleFor(io.stdout.isTTY, io.env));
  return table(columns, sessions, wide ? Infinity : tableWidth(io.stdout, io.env));
}

/** The line under the table when kport.yaml is missing or empty, else null. */
function blankNote(c: ConfigStatus): string | null {
  if (c.blank === null) return null;
  const running = c.ok ? 'only sessions added with kportctl run' : 'the sessions it declared keep running (kportctl status)';
  return `${basename(c.file ?? 'kport.yaml')} is ${c.blank}: ${running}`;
}

/**
 * Follows changes: redrawn in place on a terminal, else the table once and then one timestamped line
 * per change (counter-only updates print nothing). Runs until Ctrl-C.
 */
async function watch(rpc: RpcClient, io: Io, wide: boolean, interrupted: Promise<void>): Promise<number> {
  const style = styleFor(io.stdout.isTTY, io.env);
  const sessions = new Map<string, SessionStatus>();
  // kportd sends each change before answering any later call, so a notification that arrived before
  // the list is at least as new as the list's entry for that session: the list must not overwrite it.
  const touched = new Set<string>();
  const printed = new Map<string, string>();
  let live = false;
  const sorted = () => [...sessions.values()].sort((a, b) => a.name.localeCompare(b.name));
  const screen = io.stdout.isTTY
    ? new Screen(io.stdout, () => [
        style.dim(truncate(`${countLine(sorted())} · ${clock(new Date())} · Ctrl-C to quit`, tableWidth(io.stdout, io.env))),
        '',
        ...render(sorted(), wide, io),
      ])
    : null;

  function onChanged(s: SessionStatus): void {
    sessions.set(s.name, s);
    touched.add(s.name);
    if (!live) return;
    if (screen) return screen.request();
    if (printed.get(s.name) === eventKey(s)) return;
    printed.set(s.name, eventKey(s));
    io.stdout.write(`${eventLine(new Date(), s, style)}\n`);
  }
  function onRemoved({ name }: { name: string }): void {
    sessions.delete(name);
    touched.add(name);
    printed.delete(name);
    if (!live) return;
    if (screen) return screen.request();
    io.stdout.write(`${removedLine(new Date(), name, style)}\n`);
  }
  rpc.on('session.changed', onChanged);
  rpc.on('session.removed', onRemoved);
  await rpc.call('events.subscribe', {});
  for (const s of await rpc.call('session.list', {})) if (!touched.has(s.name)) sessions.set(s.name, s);
  for (const s of sessions.values()) printed.set(s.name, eventKey(s));
  live = true;
  if (screen) screen.start();
  else io.stdout.write(`${render(sorted(), wide, io).join('\n')}\n`);
  try {
    return await followUntilInterrupted(interrupted, rpc);
  } finally {
    screen?.stop();
  }
}

/** `kportctl list`. */
export const list = command({
  name: 'list',
  summary: 'list sessions: state, local → target, pod, traffic, last error',
  usage: ['[-w] [--wide | -o wide | --json]'],
  description: `
Lists every forward and proxy: its state, where it listens and what it forwards to, the pod
receiving new connections, open connections, traffic, age, and why it is not ready (or its last
error). The table fits the terminal (80 columns when output is not a terminal) by cutting long
names, targets and reasons with …; --wide shows every column uncut. With -w it keeps the
table up to date until Ctrl-C: redrawn in place on a terminal, else one line per change.`,
  examples: ['kportctl list', 'kportctl list -w', 'kportctl list --wide', "kportctl list --json | jq -r '.[] | select(.state != \"ready\") | .name'"],
  flags: {
    watch: { type: 'boolean', short: 'w', help: 'keep the table updated until Ctrl-C' },
    wide: { type: 'boolean', help: 'every column (kind, source, namespace, context, pods, in/out, reconnects, failovers, last error), uncut' },
    output: { type: 'string', short: 'o', arg: 'FORMAT', help: 'wide or json' },
    ...JSON_FLAG,
  },
  positionals: { min: 0, max: 0 },
  exits: STANDARD_EXITS,
  async run({ flags: f, io, connect }) {
    if (f.output !== undefined && f.output !== 'wide' && f.output !== 'json') throw new UsageError(`-o ${f.output}: write -o wide or -o json`);
    const json = f.json === true || f.output === 'json';
    const wide = f.wide === true || f.output === 'wide';
    if (json && f.watch) throw new UsageError('--json cannot be combined with -w; kportctl events --json follows changes as JSON');
    const interrupted = f.watch ? io.interrupted() : null;
    const rpc = await connect();
    if (interrupted) return watch(rpc, io, wide, interrupted);
    const sessions = await rpc.call('session.list', {});
    if (json) {
      io.stdout.write(`${JSON.stringify(sessions, null, 2)}\n`);
      return EXIT.OK;
    }
    if (sessions.length === 0) io.stderr.write('no sessions: add one with kportctl add (or declare it in kport.yaml)\n');
    else io.stdout.write(`${render(sessions, wide, io).join('\n')}\n`);
    const note = blankNote((await rpc.call('daemon.status', {})).config);
    if (note !== null) io.stderr.write(`${note}\n`);
    return EXIT.OK;
  },
});

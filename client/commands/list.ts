/** `kportctl list`: every session as a table fitting the terminal, or JSON; `-w` follows changes. */
import { basename } from 'node:path';
import { KportError } from '../../daemon/api/errors.js';
import type { ConfigStatus } from '../../daemon/api/rpc.js';
import type { SessionStatus } from '../../daemon/api/session.js';
import { command, EXIT, JSON_FLAG, sessionName, UsageError, type Io } from '../command.js';
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

/** The line under the table when kport.yaml is missing, empty or has errors, else null. */
export function configNote(c: ConfigStatus): string | null {
  const file = basename(c.file ?? 'kport.yaml');
  if (c.blank !== null) {
    const running = c.ok ? 'only sessions added with kportctl run' : 'the sessions it declared keep running (kportctl status)';
    return `${file} is ${c.blank}: ${running}`;
  }
  if (c.ok || c.errors.length === 0) return null;
  return `${file} has ${c.errors.length} error${c.errors.length === 1 ? '' : 's'}; the last good version is running: kportctl status`;
}

/** What `-o` takes; `--json` is `-o json`, `--wide` is `-o wide`. */
const FORMATS = ['json', 'yaml', 'name', 'wide'] as const;
type Format = (typeof FORMATS)[number] | 'table';

/** `forward/web`, as kubectl's `-o name` writes KIND/NAME; every verb taking a NAME accepts it. */
const kindName = (s: SessionStatus) => `${s.kind}/${s.name}`;

/**
 * Follows changes: redrawn in place on a terminal, else the table once and then one timestamped line
 * per change (counter-only updates print nothing). Runs until Ctrl-C.
 */
async function watch(rpc: RpcClient, io: Io, wide: boolean, only: ReadonlySet<string> | null, interrupted: Promise<void>): Promise<number> {
  const style = styleFor(io.stdout.isTTY, io.env);
  const sessions = new Map<string, SessionStatus>();
  // kportd sends each change before answering any later call, so a notification that arrived before
  // the list is at least as new as the list's entry for that session: the list must not overwrite it.
  const touched = new Set<string>();
  const printed = new Map<string, string>();
  let live = false;
  const sorted = () => [...sessions.values()].sort((a, b) => a.name.localeCompare(b.name));
  const wanted = (name: string) => only === null || only.has(name);
  const screen = io.stdout.isTTY
    ? new Screen(io.stdout, () => [
        style.dim(truncate(`${countLine(sorted())} · ${clock(new Date())} · Ctrl-C to quit`, tableWidth(io.stdout, io.env))),
        '',
        ...render(sorted(), wide, io),
      ])
    : null;

  function onChanged(s: SessionStatus): void {
    if (!wanted(s.name)) return;
    sessions.set(s.name, s);
    touched.add(s.name);
    if (!live) return;
    if (screen) return screen.request();
    if (printed.get(s.name) === eventKey(s)) return;
    printed.set(s.name, eventKey(s));
    io.stdout.write(`${eventLine(new Date(), s, style)}\n`);
  }
  function onRemoved({ name }: { name: string }): void {
    if (!wanted(name)) return;
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
  for (const s of await rpc.call('session.list', {})) if (wanted(s.name) && !touched.has(s.name)) sessions.set(s.name, s);
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

/** The output format the flags ask for; usage errors for a contradiction. */
function formatOf(f: { output?: string; json?: boolean; wide?: boolean; watch?: boolean }): Format {
  if (f.output !== undefined && !(FORMATS as readonly string[]).includes(f.output)) {
    throw new UsageError(`-o ${JSON.stringify(f.output)}: write -o ${FORMATS.join(', -o ')}`);
  }
  const format: Format = f.json ? 'json' : f.wide ? 'wide' : ((f.output as Format | undefined) ?? 'table');
  if (f.output !== undefined && f.output !== format) throw new UsageError(`-o ${f.output} and --${format} ask for two formats: give one`);
  if (f.watch && format !== 'table' && format !== 'wide') {
    throw new UsageError(`-o ${format} cannot be combined with -w; kportctl events --json follows changes as JSON`);
  }
  return format;
}

/** `kportctl list`. */
export const list = command({
  name: 'list',
  aliases: ['ls', 'get'],
  summary: 'list sessions: state, local → target, pod, traffic, last error',
  usage: ['[NAME...] [-w] [-o wide|json|yaml|name | --wide | --json]'],
  description: `
Lists every forward and proxy (or those named): its state, where it listens and what it forwards
to, the pod receiving new connections, open connections, traffic, age, and why it is not ready
(or its last error). The table fits the terminal (80 columns when output is not a terminal) by
cutting long names, targets and reasons with …; --wide (-o wide) shows every column uncut, the
kubeconfig a session was added with among them. -o json and -o yaml print what kportd reports;
-o name prints KIND/NAME (forward/web), which every verb taking a NAME accepts. With -w it keeps
the table up to date until Ctrl-C: redrawn in place on a terminal, else one line per change. A
NAME that is not there is an error (exit 1) after the others are printed. A line under the table
says when kport.yaml has errors, is missing or is empty.`,
  examples: ['kportctl list', 'kportctl ls web db', 'kportctl list -w', 'kportctl get -o wide', 'kportctl list -o name | xargs -n1 kportctl restart', "kportctl list --json | jq -r '.[] | select(.state != \"ready\") | .name'"],
  flags: {
    watch: { type: 'boolean', short: 'w', help: 'keep the table updated until Ctrl-C' },
    wide: { type: 'boolean', help: 'every column (kind, source, namespace, context, kubeconfig, pods, in/out, reconnects, failovers, last error), uncut' },
    output: { type: 'string', short: 'o', arg: 'FORMAT', help: 'wide, json, yaml or name', completes: FORMATS },
    ...JSON_FLAG,
  },
  positionals: { min: 0, max: Infinity },
  completes: ['session'],
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'a NAME is not a session (the others are printed), or a kportd error' },
  async run({ args, flags: f, io, connect }) {
    const format = formatOf(f);
    const names = args.map(sessionName);
    const only = names.length > 0 ? new Set(names) : null;
    const interrupted = f.watch ? io.interrupted() : null;
    const rpc = await connect();
    if (interrupted) return watch(rpc, io, format === 'wide', only, interrupted);
    const all = await rpc.call('session.list', {});
    const sessions = only ? all.filter((s) => only.has(s.name)) : all;
    const missing = names.filter((n, i) => names.indexOf(n) === i && !all.some((s) => s.name === n));
    if (format === 'json') io.stdout.write(`${JSON.stringify(sessions, null, 2)}\n`);
    // yaml is loaded for -o yaml only: every other list (and every other verb) goes without it.
    else if (format === 'yaml') io.stdout.write((await import('yaml')).stringify(sessions));
    else if (format === 'name') io.stdout.write(sessions.map((s) => `${kindName(s)}\n`).join(''));
    else {
      if (sessions.length > 0) io.stdout.write(`${render(sessions, format === 'wide', io).join('\n')}\n`);
      else if (only === null) io.stderr.write('no sessions: add one with kportctl add (or declare it in kport.yaml)\n');
      const note = configNote((await rpc.call('daemon.status', {})).config);
      if (note !== null) io.stderr.write(`${note}\n`);
    }
    if (missing.length === 0) return EXIT.OK;
    const which = missing.map((n) => JSON.stringify(n)).join(', ');
    throw new KportError('NOT_FOUND', `no session named ${which} (kportctl list shows them all)`);
  },
});

/** `kportctl reload`: re-read kport.yaml now and report what changed (or why nothing did). */
import { formatIssue } from '../../config/issues.js';
import type { ReloadResult } from '../../daemon/api/rpc.js';
import { command, EXIT, JSON_FLAG } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { oneLine } from '../output/format.js';

/** `config reloaded: 1 added, …` and a line per non-empty group of names. */
export function reloadLines(r: ReloadResult): string[] {
  const groups = [['added', r.added], ['removed', r.removed], ['changed', r.changed]] as const;
  const counts = [...groups.map(([what, names]) => `${names.length} ${what}`), `${r.unchanged.length} unchanged`];
  return [`config reloaded: ${counts.join(', ')}`, ...groups.filter(([, names]) => names.length > 0).map(([what, names]) => `  ${what.padEnd(8)} ${names.join(', ')}`)];
}

/** `kportctl reload`. */
export const reload = command({
  name: 'reload',
  summary: 'reload kport.yaml now; print what was added, removed, changed',
  usage: ['[--json]'],
  description: `
Makes kportd re-read kport.yaml at once (it also does on its own when the file changes, and on
SIGHUP). Only sessions whose entries changed are restarted. If the file has errors nothing
changes: each error is printed with its line and kportctl exits 1; the running sessions stay
those of the last good load.`,
  examples: ['kportctl reload', 'kportctl reload --json'],
  flags: { ...JSON_FLAG },
  positionals: { min: 0, max: 0 },
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'kport.yaml has errors (nothing was changed), or another error from kportd' },
  async run({ flags: f, io, connect }) {
    const r = await (await connect()).call('config.reload', {});
    if (f.json) io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      for (const issue of r.errors) io.stderr.write(`kportctl: INVALID_CONFIG: ${oneLine(formatIssue(issue))}\n`);
      for (const issue of r.warnings) io.stderr.write(`${oneLine(formatIssue(issue))}\n`);
      if (r.ok) io.stdout.write(`${reloadLines(r).join('\n')}\n`);
      else io.stderr.write(`kportctl: INVALID_CONFIG: config not reloaded: ${r.errors.length} error${r.errors.length === 1 ? '' : 's'}; running sessions come from the last good load\n`);
    }
    return r.ok ? EXIT.OK : EXIT.ERROR;
  },
});

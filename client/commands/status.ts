/** `kportctl status`: the daemon itself: version, pid, uptime, files, configuration, session counts, metrics. */
import { formatHostPort } from '../../config/addresses.js';
import { formatIssue } from '../../config/issues.js';
import type { DaemonStatus } from '../../daemon/api/rpc.js';
import { SESSION_STATES } from '../../daemon/api/session.js';
import { command, EXIT, JSON_FLAG } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { age, clock, oneLine } from '../output/format.js';
import { styleFor, type Style } from '../output/style.js';

/** The configuration part: file, when loaded, and every error and warning of the last load. */
function configLines(s: DaemonStatus, style: Style): string[] {
  const c = s.config;
  if (c.file === null) return ['config    none'];
  if (c.loadedAt === null) return [`config    ${c.file} (not loaded yet)`];
  const when = clock(new Date(c.loadedAt));
  const head = c.ok
    ? `config    ${c.file} (loaded ${when})`
    : `config    ${c.file} (${style.red(`load at ${when} failed`)}: running sessions come from the last good load)`;
  return [head, ...[...c.errors, ...c.warnings].map((i) => `          ${oneLine(formatIssue(i))}`)];
}

/** Where the metrics are served, or why they are not; nothing when kport.yaml has no `metrics:` section. */
function metricsLines(s: DaemonStatus, style: Style): string[] {
  const m = s.metrics;
  if (!m) return [];
  if (m.url !== null) return [`metrics   ${m.url}`];
  const where = formatHostPort(m.address, m.port);
  if (m.error === null) return [`metrics   ${where} (starting)`];
  return [`metrics   ${where}: ${style.red(`not served: ${m.error.message}`)} (${m.error.code}; kportctl reload retries)`];
}

/** The whole report as lines. */
export function statusLines(s: DaemonStatus, style: Style): string[] {
  const counts = SESSION_STATES.filter((st) => s.sessions[st] > 0).map((st) => `${s.sessions[st]} ${style.state(st)(st)}`);
  return [
    `kportd ${s.version}, pid ${s.pid}, up ${age(s.uptimeMs, 2)}`,
    `socket    ${s.socket}`,
    `log       ${s.logFile}`,
    ...configLines(s, style),
    `sessions  ${s.sessions.total}${counts.length ? `: ${counts.join(', ')}` : ''}`,
    ...metricsLines(s, style),
  ];
}

/** `kportctl status`. */
export const status = command({
  name: 'status',
  summary: "kportd's version, pid, uptime, files, last config load, counts",
  usage: ['[--json]'],
  description: `
Reports on kportd itself: version, pid and uptime; its socket and log file; the configuration
file and the result of its last load (every error, with its line: while the file is invalid the
running sessions come from the last good load); how many sessions are in each state; and,
when kport.yaml has a metrics: section, where GET /metrics answers or why it does not.`,
  examples: ['kportctl status', 'kportctl status --json | jq .config.errors'],
  flags: { ...JSON_FLAG },
  positionals: { min: 0, max: 0 },
  exits: STANDARD_EXITS,
  async run({ flags: f, io, connect }) {
    const s = await (await connect()).call('daemon.status', {});
    io.stdout.write(f.json ? `${JSON.stringify(s, null, 2)}\n` : `${statusLines(s, styleFor(io.stdout.isTTY, io.env)).join('\n')}\n`);
    return EXIT.OK;
  },
});

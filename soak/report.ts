/**
 * The soak's summary and verdict: transfers by outcome, recovery per fault kind, kportd's RSS and fd
 * series, what its log said, and the list of reasons to fail (empty means pass).
 */
import { FAULT_KINDS } from './faults.js';
import type { Miss, Tally } from './ledger.js';
import { FD_SLACK, fmtMs, type FaultRecord, type SoakReport } from './run.js';

/** Every session that served nothing within the stuck bound: after which fault, and the last thing that went wrong. */
export function stuckSessions(r: SoakReport): { after: string; session: string; lastError: string }[] {
  const out: { after: string; session: string; lastError: string }[] = [];
  for (const f of r.faults) for (const s of f.served) if (!s.ok && !s.aborted) out.push({ after: `f${f.n} ${f.fault.kind}`, session: s.session, lastError: s.lastError });
  for (const s of r.finalServed) if (!s.ok && !s.aborted) out.push({ after: 'the end of the run', session: s.session, lastError: s.lastError });
  return out;
}

/** Failed load transfers that no fault's span (start → probes done + aftermath) overlaps. */
export function unexplained(r: SoakReport): Miss[] {
  return r.ledger.misses.filter((m) => m.source !== 'probe' && !r.faults.some((f) => m.start <= f.span[1] && m.end >= f.span[0]));
}

/** Why the run fails; empty when it passes. */
export function verdict(r: SoakReport): string[] {
  const why: string[] = [];
  const total = r.ledger.total();
  if (r.crash) why.push(`kportd exited during the run (${r.crash.code !== null ? `code ${r.crash.code}` : r.crash.signal})`);
  else if (!r.alive) why.push('kportd did not answer daemon.status at the end');
  if (r.aborted && !r.crash) why.push(r.aborted === 'interrupted' ? 'the run was interrupted' : r.aborted);
  if (total.corrupted) why.push(`${total.corrupted} corrupted transfer(s): ${examples(r.ledger.misses.filter((m) => m.result === 'corrupted'))}`);
  for (const s of stuckSessions(r)) why.push(`${s.session} stuck: nothing served within ${fmtMs(r.options.stuckMs)} after ${s.after} (${s.lastError})`);
  // Once kportd is gone every connection is refused: only what happened before counts.
  const before = (m: Miss) => !r.crash || m.end < r.crash.at;
  const refused = r.ledger.misses.filter((m) => m.result === 'refused' && before(m));
  if (refused.length) why.push(`${refused.length} connection(s) refused (a listener was gone): ${examples(refused)}`);
  const stalled = r.ledger.bySource.echo.stalled + r.ledger.bySource.http.stalled;
  if (stalled) why.push(`${stalled} transfer(s) stalled with no byte moving: ${examples(r.ledger.misses.filter((m) => m.result === 'stalled' && m.source !== 'probe'))}`);
  for (const f of r.faults) if (f.lifted.problem) why.push(`f${f.n} ${f.fault.kind}: ${f.lifted.problem}`);
  if (r.baseline && r.final && r.final.fds > r.baseline.fds + FD_SLACK) why.push(`open fds grew from ${r.baseline.fds} to ${r.final.fds} and did not come back`);
  if (!r.crash && r.baseline && !r.final) why.push('no final /proc sample of kportd');
  if (r.spdyAtEnd && r.spdyAtEnd.streams > 0) why.push(`${r.spdyAtEnd.streams} port-forward stream(s) still open on the API server with no connection left to carry`);
  return why;
}

function examples(misses: Miss[]): string {
  return misses
    .slice(0, 3)
    .map((m) => `${m.session} ${m.source}${m.size ? ` ${m.size} B` : ''}: ${m.error}`)
    .join('; ');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** At most `max` evenly spaced values of a series, as integers. */
function series(values: number[], max = 40): string {
  const step = Math.max(1, Math.ceil(values.length / max));
  return values.filter((_, i) => i % step === 0 || i === values.length - 1).map((v) => Math.round(v)).join(' ');
}

function tallyRow(name: string, t: Tally): string {
  const cols = [t.ok, t.closed, t.corrupted, t.refused, t.stalled].map((n, i) => String(n).padStart([8, 14, 11, 9, 9][i]!));
  return `  ${name.padEnd(8)}${cols.join('')}${(t.bytes / 1024 / 1024).toFixed(1).padStart(11)}`;
}

function recoveryRows(faults: FaultRecord[]): string[] {
  const rows: string[] = [];
  for (const kind of FAULT_KINDS) {
    const of = faults.filter((f) => f.fault.kind === kind);
    if (!of.length) continue;
    const times = of.flatMap((f) => f.served.filter((s) => s.ok && f.affected.includes(s.session)).map((s) => ({ ms: s.ms, who: `${s.session} after f${f.n}` })));
    const stuck = of.flatMap((f) => f.served.filter((s) => !s.ok && !s.aborted)).length;
    if (!times.length) {
      rows.push(`  ${kind.padEnd(20)}${String(of.length).padStart(3)}${'-'.padStart(10)}${'-'.padStart(10)}${stuck ? `   ${stuck} stuck` : ''}`);
      continue;
    }
    const worst = times.reduce((a, b) => (b.ms > a.ms ? b : a));
    const med = median(times.map((t) => t.ms));
    rows.push(`  ${kind.padEnd(20)}${String(of.length).padStart(3)}${fmtMs(med).padStart(10)}${fmtMs(worst.ms).padStart(10)}   ${worst.who}${stuck ? `; ${stuck} stuck` : ''}`);
  }
  return rows;
}

/** The printed summary. */
export function formatReport(r: SoakReport): string {
  const lines: string[] = [];
  const o = r.options;
  lines.push(`kport soak summary — seed ${r.seed} (--seed ${r.seed} replays the faults), ${r.minutes} min requested, load ran ${(r.elapsedMs / 1000).toFixed(1)} s`);
  lines.push(`  load started ${r.startedAt || '-'} (fault times are seconds after it)`);
  lines.push(`  load: ${o.workers} echo workers, 1 KB–4 MB payloads at ≤ ${o.rateMBs} MB/s; ${o.httpPerSec} GET/s through forward web and proxy api`);
  if (r.aborted) lines.push(`  ENDED EARLY: ${r.aborted}`);
  lines.push('');
  lines.push(`transfers       ok  clean-closed  corrupted  refused  stalled  MB intact`);
  lines.push(tallyRow('echo', r.ledger.bySource.echo));
  lines.push(tallyRow('http', r.ledger.bySource.http));
  lines.push(tallyRow('probes', r.ledger.bySource.probe));
  lines.push(tallyRow('total', r.ledger.total()));
  const lone = unexplained(r);
  lines.push(`  failed load transfers outside every fault's span: ${lone.length}${lone.length ? ` — e.g. ${examples(lone)}` : ''}`);
  lines.push('');
  lines.push(`faults: ${r.faults.length}`);
  for (const f of r.faults) {
    const served = f.served.filter((s) => f.affected.includes(s.session)).map((s) => (s.ok ? `${s.session} ${fmtMs(s.ms)}` : `${s.session} ${s.aborted ? 'aborted' : 'STUCK'}`));
    lines.push(`  [${f.startS.toFixed(1).padStart(6)} s] f${f.n} ${f.fault.kind}: ${f.lifted.detail} → ${served.join(', ')}`);
  }
  lines.push('');
  lines.push('recovery: fault lifted → first connection served, over each affected session');
  lines.push(`  ${'fault kind'.padEnd(20)}  n    median       max   slowest`);
  lines.push(...recoveryRows(r.faults));
  const stuck = stuckSessions(r);
  lines.push(`stuck sessions (nothing served within ${fmtMs(o.stuckMs)} of the cluster being healthy): ${stuck.length ? stuck.map((s) => `${s.session} after ${s.after}`).join('; ') : 'none'}`);
  lines.push('');
  const every = r.samples.length > 1 ? `${Math.round(r.samples[1]!.t - r.samples[0]!.t)} s` : '-';
  const rss = r.samples.map((s) => s.rssMB);
  const fds = r.samples.map((s) => s.fds);
  const b = r.baseline;
  const e = r.final;
  lines.push(`kportd RSS MB (every ${every}): ${series(rss)}`);
  lines.push(`  start ${b ? b.rssMB.toFixed(0) : '-'}, max ${rss.length ? Math.max(...rss).toFixed(0) : '-'}, end ${e ? e.rssMB.toFixed(0) : '-'}`);
  lines.push(`kportd open fds (every ${every}): ${series(fds)}`);
  lines.push(`  start ${b?.fds ?? '-'}, max ${fds.length ? Math.max(...fds) : '-'}, end ${e?.fds ?? '-'} (allowed: start + ${FD_SLACK})`);
  const last = r.samples[r.samples.length - 1];
  if (b && last && last.t > 0) lines.push(`kportd CPU: ${(last.cpuS - b.cpuS).toFixed(1)} s over ${last.t.toFixed(0)} s of load (${(((last.cpuS - b.cpuS) / last.t) * 100).toFixed(0)}% of one core)`);
  const sp = r.spdyAtEnd;
  if (sp) lines.push(`API server's SPDY port-forwards at the end: ${sp.connections} connections, ${sp.streams} streams open; ${sp.accepted.upgrade} upgrades and ${sp.accepted.tunnel} tunnels accepted over the run`);
  lines.push(`kportd ${r.crash ? `EXITED (${r.crash.code ?? r.crash.signal})` : r.alive ? 'alive at the end' : 'NOT ANSWERING at the end'}`);
  const levels = Object.entries(r.log.byLevel).map(([l, n]) => `${l} ${n}`).join(', ');
  lines.push(`kportd log: ${r.log.lines} lines (${levels || 'none'})`);
  for (const t of r.log.top.slice(0, 12)) lines.push(`  ${String(t.count).padStart(5)}× ${t.what}${t.example ? ` — e.g. ${t.example}` : ''}`);
  if (r.crash || r.log.raw.length) for (const l of r.log.raw.slice(-15)) lines.push(`  | ${l}`);
  if (r.dir) lines.push(`kept: ${r.dir}`);
  lines.push('');
  const why = verdict(r);
  lines.push(why.length ? `verdict: FAIL\n${why.map((w) => `  - ${w}`).join('\n')}` : 'verdict: PASS');
  return lines.join('\n');
}

/**
 * The comparison's figures as text: each figure absolute (median and range over the rounds) and as
 * the ratio kport/kubectl, next to the issue's target for it, met or NOT met; then the v4 fallback
 * and the backend itself for comparison, who was busy, and memory across 1,000 connections.
 */
import type { CompareFigures, Metric, Phase, Round, Series } from './compare.js';
import { median } from './load.js';

/** A target on the ratio kport/kubectl. */
interface Target {
  op: '≤' | '≥';
  ratio: number;
}

/** The table's rows, in order, with the issue's targets. */
const rowsOf = (f: CompareFigures): { metric: Metric; label: string; target: Target | null }[] => [
  { metric: 'connectP50', label: 'new connection p50, ms', target: { op: '≤', ratio: 0.8 } },
  { metric: 'connectP90', label: 'new connection p90, ms', target: null },
  { metric: 'download1', label: 'download, 1 stream, MB/s', target: { op: '≥', ratio: 1.0 } },
  { metric: 'download8', label: `download, ${f.settings.parallelStreams} streams, MB/s`, target: { op: '≥', ratio: 1.0 } },
  { metric: 'echo1', label: 'echo, 1 stream, MB/s each way', target: { op: '≥', ratio: 1.0 } },
];
/** kportd's RSS after the 1,000 connections may exceed the RSS before them by this much. */
const RSS_TARGET_MB = 10;
/** Above this share of the machine used by other work during the rounds, the ratios come with a warning. */
const NOISY_SHARE = 0.25;

const num = (n: number) => (n >= 99.5 ? String(Math.round(n)) : n >= 9.995 ? n.toFixed(1) : n.toFixed(2));
const ratio = (n: number) => `${n.toFixed(2)}×`;
const values = (s: Series, m: Metric) => s.rounds.map((r: Round) => r[m]);
const verdict = (t: Target, r: number) => ((t.op === '≤' ? r <= t.ratio : r >= t.ratio) ? 'met' : 'NOT met');

/** "12.3 (11.9–12.8)": the median and the range over rounds (just the value for one round). */
function spread(v: number[]): string {
  if (v.length === 1) return num(v[0]!);
  return `${num(median(v))} (${num(Math.min(...v))}–${num(Math.max(...v))})`;
}

/** Left-aligned first column, the rest right-aligned, two spaces apart. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`.trimEnd());
}

/** The main table: kport (spdy) and kubectl, with ratios and targets. */
function mainTable(f: CompareFigures): string[] {
  const k = f.kubectl;
  const head = ['', 'kport (spdy)', ...(k ? ['kubectl', 'kport/kubectl', 'rounds', 'target'] : [])];
  const rows = rowsOf(f).map(({ metric, label, target }) => {
    const mine = values(f.kport, metric);
    if (!k) return [label, spread(mine)];
    const theirs = values(k, metric);
    const r = median(mine) / median(theirs);
    // Each round's ratio against the kubectl round that followed it.
    const paired = mine.map((v, i) => v / theirs[i]!);
    return [label, spread(mine), spread(theirs), ratio(r), `${ratio(Math.min(...paired))}–${ratio(Math.max(...paired))}`, target ? `${target.op} ${ratio(target.ratio)}  ${verdict(target, r)}` : '—'];
  });
  return table([head, ...rows]);
}

/** One round each of the v4 fallback and the backend itself, beside the medians above. */
function comparisonTable(f: CompareFigures): string[] {
  const k = f.kubectl;
  const head = ['', 'kport (websocket)', ...(k ? ['ws/kubectl'] : []), 'ws/spdy', 'direct to the pod'];
  const rows = rowsOf(f).map(({ metric, label }) => {
    const ws = values(f.kportWebsocket, metric)[0]!;
    const cells = [label, num(ws)];
    if (k) cells.push(ratio(ws / median(values(k, metric))));
    cells.push(ratio(ws / median(values(f.kport, metric))), num(values(f.direct, metric)[0]!));
    return cells;
  });
  return table([head, ...rows]);
}

/** Who was busy while each figure was measured, median over the rounds, and CPU per unit of work. */
function usageTable(f: CompareFigures): string[] {
  const series: [string, Series | null, string | null][] = [
    ['kport (spdy)', f.kport, 'kportd'],
    ['kubectl', f.kubectl, 'kubectl'],
    ['kport (websocket)', f.kportWebsocket, 'kportd'],
    ['direct', f.direct, null],
  ];
  const { connections, downloadMiB, echoMiB, parallelStreams } = f.settings;
  // Per unit: µs per new connection; ms per MiB moved (echo: per MiB each way).
  const phases: [Phase, string, number, string][] = [
    ['connect', 'new connections', connections / 1000, 'µs/conn'],
    ['download1', 'download, 1 stream', downloadMiB, 'ms/MiB'],
    ['download8', `download, ${parallelStreams} streams`, downloadMiB, 'ms/MiB'],
    ['echo1', 'echo, 1 stream', echoMiB, 'ms/MiB'],
  ];
  const pct = (n: number) => `${Math.round(n * 100)}%`;
  const rows = [['', 'forwarder CPU', 'per unit', 'simulator CPU', 'per unit', 'sim loop busy', 'load CPU', 'machine', 'not ours']];
  for (const [name, s, proc] of series) {
    if (!s) continue;
    for (const [phase, label, units, unit] of phases) {
      const us = s.usage.map((u) => u[phase]);
      const share = (k: string) => median(us.map((u) => (u.cpu[k] ?? 0) / u.seconds));
      const perUnit = (k: string) => `${num(median(us.map((u) => ((u.cpu[k] ?? 0) * 1000) / units)))} ${unit}`;
      rows.push([
        `${name}, ${label}`,
        proc ? `${pct(share(proc))} ${proc}` : '—',
        proc ? perUnit(proc) : '—',
        pct(share('simulator')),
        perUnit('simulator'),
        pct(median(us.map((u) => u.loops.simulator ?? 0))),
        pct(share('load')),
        pct(median(us.map((u) => u.machine))),
        pct(median(us.map((u) => u.others))),
      ]);
    }
  }
  return table(rows);
}

/** The comparison as text. */
export function formatCompare(f: CompareFigures): string {
  const k = f.kubectlBinary;
  const out: string[] = [];
  out.push(
    k
      ? `kubectl: ${k.bin} ${k.version}, ${k.form === 'upgrade' ? 'plain SPDY upgrade (KUBECTL_PORT_FORWARD_WEBSOCKETS=false), as kport’s spdy' : 'SPDY tunnelled in a WebSocket (its default)'}`
      : 'kubectl: not found (set $KUBECTL or install it at /usr/bin/kubectl): kubectl rows, ratios and targets skipped',
  );
  const spdyOk = f.transports.spdy === 'spdy';
  out.push(`kport transport (session.get): ${f.transports.spdy ?? 'none'}${spdyOk ? '' : '  ← expected spdy: these are not SPDY figures'}; the websocket forward: ${f.transports.websocket ?? 'none'}`);
  const sc = f.spdyConnections;
  const form = (a: { upgrade: number; tunnel: number }) => `${a.upgrade} upgrade + ${a.tunnel} tunnel`;
  out.push(`SPDY connections the simulator accepted for pod/bench over the run: kport ${form(sc.kport)}${sc.kubectl ? `, kubectl ${form(sc.kubectl)}` : ''}; open at the end: ${sc.openAtEnd}`);
  out.push('');
  out.push(`median (range) over ${f.settings.rounds} alternating rounds; a round: ${f.settings.connections} new connections in a row after a warm-up one (connect → first echoed byte), then download and echo; one unmeasured round each first`);
  out.push(...mainTable(f));
  const busyElsewhere = median([f.kport, f.kubectl].flatMap((x) => x?.usage.flatMap((u) => Object.values(u).map((p) => p.others)) ?? []));
  if (busyElsewhere > NOISY_SHARE) {
    out.push(`  ⚠ other work used ${Math.round(busyElsewhere * 100)}% of the machine during these rounds (median): single-threaded kportd loses more of a saturated box than`);
    out.push(`    multi-threaded kubectl does, so these ratios say more about the box than about kport (see "not ours" below); rerun when it is quieter`);
  }
  const m = f.memory;
  const delta = m.kportd.after - m.kportd.before;
  const rss = (x: { before: number; after: number }) => `${x.before.toFixed(1)} → ${x.after.toFixed(1)} MB (${x.after - x.before >= 0 ? '+' : ''}${(x.after - x.before).toFixed(1)})`;
  out.push(`  RSS across ${f.settings.memoryConnections.toLocaleString('en')} connections in a row: kportd ${rss(m.kportd)}${m.kubectl ? `, kubectl ${rss(m.kubectl)}` : ''};  target: kportd within ${RSS_TARGET_MB} MB  ${Math.abs(delta) <= RSS_TARGET_MB ? 'met' : 'NOT met'}`);
  out.push(`  after the last of them: ${m.streamsOpenAfter} SPDY streams open at the simulator, ${m.kportConnectionsActive} connections active in kportd`);
  const fair = (x: Series) => median(x.fairness.map((r) => r.download8SlowestShare)).toFixed(2);
  const n = f.settings.parallelStreams;
  out.push(`  ${n}-stream download, the slowest stream's bytes over an even split (1.00 = fair): kport ${fair(f.kport)}${f.kubectl ? `, kubectl ${fair(f.kubectl)}` : ''}, kport websocket ${fair(f.kportWebsocket)}, direct ${fair(f.direct)}`);
  out.push('');
  out.push('for comparison, one round each: the v4 WebSocket fallback (one WebSocket per connection) and the backend itself');
  out.push(...comparisonTable(f));
  out.push('');
  out.push('who was busy (median over rounds): CPU in % of one core (processes: every thread; the simulator and the load generator: their own thread),');
  out.push('and per unit of work; the simulator (API server, kubelet, backends, TLS) loop busy in % of its time; machine and "not ours" (other work');
  out.push(`on the box) in % of all cores. Load average at the start: ${f.loadAverage.join(' ')}`);
  out.push(...usageTable(f));
  out.push(`(comparison took ${f.seconds} s)`);
  return out.join('\n');
}

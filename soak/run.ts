/**
 * One soak run: the simulated cluster, a real kportd forwarding to it, paced load through every session,
 * and seeded faults one after the other. After each fault is lifted every session is probed until it
 * serves a connection (its recovery time) or the stuck bound passes. kportd's RSS and fds are sampled
 * throughout. Everything it started (cluster, kportd, temp folder) is gone when it returns or throws.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { SpdyCounts } from '../test/cluster/spdy-endpoint.js';
import { waitUntil } from '../test/helpers/wait.js';
import { digestLog, type LogDigest } from './daemon-log.js';
import { affected, liftAll, runFault, scaleFor, Schedule, type Fault, type FaultContext, type Lifted } from './faults.js';
import { Kportd, type Exit, type ProcSample } from './kportd.js';
import { Ledger } from './ledger.js';
import { Load } from './load.js';
import { untilServed, type Served } from './probe.js';
import { newSeed, Random } from './random.js';
import { buildWorld, type World } from './world.js';

/** How to run a soak; everything but `minutes` has a default. */
export interface SoakOptions {
  minutes: number;
  /** Seed of the fault schedule (default: a fresh one, printed). */
  seed?: number;
  /** Concurrent echo transfers (default 4). */
  workers?: number;
  /** Echo payload MB/s, all workers together (default 16). */
  rateMBs?: number;
  /** GETs per second on each HTTP session (default 10). */
  httpPerSec?: number;
  /** A session that serves no connection this long after a fault is lifted is stuck (default 60 s). */
  stuckMs?: number;
  /** Keep the temp folder (kportd's log and state) instead of removing it. */
  keep?: boolean;
  /** Where progress lines go (default: nowhere). */
  print?: (line: string) => void;
  /** Ends the run early (faults lifted, everything cleaned up). */
  signal?: AbortSignal;
}

/** One fault as it happened. */
export interface FaultRecord {
  n: number;
  fault: Fault;
  /** Seconds since the load started, when it began. */
  startS: number;
  lifted: Lifted;
  affected: string[];
  /** Every session's probe after the fault was lifted. */
  served: Served[];
  /** performance.now() span, for telling which failed transfers it explains. */
  span: [number, number];
}

/** A sample of kportd's /proc, seconds since the load started. */
export interface TimedSample extends ProcSample {
  t: number;
}

/** Everything a soak measured. */
export interface SoakReport {
  seed: number;
  minutes: number;
  options: Required<Pick<SoakOptions, 'workers' | 'rateMBs' | 'httpPerSec' | 'stuckMs'>>;
  /** Wall time of the load phase. */
  elapsedMs: number;
  ledger: Ledger;
  faults: FaultRecord[];
  /** The probes after the last fault and the final lift-all: every session must serve. */
  finalServed: Served[];
  samples: TimedSample[];
  /** fds and RSS after start-up (one connection through each session, no load), and at the end once the load is gone. */
  baseline: ProcSample | null;
  final: ProcSample | null;
  /** kportd's exit, if it died during the run. */
  crash: Exit | null;
  /** kportd answered daemon.status at the end. */
  alive: boolean;
  log: LogDigest;
  /** Where kportd's log and state were kept (only with `keep`). */
  dir: string | null;
  /** Set when the run was cut short. */
  aborted: string | null;
  /** Wall-clock time the load started (fault times are seconds after it; kportd's log has epoch ms). */
  startedAt: string;
  /** The simulated API server's SPDY port-forward connections and streams once the load was gone. */
  spdyAtEnd: SpdyCounts | null;
}

/** More fds at the end than at the start, beyond this, is a leak (pods were replaced, so sessions to them differ a little). */
export const FD_SLACK = 10;
/** After a fault's probes, transfers that fail this soon are still its doing. */
const AFTERMATH_MS = 2_000;

/** Runs a soak and reports; never leaves a process, port or folder behind. */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const seed = opts.seed ?? newSeed();
  const o = { workers: opts.workers ?? 4, rateMBs: opts.rateMBs ?? 16, httpPerSec: opts.httpPerSec ?? 10, stuckMs: opts.stuckMs ?? 60_000 };
  const print = opts.print ?? (() => {});
  const runMs = opts.minutes * 60_000;
  const scale = scaleFor(runMs);
  const dir = mkdtempSync(join(tmpdir(), 'kport-soak-'));
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const ledger = new Ledger();
  const report: SoakReport = {
    seed, minutes: opts.minutes, options: o, elapsedMs: 0, ledger, faults: [], finalServed: [], samples: [],
    baseline: null, final: null, crash: null, alive: false, log: digestLog(''), dir: opts.keep ? dir : null, aborted: null,
    startedAt: '', spdyAtEnd: null,
  };
  let world: World | null = null;
  let kportd: Kportd | null = null;
  let load: Load | null = null;
  let sampler: NodeJS.Timeout | null = null;
  try {
    print(`soak: seed ${seed}, ${opts.minutes} min, ${o.workers} echo workers at ${o.rateMBs} MB/s, ${o.httpPerSec} GET/s per HTTP session; temp ${dir}`);
    world = await buildWorld(dir);
    writeFileSync(world.configFile, world.goodConfig);
    const names = world.sessions.map((s) => s.name);
    kportd = await Kportd.start(dir, world.configFile, names);
    const k = kportd;
    void k.exited.then((exit) => {
      if (exit.asked) return;
      report.crash = exit;
      abort.abort();
    });
    const ctx: FaultContext = { world, kportd: k, signal: abort.signal };
    const w = world;
    // The baseline: each session has carried a connection (its pod sessions and watches exist), no load.
    const warm = await Promise.all(w.sessions.map((s) => untilServed(w, ledger, s, performance.now(), o.stuckMs)));
    const cold = warm.filter((s) => !s.ok);
    if (cold.length) throw new Error(`sessions did not serve a first connection: ${cold.map((s) => `${s.session} (${!s.ok && s.lastError})`).join(', ')}`);
    report.baseline = k.sample();
    const t0 = performance.now();
    report.startedAt = new Date().toISOString();
    const since = () => (performance.now() - t0) / 1000;
    const sampleMs = Math.min(10_000, Math.max(2_000, runMs / 120));
    const takeSample = () => {
      const s = k.sample();
      if (s) report.samples.push({ t: since(), ...s });
    };
    takeSample();
    sampler = setInterval(takeSample, sampleMs);
    const idleMs = 30_000 + scale.pause[1] + 30_000;
    load = new Load(w, ledger, { workers: o.workers, bytesPerSec: o.rateMBs * 1024 * 1024, httpPerSec: o.httpPerSec, idleMs });
    load.start();

    const schedule = new Schedule(new Random(seed), scale);
    const deadline = t0 + runMs;
    for (let n = 1; !abort.signal.aborted; n++) {
      const f = schedule.next();
      if (performance.now() + f.gapMs + 1_000 > deadline) break;
      await delay(f.gapMs, undefined, { signal: abort.signal }).catch(() => {});
      if (abort.signal.aborted) break;
      // A fault never runs past the end of the run by more than its own aftermath.
      f.holdMs = Math.min(f.holdMs, Math.max(1_000, deadline - performance.now()));
      const start = performance.now();
      const startS = since();
      let lifted: Lifted;
      try {
        lifted = await runFault(ctx, f);
      } catch (err) {
        // The soak could not lift its own fault (the API server's port taken while it was down, say): nothing after it means anything.
        report.aborted = `f${n} ${f.kind} could not be run or lifted: ${(err as Error).message}`;
        break;
      }
      if (abort.signal.aborted) break;
      const [served, more] = await Promise.all([Promise.all(w.sessions.map((s) => untilServed(w, ledger, s, lifted.at, o.stuckMs, abort.signal))), lifted.more ?? '']);
      lifted.detail += more;
      delete lifted.more;
      const rec: FaultRecord = { n, fault: f, startS, lifted, affected: affected(w, f), served, span: [start, performance.now() + AFTERMATH_MS] };
      report.faults.push(rec);
      print(faultLine(rec));
    }
    report.elapsedMs = performance.now() - t0;
    liftAll(ctx);
    if (!abort.signal.aborted && !report.aborted) {
      const from = performance.now();
      report.finalServed = await Promise.all(w.sessions.map((s) => untilServed(w, ledger, s, from, o.stuckMs)));
    }
    await load.stop();
    load = null;
    clearInterval(sampler);
    sampler = null;
    if (!report.crash) {
      // Connections the load left take a moment to be closed and reaped; wait for that, not longer.
      const base = report.baseline?.fds ?? 0;
      await waitUntil(() => (k.sample()?.fds ?? 0) <= base + FD_SLACK, 'fds back near the start', 20_000, 250).catch(() => {});
      report.final = k.sample();
      // Every forwarded connection is closed by now, so no stream pair should be left open on the server side.
      await waitUntil(() => w.cluster.spdy().streams === 0, 'port-forward streams to close', 10_000, 100).catch(() => {});
      report.spdyAtEnd = w.cluster.spdy();
      report.alive = await k.call('daemon.status', {}, 10_000).then(() => true, () => false);
    }
    const crash = report.crash;
    report.aborted ??= opts.signal?.aborted ? 'interrupted' : crash ? `kportd exited (${crash.code ?? crash.signal})` : null;
    return report;
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    abort.abort();
    if (sampler) clearInterval(sampler);
    if (world && kportd) liftAll({ world, kportd, signal: abort.signal });
    await load?.stop();
    if (kportd) {
      await kportd.stop();
      report.log = digestLog(kportd.output());
    }
    await world?.cluster.stop();
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per fault: when, what, and how long each affected session took to serve again. */
export function faultLine(r: FaultRecord): string {
  const served = r.served
    .filter((s) => r.affected.includes(s.session))
    .map((s) => (s.ok ? `${s.session} ${fmtMs(s.ms)}` : `${s.session} ${s.aborted ? 'aborted' : 'STUCK'}`))
    .join(', ');
  const problem = r.lifted.problem ? `  PROBLEM: ${r.lifted.problem}` : '';
  return `[${r.startS.toFixed(1).padStart(6)} s] f${r.n} ${r.fault.kind}: ${r.lifted.detail} → first served: ${served}${problem}`;
}

/** 12 ms, 1.3 s, 27.1 s. */
export function fmtMs(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

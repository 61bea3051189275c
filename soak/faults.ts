/**
 * The faults a soak injects, one at a time: what each does to the cluster, to kportd or to kport.yaml,
 * how long it holds (scaled to the run's length), when it counts as lifted (API back, pods ready
 * again, pings answered, file restored), and which sessions it affects. The schedule is drawn from
 * a seeded generator, so `--seed` replays the same faults in the same order with the same durations.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeObject } from '../test/cluster/store.js';
import { isPodReady } from '../test/cluster/pod-status.js';
import { waitUntil } from '../test/helpers/wait.js';
import type { Kportd } from './kportd.js';
import type { Random } from './random.js';
import { badConfig, type BadSave, type World } from './world.js';

/** Every kind of fault, in the order the report lists them. */
export const FAULT_KINDS = [
  'pod-delete',
  'rollout',
  'api-restart',
  'drop-streams',
  'refuse-portforward',
  'latency',
  'swallow-pings',
  'watch-expiry',
  'sigstop',
  'api-outage',
  'config-broken',
  'config-invalid',
  'config-empty',
  'config-deleted',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One planned fault. */
export interface Fault {
  kind: FaultKind;
  /** Quiet time before it starts. */
  gapMs: number;
  /** How long it is held (0 for instant faults: a deletion, a restart, a cut). */
  holdMs: number;
  /** Pod and rollout faults: which workload; pod-delete: which of its ready pods (an index, wrapped). */
  workload: string;
  pick: number;
  /** latency: ms added to every API request and upgrade. */
  latencyMs: number;
}

/** Ranges of durations for one run length, in ms. */
export interface Scale {
  gap: [number, number];
  outage: [number, number];
  pause: [number, number];
  window: [number, number];
  config: [number, number];
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * Durations for a run of `runMs`: API outages 5 s–5 min and SIGSTOPs 5–30 s at full scale (a 30-minute
 * run), shrunk with the run (60 s: outages 2–10 s, SIGSTOPs 1–3 s) so that a short run still sees several faults.
 */
export function scaleFor(runMs: number): Scale {
  const s = runMs / 1000;
  const outageMax = clamp(s / 6, 10, 300);
  const pauseMax = clamp(s / 20, 3, 30);
  return {
    gap: [1_000, clamp(s / 60, 3, 10) * 1000],
    outage: [Math.min(5, outageMax / 5) * 1000, outageMax * 1000],
    pause: [Math.min(5, pauseMax / 3) * 1000, pauseMax * 1000],
    window: [2_000, clamp(s / 10, 6, 60) * 1000],
    config: [1_000, 5_000],
  };
}

/** An endless, seeded stream of faults: every kind once in a shuffled round, then the next round. */
export class Schedule {
  private bag: FaultKind[] = [];

  constructor(
    private readonly random: Random,
    private readonly scale: Scale,
  ) {}

  next(): Fault {
    if (this.bag.length === 0) this.bag = this.random.shuffle(FAULT_KINDS);
    const kind = this.bag.pop()!;
    const r = this.random;
    const span = (range: [number, number]) => Math.round(r.logBetween(range[0], range[1]));
    const holds: Partial<Record<FaultKind, [number, number]>> = {
      'refuse-portforward': this.scale.window,
      latency: this.scale.window,
      'swallow-pings': this.scale.window,
      'watch-expiry': this.scale.window,
      sigstop: this.scale.pause,
      'api-outage': this.scale.outage,
      'config-broken': this.scale.config,
      'config-invalid': this.scale.config,
      'config-empty': this.scale.config,
      'config-deleted': this.scale.config,
    };
    // Every draw happens whatever the kind, so one kind's parameters never shift the next fault's.
    const gapMs = span(this.scale.gap);
    const hold = holds[kind];
    const holdMs = span(hold ?? [1, 1]);
    const workload = kind === 'rollout' ? r.pick(['echo', 'web']) : r.pick(['echo', 'db', 'web']);
    const pick = r.int(16);
    const latencyMs = Math.round(r.logBetween(100, 2_000));
    return { kind, gapMs, holdMs: hold ? holdMs : 0, workload, pick, latencyMs };
  }
}

/** What a fault did. */
export interface Lifted {
  /** performance.now() when the fault was lifted: the moment recovery is measured from. */
  at: number;
  /** What exactly happened ("deleted echo-x2k4p-abcde", "outage 41.2 s"). */
  detail: string;
  /** Something that must not happen did (sessions lost on a bad save). */
  problem: string | null;
  /** Checks that run after the lift, alongside the recovery probes; resolves with more detail. */
  more?: Promise<string>;
}

/** What a fault acts on. */
export interface FaultContext {
  world: World;
  kportd: Kportd;
  /** Aborted when the soak must end early (kportd died, or the user interrupted). */
  signal: AbortSignal;
}

/** Waits `ms` as the schedule says, or less if the soak is aborted. */
async function hold(ctx: FaultContext, ms: number): Promise<void> {
  await delay(ms, undefined, { signal: ctx.signal }).catch(() => {});
}

/** Resolves with the moment a workload is whole again: `replicas` pods, all ready, none terminating, each passing `fresh`. */
async function settled(ctx: FaultContext, name: string, fresh: (pod: KubeObject) => boolean): Promise<{ at: number; late: string }> {
  const { cluster } = ctx.world;
  const w = ctx.world.workloads.find((x) => x.name === name)!;
  let at = 0;
  const whole = () => {
    const pods = cluster.pods('default', w.selector);
    const ok = pods.length === w.replicas && pods.every((p) => isPodReady(p) && fresh(p));
    if (ok) at = performance.now();
    return ok;
  };
  try {
    await cluster.waitFor(whole, 60_000, `${w.kind} ${name} to be whole again`);
    return { at, late: '' };
  } catch (err) {
    return { at: performance.now(), late: ` (${(err as Error).message})` };
  }
}

/** Compares kportd's sessions with the world's: every one present, not stopped, on its port. Null when all are. */
async function lostSessions(ctx: FaultContext): Promise<string | null> {
  let list;
  try {
    list = await ctx.kportd.call('session.list', {}, 10_000);
  } catch (err) {
    return `session.list failed: ${(err as Error).message}`;
  }
  const wrong = ctx.world.sessions.flatMap((s) => {
    const got = list.find((x) => x.name === s.name);
    if (!got) return [`${s.name} gone`];
    if (got.state === 'stopped') return [`${s.name} stopped`];
    if (got.listeners[0]?.port !== s.port) return [`${s.name} on port ${got.listeners[0]?.port ?? 'none'} instead of ${s.port}`];
    return [];
  });
  return wrong.length ? wrong.join(', ') : null;
}

/** Writes a bad kport.yaml, holds, checks that every session survived it, restores the good file. */
async function badSave(ctx: FaultContext, f: Fault, save: BadSave): Promise<Lifted> {
  const { world, kportd } = ctx;
  const text = badConfig(world, save);
  if (text === null) rmSync(world.configFile, { force: true });
  else writeFileSync(world.configFile, text);
  await hold(ctx, f.holdMs);
  const status = await kportd.call('daemon.status', {}, 10_000).catch(() => null);
  const noticed = status ? !status.config.ok || status.config.blank !== null : false;
  const lost = await lostSessions(ctx);
  writeFileSync(world.configFile, world.goodConfig);
  const at = performance.now();
  const more = waitUntil(async () => (await kportd.call('daemon.status', {}, 10_000)).config.ok, 'the restored kport.yaml to load', 10_000, 100).then(
    () => `, restored file loaded within ${((performance.now() - at) / 1000).toFixed(1)} s`,
    () => ', restored file NOT loaded within 10 s',
  );
  const detail = `${save} save held ${(f.holdMs / 1000).toFixed(1)} s${noticed ? '' : ' (kportd did not report it)'}`;
  return { at, detail, problem: lost && `after a ${save} kport.yaml: ${lost}`, more };
}

/** Runs one fault to its end (lifted); throws nothing. */
export async function runFault(ctx: FaultContext, f: Fault): Promise<Lifted> {
  const { cluster } = ctx.world;
  const faults = cluster.faults;
  const now = () => performance.now();
  const held = `${(f.holdMs / 1000).toFixed(1)} s`;
  switch (f.kind) {
    case 'pod-delete': {
      const w = ctx.world.workloads.find((x) => x.name === f.workload)!;
      const pods = cluster.readyPods('default', w.selector).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
      const victim = pods[f.pick % Math.max(1, pods.length)];
      if (!victim) return { at: now(), detail: `no ready pod of ${w.name} to delete`, problem: null };
      cluster.deletePod('default', victim.metadata.name);
      const s = await settled(ctx, w.name, (p) => p.metadata.uid !== victim.metadata.uid);
      return { at: s.at, detail: `deleted ${victim.metadata.name}${s.late}`, problem: null };
    }
    case 'rollout': {
      const w = ctx.world.workloads.find((x) => x.name === f.workload)!;
      const hash = (p: KubeObject) => p.metadata.labels?.['pod-template-hash'];
      const old = new Set(cluster.pods('default', w.selector).map(hash));
      cluster.rollout('default', w.name);
      const s = await settled(ctx, w.name, (p) => !old.has(hash(p)));
      return { at: s.at, detail: `rolled deployment ${w.name}${s.late}`, problem: null };
    }
    case 'api-restart':
      await cluster.restartApi();
      return { at: now(), detail: 'API server restarted', problem: null };
    case 'drop-streams':
      return { at: now(), detail: `cut ${cluster.dropStreams()} port-forward connections`, problem: null };
    case 'refuse-portforward': {
      faults.refusePortForward = { code: 500, message: 'error dialing backend: dial tcp 10.0.0.1:10250: connect: connection refused' };
      const cut = cluster.dropStreams();
      await hold(ctx, f.holdMs);
      faults.refusePortForward = null;
      return { at: now(), detail: `port-forwards refused for ${held} (cut ${cut} at the start)`, problem: null };
    }
    case 'latency': {
      faults.latencyMs = f.latencyMs;
      const cut = cluster.dropStreams();
      await hold(ctx, f.holdMs);
      faults.latencyMs = 0;
      return { at: now(), detail: `${f.latencyMs} ms on every API request for ${held} (cut ${cut} at the start)`, problem: null };
    }
    case 'swallow-pings':
      faults.swallowPings = true;
      await hold(ctx, f.holdMs);
      faults.swallowPings = false;
      return { at: now(), detail: `SPDY pings unanswered for ${held}`, problem: null };
    case 'watch-expiry':
      faults.watchTimeoutMs = 1_000;
      cluster.expireWatches();
      await hold(ctx, f.holdMs);
      faults.watchTimeoutMs = null;
      return { at: now(), detail: `watches expired (410), then ended every 1 s for ${held}`, problem: null };
    case 'sigstop':
      ctx.kportd.pause();
      await hold(ctx, f.holdMs);
      ctx.kportd.resume();
      return { at: now(), detail: `kportd stopped for ${held}`, problem: null };
    case 'api-outage':
      await cluster.stopApi();
      await hold(ctx, f.holdMs);
      await cluster.startApi();
      return { at: now(), detail: `API server down for ${held}`, problem: null };
    case 'config-broken':
      return badSave(ctx, f, 'broken');
    case 'config-invalid':
      return badSave(ctx, f, 'invalid');
    case 'config-empty':
      return badSave(ctx, f, 'empty');
    case 'config-deleted':
      return badSave(ctx, f, 'deleted');
  }
}

/** The sessions whose recovery a fault's lifting starts the clock for. */
export function affected(world: World, f: Fault): string[] {
  const all = world.sessions;
  switch (f.kind) {
    case 'pod-delete':
    case 'rollout':
      return all.filter((s) => s.workload === f.workload).map((s) => s.name);
    case 'drop-streams':
    case 'refuse-portforward':
    case 'swallow-pings':
    case 'watch-expiry':
      return all.filter((s) => !s.proxy).map((s) => s.name);
    default:
      return all.map((s) => s.name);
  }
}

/** Lifts whatever a fault may have left switched on (the soak is ending, perhaps in the middle of one). */
export function liftAll(ctx: FaultContext): void {
  Object.assign(ctx.world.cluster.faults, { latencyMs: 0, refusePortForward: null, watchTimeoutMs: null, swallowPings: false });
  ctx.kportd.resume();
  let current: string | null = null;
  try {
    current = readFileSync(ctx.world.configFile, 'utf8');
  } catch {
    // deleted: restore it below
  }
  if (current !== ctx.world.goodConfig) writeFileSync(ctx.world.configFile, ctx.world.goodConfig);
}

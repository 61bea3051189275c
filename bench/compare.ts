/**
 * kport against the real `kubectl port-forward` in one run, on the same simulated pod: a real
 * kportd process (forward over SPDY, and a second one over the v4 WebSocket fallback) and a kubectl
 * process, measured in alternating rounds (kport, kubectl, kport, kubectl…) so that a passing load
 * on the machine weighs on both alike. Each round: new connections to their first echoed byte,
 * download over 1 and 8 streams, echo over 1 stream; before the rounds, memory across 1,000
 * connections. Who was busy during each figure (kportd or kubectl, the simulator's event loop, the
 * load generator's, the machine) is recorded beside it. `node dist/bench/compare.js` prints it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TransportName } from '../daemon/kube/transport/types.js';
import type { SpdyCounts } from '../test/cluster/spdy-endpoint.js';
import { BENCH_POD, startCluster } from './cluster.js';
import { formatCompare } from './compare-format.js';
import { kubectlVersion, startKubectlForward, type KubectlForm, type KubectlForward } from './kubectl.js';
import { startKportd, type Kportd } from './kportd.js';
import { connectAndEcho, downloadRate, echoRate, MiB, newConnections, quantile, tcpLink, type Closing } from './load.js';
import { cpuSeconds, measureUsage, rssMB, threadCpuSeconds, type Usage, type Watched } from './usage.js';

/** Rounds per contender (KPORT_BENCH_ROUNDS overrides; single rounds vary by ±20% on a 2-core VM, so 5 for a median). */
const ROUNDS = Math.max(1, Number(process.env.KPORT_BENCH_ROUNDS ?? 5));
const MEMORY_CONNECTIONS = 1_000;
const PARALLEL_STREAMS = 8;
const SIZES: Sizes = { connections: 300, download: 192 * MiB, echo: 96 * MiB };
/**
 * A whole unmeasured round first: kportd's JIT (and the simulator's) takes about one round's bytes
 * to settle; after a shorter warm-up kport's first measured round ran a third slower than the rest.
 */
const WARM_UP: Sizes = SIZES;
/** Let a process settle (timers, garbage) before reading its memory. */
const SETTLE_MS = 2_000;

interface Sizes {
  connections: number;
  /** Bytes per download figure (split across the streams). */
  download: number;
  /** Bytes each way for echo. */
  echo: number;
}

/** The figures of one round. */
export interface Round {
  connectP50: number;
  connectP90: number;
  /** MB/s. */
  download1: number;
  download8: number;
  /** MB/s each way. */
  echo1: number;
}
export type Metric = keyof Round;

/** Per round, beside the figures: how evenly the 8 download streams shared the bytes (see Download). */
export interface Fairness {
  download8SlowestShare: number;
}
/** What was measured as one stretch of time, for usage: both connect figures come from one. */
export type Phase = 'connect' | 'download1' | 'download8' | 'echo1';

/** A contender's rounds, and who was busy during each phase of each. */
export interface Series {
  rounds: Round[];
  fairness: Fairness[];
  usage: Record<Phase, Usage>[];
}

/** Everything the comparison produces. */
export interface CompareFigures {
  settings: { rounds: number; connections: number; memoryConnections: number; parallelStreams: number; downloadMiB: number; echoMiB: number };
  /** kubectl's binary, version and SPDY form; null when it is absent (its rows are skipped). */
  kubectlBinary: { bin: string; version: string; form: KubectlForm } | null;
  /** What session.get says carried each kport forward. */
  transports: { spdy: TransportName | null; websocket: TransportName | null };
  kport: Series;
  kubectl: Series | null;
  kportWebsocket: Series;
  direct: Series;
  memory: {
    kportd: { before: number; after: number };
    kubectl: { before: number; after: number } | null;
    /** SPDY streams the simulator still had open for the pod after the connections (kport's and kubectl's together). */
    streamsOpenAfter: number;
    /** What kportd counted as still active on the forward then. */
    kportConnectionsActive: number;
  };
  /** The machine's load average (1, 5, 15 min) when the comparison began: other work on the box weighs on every figure. */
  loadAverage: number[];
  /** SPDY connections the simulator accepted for the pod over the whole comparison, per contender; and open at the end. */
  spdyConnections: { kport: SpdyCounts['accepted']; kubectl: SpdyCounts['accepted'] | null; openAtEnd: number };
  seconds: number;
}

/** One thing that forwards to the bench pod: its local echo and source ports and the process to watch. */
interface Contender {
  echo: number;
  source: number;
  /** The process doing the forwarding (kportd, kubectl), or none (direct). */
  process: { name: string; pid: number } | null;
  closing: Closing;
}

/** One round on `c`: every figure, each with who was busy while it was measured. */
async function round(c: Contender, sizes: Sizes, watched: Watched): Promise<{ figures: Round; fairness: Fairness; usage: Record<Phase, Usage> }> {
  const measured = async <T>(run: () => Promise<T>): Promise<[T, Usage]> => {
    const done = await measureUsage(watched);
    const value = await run();
    return [value, await done()];
  };
  // The warm-up connection: a session (kport's, kubectl's) is open before the clock starts.
  await connectAndEcho(c.echo);
  const [times, connect] = await measured(() => newConnections(c.echo, sizes.connections));
  const [download1, d1] = await measured(() => downloadRate(() => tcpLink(c.source), sizes.download, 1, c.closing));
  const [download8, d8] = await measured(() => downloadRate(() => tcpLink(c.source), sizes.download, PARALLEL_STREAMS, c.closing));
  const [echo1, e1] = await measured(() => echoRate(() => tcpLink(c.echo), sizes.echo, 1, c.closing));
  progress(`  ${c.process?.name ?? 'direct'} port ${c.echo}: connect p50 ${quantile(times, 0.5)} ms, download ${Math.round(download1.mbs)}/${Math.round(download8.mbs)} MB/s (slowest of 8: ${download8.slowestShare.toFixed(2)}), echo ${Math.round(echo1)} MB/s`);
  const r = (n: number) => Math.round(n);
  return {
    figures: { connectP50: quantile(times, 0.5), connectP90: quantile(times, 0.9), download1: r(download1.mbs), download8: r(download8.mbs), echo1: r(echo1) },
    fairness: { download8SlowestShare: download8.slowestShare },
    usage: { connect, download1: d1, download8: d8, echo1: e1 },
  };
}

/** KPORT_BENCH_VERBOSE=1: what the comparison is doing now, on stderr. */
const progress = (what: string) => void (process.env.KPORT_BENCH_VERBOSE === '1' && console.error(`compare: ${what}`));
const emptySeries = (): Series => ({ rounds: [], fairness: [], usage: [] });
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));
const diff = (a: SpdyCounts['accepted'], b: SpdyCounts['accepted']) => ({ upgrade: a.upgrade - b.upgrade, tunnel: a.tunnel - b.tunnel });

/** Runs the comparison. Every process it starts is stopped before it returns or throws. */
export async function benchCompare(): Promise<CompareFigures> {
  const started = performance.now();
  const loadAverage = loadavg().map((n) => Math.round(n * 100) / 100);
  const dir = mkdtempSync(join(tmpdir(), 'kport-bench-compare-'));
  const cluster = await startCluster();
  let kportd: Kportd | null = null;
  let kubectl: KubectlForward | null = null;
  try {
    const { kubeconfig } = cluster.info;
    const forward = (name: string, transport: TransportName) => `\n  - { name: ${name}, target: pod/${BENCH_POD.name}, ports: [":${BENCH_POD.echoPort}", ":${BENCH_POD.sourcePort}"], transport: ${transport} }`;
    kportd = await startKportd(join(dir, 'compare'), `kubeconfig: ${kubeconfig}\nforwards:${forward('spdy', 'spdy')}${forward('ws', 'websocket')}\n`);
    const kd = kportd;
    const viaKport = async (name: string, closing: Closing): Promise<Contender> => ({ echo: await kd.port(name, BENCH_POD.echoPort), source: await kd.port(name, BENCH_POD.sourcePort), process: { name: 'kportd', pid: kd.pid }, closing });
    const kport = await viaKport('spdy', 'half-close');
    const kportWs = await viaKport('ws', 'cut');
    const direct: Contender = { echo: cluster.info.backends.benchEcho, source: cluster.info.backends.benchSource, process: null, closing: 'half-close' };

    const found = kubectlVersion();
    const form: KubectlForm = process.env.KPORT_BENCH_KUBECTL_FORM === 'tunnel' ? 'tunnel' : 'upgrade';
    let viaKubectl: Contender | null = null;
    if (found) {
      kubectl = await startKubectlForward(kubeconfig, BENCH_POD.name, [BENCH_POD.echoPort, BENCH_POD.sourcePort], form);
      viaKubectl = { echo: kubectl.ports[0]!, source: kubectl.ports[1]!, process: { name: 'kubectl', pid: kubectl.pid }, closing: 'half-close' };
    }
    // Every process of the run, so that `others` in the usage figures is work that is not ours.
    const watched: Watched = {
      cpu: { kportd: () => cpuSeconds(kd.pid), ...(kubectl ? { kubectl: () => cpuSeconds(kubectl!.pid) } : {}), simulator: cluster.cpuSeconds, load: threadCpuSeconds },
      ours: [process.pid, kd.pid, ...(kubectl ? [kubectl.pid] : [])],
      loops: { simulator: cluster.utilization },
    };
    // SPDY connections the simulator accepts, charged to whichever contender was running.
    const accepted = { kport: { upgrade: 0, tunnel: 0 }, kubectl: { upgrade: 0, tunnel: 0 } };
    const charged = async <T>(who: keyof typeof accepted, run: () => Promise<T>): Promise<T> => {
      const before = (await cluster.spdy(BENCH_POD.name)).accepted;
      try {
        return await run();
      } finally {
        const d = diff((await cluster.spdy(BENCH_POD.name)).accepted, before);
        accepted[who].upgrade += d.upgrade;
        accepted[who].tunnel += d.tunnel;
      }
    };
    // kubectl dialled its SPDY connection at start-up, before any charge.
    if (kubectl) Object.assign(accepted.kubectl, (await cluster.spdy(BENCH_POD.name)).accepted);

    progress('memory');
    // Memory across 1,000 connections, after one that opens the session, with both processes fresh.
    await charged('kport', () => connectAndEcho(kport.echo));
    if (viaKubectl) await charged('kubectl', () => connectAndEcho(viaKubectl.echo));
    await settle();
    const before = { kportd: rssMB(kd.pid), kubectl: kubectl ? rssMB(kubectl.pid) : 0 };
    await charged('kport', () => newConnections(kport.echo, MEMORY_CONNECTIONS));
    if (viaKubectl) await charged('kubectl', () => newConnections(viaKubectl.echo, MEMORY_CONNECTIONS));
    await settle();
    const memory = {
      kportd: { before: before.kportd, after: rssMB(kd.pid) },
      kubectl: kubectl ? { before: before.kubectl, after: rssMB(kubectl.pid) } : null,
      // Every connection was closed: streams still open at the simulator are state someone failed to release.
      streamsOpenAfter: (await cluster.spdy(BENCH_POD.name)).streams,
      kportConnectionsActive: (await kd.rpc.call('session.get', { name: 'spdy' })).counters.connectionsActive,
    };

    progress('warm-up');
    // Warm every path's JIT (the load generator's and kportd's) up before measuring.
    await charged('kport', () => round(kport, WARM_UP, watched));
    if (viaKubectl) await charged('kubectl', () => round(viaKubectl, WARM_UP, watched));
    await round(kportWs, WARM_UP, watched);
    await round(direct, WARM_UP, watched);

    const series = { kport: emptySeries(), kubectl: emptySeries(), kportWs: emptySeries(), direct: emptySeries() };
    const record = (s: Series, r: Awaited<ReturnType<typeof round>>) => (s.rounds.push(r.figures), s.fairness.push(r.fairness), s.usage.push(r.usage));
    for (let i = 0; i < ROUNDS; i++) {
      progress(`round ${i + 1}`);
      record(series.kport, await charged('kport', () => round(kport, SIZES, watched)));
      if (viaKubectl) record(series.kubectl, await charged('kubectl', () => round(viaKubectl, SIZES, watched)));
    }
    // For comparison, once each: the v4 WebSocket fallback, and the backend itself (the limit).
    record(series.kportWs, await round(kportWs, SIZES, watched));
    record(series.direct, await round(direct, SIZES, watched));

    const transport = async (name: string) => (await kd.rpc.call('session.get', { name })).transport;
    return {
      settings: { rounds: ROUNDS, connections: SIZES.connections, memoryConnections: MEMORY_CONNECTIONS, parallelStreams: PARALLEL_STREAMS, downloadMiB: SIZES.download / MiB, echoMiB: SIZES.echo / MiB },
      kubectlBinary: found ? { ...found, form } : null,
      transports: { spdy: await transport('spdy'), websocket: await transport('ws') },
      kport: series.kport,
      kubectl: viaKubectl ? series.kubectl : null,
      kportWebsocket: series.kportWs,
      direct: series.direct,
      memory,
      loadAverage,
      spdyConnections: { kport: accepted.kport, kubectl: viaKubectl ? accepted.kubectl : null, openAtEnd: (await cluster.spdy(BENCH_POD.name)).connections },
      seconds: Math.round((performance.now() - started) / 1000),
    };
  } finally {
    // Each is stopped even if stopping another fails.
    for (const stop of [() => kubectl?.stop(), () => kportd?.stop(), () => cluster.stop()]) await Promise.resolve().then(stop).catch((err: unknown) => console.error('bench: clean-up failed:', err));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log(formatCompare(await benchCompare()));

/**
 * The simulated cluster the forward benchmarks run against, in a worker thread of the benchmark
 * process: its API server and pod backends share an event loop with neither the load generator
 * (the main thread) nor kportd or kubectl (processes of their own). The main thread steers it with
 * request/reply messages and can read how busy its event loop is.
 */
import type { EventLoopUtilization } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { SimCluster } from '../test/cluster/cluster.js';
import { isPodReady } from '../test/cluster/pod-status.js';
import type { SpdyCounts } from '../test/cluster/spdy-endpoint.js';
import { threadCpuSeconds } from './usage.js';

/** The pod both kport and kubectl forward to in the comparison: an echo port and a source port. */
export const BENCH_POD = { name: 'bench', echoPort: 7000, sourcePort: 9100 } as const;

/** What the worker reports once the cluster serves. */
export interface ClusterInfo {
  kubeconfig: string;
  /** The backends' own local ports (direct to the "container", no API server). */
  backends: { dbEcho: number; srcSource: number; benchEcho: number; benchSource: number };
}

type Request = { cmd: 'replace'; selector: string } | { cmd: 'spdy'; pod: string } | { cmd: 'cpu' } | { cmd: 'stop' };
type Reply = { readyAt: number } | { spdy: SpdyCounts } | { cpu: number };

const ROLE = 'bench-cluster';

/** The worker side: the demo world, deployment `fo`, statefulset `src` (a source) and pod `bench`. */
async function serve(): Promise<void> {
  const port = parentPort!;
  const cluster = await SimCluster.start({ world: 'demo' });
  cluster.deployment('default', 'fo', { replicas: 1, labels: { app: 'fo' }, ports: [{ containerPort: 7000 }] });
  cluster.statefulset('default', 'src', { replicas: 1, labels: { app: 'src' }, ports: [{ containerPort: 9100 }], annotations: { 'sim.kport.dev/backends': '9100=source' } });
  cluster.pod('default', BENCH_POD.name, {
    labels: { app: 'bench' },
    ports: [{ containerPort: BENCH_POD.echoPort }, { containerPort: BENCH_POD.sourcePort }],
    annotations: { 'sim.kport.dev/backends': `${BENCH_POD.sourcePort}=source` },
  });
  await cluster.waitFor(() => cluster.readyPods('default').length === 6, 10_000, 'pods ready');
  const backend = (pod: string, p: number) => cluster.backendPort('default', pod, p)!;
  port.postMessage({
    kubeconfig: cluster.kubeconfigPath,
    backends: { dbEcho: backend('db-0', 5432), srcSource: backend('src-0', 9100), benchEcho: backend(BENCH_POD.name, BENCH_POD.echoPort), benchSource: backend(BENCH_POD.name, BENCH_POD.sourcePort) },
  } satisfies ClusterInfo);
  port.on('message', async (r: Request) => {
    if (r.cmd === 'stop') {
      await cluster.stop();
      // Exit rather than wait for the event loop to drain: a stray timer must not hold the benchmark up.
      return process.exit(0);
    }
    if (r.cmd === 'spdy') return port.postMessage({ spdy: cluster.spdy('default', r.pod) } satisfies Reply);
    if (r.cmd === 'cpu') return port.postMessage({ cpu: threadCpuSeconds() } satisfies Reply);
    const old = cluster.readyPods('default', r.selector)[0]!;
    const app = old.metadata.labels?.app;
    // Timestamp the replacement's readiness on the shared wall clock, the moment the store records it.
    const ready = new Promise<number>((resolve) => {
      const off = cluster.store.subscribe((e) => {
        if (e.resource.plural === 'pods' && e.object.metadata.uid !== old.metadata.uid && e.object.metadata.labels?.app === app && isPodReady(e.object)) {
          off();
          resolve(performance.timeOrigin + performance.now());
        }
      });
    });
    cluster.deletePod('default', old.metadata.name);
    port.postMessage({ readyAt: await ready } satisfies Reply);
  });
}

/** The main thread's handle on the cluster worker. */
export interface BenchCluster {
  info: ClusterInfo;
  /** Deletes the first ready pod matching `selector`; resolves with the wall-clock time its replacement is Ready. */
  replace(selector: string): Promise<number>;
  /** The simulator's SPDY port-forward counters for one pod. */
  spdy(pod: string): Promise<SpdyCounts>;
  /** CPU seconds the worker's thread (API server, kubelet, backends, TLS) has used so far. */
  cpuSeconds(): Promise<number>;
  /** How busy the worker's event loop has been (pass an earlier reading for the time since). */
  utilization(since?: EventLoopUtilization): EventLoopUtilization;
  stop(): Promise<void>;
}

/** Starts the cluster worker; requests are answered one at a time, in order. */
export async function startCluster(): Promise<BenchCluster> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE } });
  const waiting: { resolve: (m: unknown) => void; reject: (err: Error) => void }[] = [];
  const next = <T>() => new Promise<T>((resolve, reject) => waiting.push({ resolve: resolve as (m: unknown) => void, reject }));
  worker.on('message', (m: unknown) => waiting.shift()?.resolve(m));
  worker.on('error', (err) => waiting.splice(0).forEach((w) => w.reject(err)));
  const info = await next<ClusterInfo>();
  // One request in flight at a time: the worker answers `spdy` at once but `replace` later.
  let queue: Promise<unknown> = Promise.resolve();
  const ask = <T extends Reply>(r: Request): Promise<T> => {
    const reply = queue.then(() => {
      const answer = next<T>();
      worker.postMessage(r);
      return answer;
    });
    queue = reply.catch(() => {});
    return reply;
  };
  let stopped = false;
  return {
    info,
    replace: async (selector) => (await ask<{ readyAt: number }>({ cmd: 'replace', selector })).readyAt,
    spdy: async (pod) => (await ask<{ spdy: SpdyCounts }>({ cmd: 'spdy', pod })).spdy,
    cpuSeconds: async () => (await ask<{ cpu: number }>({ cmd: 'cpu' })).cpu,
    utilization: (since) => worker.performance.eventLoopUtilization(since),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ cmd: 'stop' } satisfies Request);
      await exited;
    },
  };
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === ROLE) await serve();

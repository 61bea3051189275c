/**
 * Benchmark of forwards through a real kportd process: throughput of one and of 8 parallel
 * streams and time to first byte of new connections, each against a direct connection to the
 * same echo backend in the same run; failover time (replacement pod Ready → first connection it
 * serves); and kportd's memory idle, with 2 and with 100 forwards. The simulated cluster runs in a
 * worker thread, kportd in its own process, the load on the main thread.
 * `node dist/bench/forward.js` prints the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { SimCluster } from '../test/cluster/cluster.js';
import { startKportd, type Kportd } from './kportd.js';
import { isPodReady } from '../test/cluster/pod-status.js';
import { KubeClient } from '../daemon/kube/client.js';
import { WebSocketDialer } from '../daemon/kube/transport/websocket/dialer.js';
import type { PodDialer } from '../daemon/kube/transport/types.js';
import { loadContext } from '../daemon/kube/kubeconfig.js';

const MiB = 1024 * 1024;
const ONE_STREAM_BYTES = 512 * MiB;
const PARALLEL_STREAMS = 8;
const NEW_CONNECTIONS = 300;
const FAILOVER_ROUNDS = 5;
const IDLE_FORWARDS = 100;

/** Every figure the benchmark produces. */
export interface ForwardFigures {
  /** MB/s through kport, through the API server's port-forward without kport, and straight to the pod's server. */
  throughput: { name: string; kportMBs: number; apiMBs: number; directMBs: number }[];
  newConnection: { kportP50Ms: number; kportP99Ms: number; directP50Ms: number; directP99Ms: number };
  failoverMs: number[];
  rssMB: { empty: number; twoForwards: number; hundredIdle: number };
}

// ---- the cluster, in a worker thread --------------------------------------------------------------

type Command = { cmd: 'replace'; selector: string } | { cmd: 'stop' };
interface ClusterInfo {
  kubeconfig: string;
  echoBackend: number;
  sourceBackend: number;
}

/** Worker side: a simulated cluster that, on `replace`, deletes the pod and reports when its replacement is Ready. */
async function clusterWorker(): Promise<void> {
  const port = parentPort!;
  const cluster = await SimCluster.start({ world: 'demo' });
  cluster.deployment('default', 'fo', { replicas: 1, labels: { app: 'fo' }, ports: [{ containerPort: 7000 }] });
  cluster.statefulset('default', 'src', { replicas: 1, labels: { app: 'src' }, ports: [{ containerPort: 9100 }], annotations: { 'sim.kport.dev/backends': '9100=source' } });
  await cluster.waitFor(() => cluster.readyPods('default').length === 5, 10_000, 'pods ready');
  port.postMessage({ kubeconfig: cluster.kubeconfigPath, echoBackend: cluster.backendPort('default', 'db-0', 5432)!, sourceBackend: cluster.backendPort('default', 'src-0', 9100)! } satisfies ClusterInfo);
  port.on('message', async (c: Command) => {
    if (c.cmd === 'stop') return void (await cluster.stop(), process.exit(0));
    const old = cluster.readyPods('default', c.selector)[0]!;
    // Timestamp the replacement's readiness on the shared wall clock, the moment the store records it.
    const ready = new Promise<number>((resolve) => {
      const off = cluster.store.subscribe((e) => {
        if (e.resource.plural === 'pods' && e.object.metadata.uid !== old.metadata.uid && e.object.metadata.labels?.app === 'fo' && isPodReady(e.object)) {
          off();
          resolve(performance.timeOrigin + performance.now());
        }
      });
    });
    cluster.deletePod('default', old.metadata.name);
    port.postMessage({ readyAt: await ready });
  });
}

/** Starts the cluster worker. */
async function startCluster(): Promise<{ info: ClusterInfo; replace(selector: string): Promise<number>; stop(): Promise<void> }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { bench: 'forward-cluster' } });
  const info = await new Promise<ClusterInfo>((resolve, reject) => (worker.once('message', resolve), worker.once('error', reject)));
  return {
    info,
    replace: (selector) => new Promise((resolve) => (worker.once('message', (m: { readyAt: number }) => resolve(m.readyAt)), worker.postMessage({ cmd: 'replace', selector } satisfies Command))),
    stop: () => new Promise((resolve) => (worker.once('exit', () => resolve()), worker.postMessage({ cmd: 'stop' } satisfies Command))),
  };
}

// ---- load -----------------------------------------------------------------------------------------

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** A byte pipe to a backend: a TCP connection, or a port-forward WebSocket opened as kport opens it. */
interface Link {
  /** Like socket.write: false means wait for `drained`. */
  write(chunk: Buffer): boolean;
  drained(): Promise<void>;
  onData(fn: (bytes: number) => void): void;
  close(): void;
}

async function tcpLink(port: number): Promise<Link> {
  const s = await open(port);
  return {
    write: (c) => s.write(c),
    drained: () => new Promise((r) => s.once('drain', r)),
    onData: (fn) => s.on('data', (d: Buffer) => fn(d.length)),
    close: () => s.destroy(),
  };
}

/** The API server's own port-forward stream, without kport's local hop: what any client of it pays. */
async function podLink(dialer: PodDialer, pod: string, port: number): Promise<Link> {
  const s = await dialer.dial({ namespace: 'default', pod, port });
  return {
    write: (c) => s.write(c),
    drained: () => new Promise((r) => s.once('drain', r)),
    onData: (fn) => s.on('data', (d: Buffer) => fn(d.length)),
    close: () => s.destroy(),
  };
}

/** Sends `bytes` through echo links over `streams` connections; resolves with MB/s (payload, one way). */
async function echoRate(link: () => Promise<Link>, bytes: number, streams: number): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024, 7);
  const each = Math.floor(bytes / streams / chunk.length) * chunk.length;
  const links = await Promise.all(Array.from({ length: streams }, link));
  const start = performance.now();
  await Promise.all(
    links.map(async (l) => {
      let got = 0;
      const received = new Promise<void>((resolve) => l.onData((n) => (got += n) >= each && resolve()));
      for (let sent = 0; sent < each; sent += chunk.length) if (!l.write(chunk)) await l.drained();
      await received;
      l.close();
    }),
  );
  return (each * streams) / MiB / ((performance.now() - start) / 1000);
}

/** Reads `bytes` from a source link; resolves with MB/s. */
async function downloadRate(link: () => Promise<Link>, bytes: number): Promise<number> {
  const l = await link();
  const start = performance.now();
  let got = 0;
  await new Promise<void>((resolve) => l.onData((n) => (got += n) >= bytes && resolve()));
  l.close();
  return bytes / MiB / ((performance.now() - start) / 1000);
}

/** Connect → 1 byte → its echo, `n` times in a row; resolves with the latencies in ms, sorted. */
async function newConnections(port: number, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const s = await open(port);
    await new Promise<void>((resolve, reject) => {
      s.once('data', () => resolve());
      s.once('error', reject);
      s.write('x');
    });
    times.push(performance.now() - start);
    s.destroy();
  }
  return times.sort((a, b) => a - b);
}

const quantile = (sorted: number[], q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;

/** Until the forward on `port` echoes a byte; each try is one new connection (held by kportd while nothing is ready). */
async function firstEcho(port: number): Promise<number> {
  for (;;) {
    try {
      const s = await open(port);
      const ok = await new Promise<boolean>((resolve) => {
        s.once('data', () => resolve(true));
        s.once('close', () => resolve(false));
        s.once('error', () => resolve(false));
        s.write('x');
      });
      s.destroy();
      if (ok) return performance.timeOrigin + performance.now();
    } catch {
      // refused: try again
    }
  }
}

/** Runs every forward benchmark. */
export async function benchForward(): Promise<ForwardFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'kport-bench-'));
  const cluster = await startCluster();
  const daemons: Kportd[] = [];
  const start = async (name: string, forwards: [string, string, number][]) => {
    const lines = forwards.map(([n, target, remote]) => `\n  - { name: ${n}, target: ${target}, ports: [":${remote}"] }`);
    const d = await startKportd(join(dir, name), `kubeconfig: ${cluster.info.kubeconfig}\nforwards:${lines.join('') || ' []'}\n`);
    daemons.push(d);
    return d;
  };
  try {
    const empty = await start('empty', []);
    await new Promise((r) => setTimeout(r, 2_000));
    const emptyRss = empty.rssMB();
    await empty.stop();

    const kportd = await start('main', [['echo', 'sts/db', 5432], ['fo', 'deploy/fo', 7000], ['src', 'sts/src', 9100]]);
    const echo = await kportd.port('echo');
    const src = await kportd.port('src');
    const { echoBackend, sourceBackend, kubeconfig } = cluster.info;
    const client = new KubeClient(loadContext([kubeconfig], null));
    const dialer = new WebSocketDialer(client);
    const paths = {
      echo: { kport: () => tcpLink(echo), direct: () => tcpLink(echoBackend), api: () => podLink(dialer, 'db-0', 5432) },
      source: { kport: () => tcpLink(src), direct: () => tcpLink(sourceBackend), api: () => podLink(dialer, 'src-0', 9100) },
    };
    // Warm every path's JIT up before measuring.
    for (const p of Object.values(paths.echo)) await echoRate(p, 64 * MiB, 1);
    for (const p of Object.values(paths.source)) await downloadRate(p, 64 * MiB);
    const measure = async (name: string, rate: (l: () => Promise<Link>) => Promise<number>, p: typeof paths.echo) => ({
      name,
      kportMBs: Math.round(await rate(p.kport)),
      apiMBs: Math.round(await rate(p.api)),
      directMBs: Math.round(await rate(p.direct)),
    });
    const throughput = [
      await measure('echo, 1 stream', (l) => echoRate(l, ONE_STREAM_BYTES, 1), paths.echo),
      await measure(`echo, ${PARALLEL_STREAMS} streams`, (l) => echoRate(l, ONE_STREAM_BYTES, PARALLEL_STREAMS), paths.echo),
      await measure('download', (l) => downloadRate(l, ONE_STREAM_BYTES), paths.source),
    ];
    client.close();
    const viaKport = await newConnections(echo, NEW_CONNECTIONS);
    const viaDirect = await newConnections(echoBackend, NEW_CONNECTIONS);
    const twoForwards = kportd.rssMB();

    const fo = await kportd.port('fo');
    const failoverMs: number[] = [];
    for (let i = 0; i < FAILOVER_ROUNDS; i++) {
      const readyAt = cluster.replace('app=fo');
      const servedAt = await firstEcho(fo);
      failoverMs.push(Math.round((servedAt - (await readyAt)) * 10) / 10);
    }
    await kportd.stop();

    const idle = await start('idle', Array.from({ length: IDLE_FORWARDS }, (_, i) => [`idle-${i}`, 'sts/db', 5432] as [string, string, number]));
    // Idle means idle: let the start-up burst's garbage be collected before reading.
    await new Promise((r) => setTimeout(r, 2_000));
    const hundredIdle = idle.rssMB();
    await idle.stop();
    return {
      throughput,
      newConnection: { kportP50Ms: quantile(viaKport, 0.5), kportP99Ms: quantile(viaKport, 0.99), directP50Ms: quantile(viaDirect, 0.5), directP99Ms: quantile(viaDirect, 0.99) },
      failoverMs,
      rssMB: { empty: Math.round(emptyRss), twoForwards: Math.round(twoForwards), hundredIdle: Math.round(hundredIdle) },
    };
  } finally {
    for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) await d.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as text. */
export function formatForward(f: ForwardFigures): string {
  const median = [...f.failoverMs].sort((a, b) => a - b)[Math.floor(f.failoverMs.length / 2)]!;
  return [
    'throughput, MB/s of payload (echo: each way at once; download: one way):',
    '                     kport   API port-forward, no kport   direct to the pod',
    ...f.throughput.map((t) => `  ${t.name.padEnd(16)} ${String(t.kportMBs).padStart(6)}   ${String(t.apiMBs).padStart(26)}   ${String(t.directMBs).padStart(17)}`),
    `new connection, connect → first echoed byte (${NEW_CONNECTIONS} in a row):`,
    `  kport   p50 ${f.newConnection.kportP50Ms} ms   p99 ${f.newConnection.kportP99Ms} ms`,
    `  direct  p50 ${f.newConnection.directP50Ms} ms   p99 ${f.newConnection.directP99Ms} ms`,
    `failover, replacement pod Ready → first connection it serves: median ${median} ms (${f.failoverMs.join(', ')} ms)`,
    `kportd RSS: ${f.rssMB.empty} MB with no forwards, ${f.rssMB.twoForwards} MB after the runs above, ${f.rssMB.hundredIdle} MB with ${IDLE_FORWARDS} idle forwards`,
  ].join('\n');
}

const job = workerData as { bench?: string } | undefined;
if (!isMainThread && job?.bench === 'forward-cluster') {
  await clusterWorker();
} else if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatForward(await benchForward()));
}

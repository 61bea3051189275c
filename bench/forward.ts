/**
 * Benchmark of forwards through a real kportd process: throughput of one and of 8 parallel
 * streams and time to first byte of new connections, each against a direct connection to the
 * same echo backend in the same run; failover time (replacement pod Ready → first connection it
 * serves); and kportd's memory idle, with 2 and with 100 forwards. The simulated cluster runs in a
 * worker thread, kportd in its own process, the load on the main thread.
 * `node dist/bench/forward.js` prints the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { connect as rpcConnect, type RpcClient } from '../client/rpc.js';
import { SimCluster } from '../test/cluster/cluster.js';
import { isPodReady } from '../test/cluster/pod-status.js';
import { waitUntil } from '../test/helpers/wait.js';

const MiB = 1024 * 1024;
const ONE_STREAM_BYTES = 512 * MiB;
const PARALLEL_STREAMS = 8;
const NEW_CONNECTIONS = 300;
const FAILOVER_ROUNDS = 5;
const IDLE_FORWARDS = 100;

/** Every figure the benchmark produces. */
export interface ForwardFigures {
  throughput: { name: string; kportMBs: number; directMBs: number }[];
  newConnection: { kportP50Ms: number; kportP99Ms: number; directP50Ms: number; directP99Ms: number };
  failoverMs: number[];
  rssMB: { empty: number; twoForwards: number; hundredIdle: number };
}

// ---- the cluster, in a worker thread --------------------------------------------------------------

type Command = { cmd: 'replace'; selector: string } | { cmd: 'stop' };
interface ClusterInfo {
  kubeconfig: string;
  echoBackend: number;
}

/** Worker side: a simulated cluster that, on `replace`, deletes the pod and reports when its replacement is Ready. */
async function clusterWorker(): Promise<void> {
  const port = parentPort!;
  const cluster = await SimCluster.start({ world: 'demo' });
  cluster.deployment('default', 'fo', { replicas: 1, labels: { app: 'fo' }, ports: [{ containerPort: 7000 }] });
  await cluster.waitFor(() => cluster.readyPods('default').length === 4, 10_000, 'pods ready');
  port.postMessage({ kubeconfig: cluster.kubeconfigPath, echoBackend: cluster.backendPort('default', 'db-0', 5432)! } satisfies ClusterInfo);
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

// ---- kportd, in its own process -------------------------------------------------------------------

interface Kportd {
  child: ChildProcess;
  rpc: RpcClient;
  port(name: string): Promise<number>;
  rssMB(): number;
  stop(): Promise<void>;
}

const daemonMain = fileURLToPath(new URL('../daemon/main.js', import.meta.url));

/** Runs `kportd --foreground` with `forwards` (name → [target, remote]) and waits until all are ready. */
async function startKportd(dir: string, kubeconfig: string, forwards: [string, string, number][]): Promise<Kportd> {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'kport.yaml');
  const lines = forwards.map(([name, target, remote]) => `\n  - { name: ${name}, target: ${target}, ports: [":${remote}"] }`);
  writeFileSync(config, `kubeconfig: ${kubeconfig}\nforwards:${lines.join('') || ' []'}\n`);
  const socket = join(dir, 'kportd.sock');
  const child = spawn(process.execPath, [daemonMain, '--foreground', '--config', config], { stdio: 'ignore', env: { ...process.env, KPORT_STATE_DIR: dir, KPORT_SOCKET: socket } });
  let rpc: RpcClient | null = null;
  await waitUntil(async () => (rpc = await rpcConnect(socket).catch(() => null)) !== null, 'kportd to answer', 15_000, 20);
  const client = rpc!;
  await Promise.all(forwards.map(([name]) => client.call('session.wait', { name, timeoutMs: 30_000 })));
  return {
    child,
    rpc: client,
    port: async (name) => (await client.call('session.get', { name })).listeners[0]!.port,
    rssMB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      await client.close();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---- load -----------------------------------------------------------------------------------------

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `bytes` through an echo on `port` over `streams` connections; resolves with MB/s (payload, one way). */
async function pump(port: number, bytes: number, streams: number): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024, 7);
  const each = Math.floor(bytes / streams / chunk.length) * chunk.length;
  const sockets = await Promise.all(Array.from({ length: streams }, () => open(port)));
  const start = performance.now();
  await Promise.all(
    sockets.map(async (s) => {
      let got = 0;
      const received = new Promise<void>((resolve, reject) => {
        s.on('data', (d: Buffer) => (got += d.length) >= each && resolve());
        s.once('error', reject);
      });
      for (let sent = 0; sent < each; sent += chunk.length) if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
      await received;
      s.destroy();
    }),
  );
  return (each * streams) / MiB / ((performance.now() - start) / 1000);
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
    const d = await startKportd(join(dir, name), cluster.info.kubeconfig, forwards);
    daemons.push(d);
    return d;
  };
  try {
    const empty = await start('empty', []);
    const emptyRss = empty.rssMB();
    await empty.stop();

    const kportd = await start('main', [['echo', 'sts/db', 5432], ['fo', 'deploy/fo', 7000]]);
    const echo = await kportd.port('echo');
    const direct = cluster.info.echoBackend;
    await pump(echo, 64 * MiB, 1); // warm both paths' JIT up before measuring
    await pump(direct, 64 * MiB, 1);
    const throughput = [];
    for (const [name, bytes, streams] of [['1 stream', ONE_STREAM_BYTES, 1], [`${PARALLEL_STREAMS} streams`, ONE_STREAM_BYTES, PARALLEL_STREAMS]] as const) {
      throughput.push({ name, kportMBs: Math.round(await pump(echo, bytes, streams)), directMBs: Math.round(await pump(direct, bytes, streams)) });
    }
    const viaKport = await newConnections(echo, NEW_CONNECTIONS);
    const viaDirect = await newConnections(direct, NEW_CONNECTIONS);
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
    'throughput through an echo pod (MB/s of payload, each way):',
    ...f.throughput.map((t) => `  ${t.name.padEnd(10)}  kport ${String(t.kportMBs).padStart(5)}   direct ${String(t.directMBs).padStart(5)}   (${((100 * t.kportMBs) / t.directMBs).toFixed(0)}% of direct)`),
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

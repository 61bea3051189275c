/**
 * Benchmark of a gateway against a plain forward to the same pod, through one real kportd process: connection
 * setup (connect, the SOCKS5 greeting and CONNECT for the gateway, then one echoed byte) and echo throughput of one
 * stream. The simulated cluster runs in a worker thread, kportd in its own process, the load on the main thread.
 * `node dist/bench/gateway.js` prints the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { SimCluster } from '../test/cluster/cluster.js';
import { startKportd } from './kportd.js';

const MiB = 1024 * 1024;
const SETUPS = 500;
const ECHO_BYTES = 256 * MiB;
const ROUNDS = 3;

/** The figures: setup latency percentiles in ms, throughput in MB/s (payload, each way at once). */
export interface GatewayFigures {
  setup: { forwardP50Ms: number; gatewayP50Ms: number; forwardP99Ms: number; gatewayP99Ms: number };
  echo: { forwardMBs: number; gatewayMBs: number };
}

/** Worker side: the demo world (statefulset db, echo on 5432, behind service db); stops on any message. */
async function clusterWorker(): Promise<void> {
  const cluster = await SimCluster.start({ world: 'demo' });
  await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
  parentPort!.postMessage(cluster.kubeconfigPath);
  parentPort!.once('message', async () => {
    await cluster.stop();
    process.exit(0);
  });
}

/** A connection to the echo pod: straight to a forward's port, or through the gateway by SOCKS5 CONNECT. */
type Opener = () => Promise<Socket>;

function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with the next `n` bytes `s` receives (one read loop; what comes later stays unread). */
function take(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer) => {
      parts.push(c);
      if ((got += c.length) < n) return;
      s.off('data', onData);
      resolve(Buffer.concat(parts));
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

/** What a SOCKS5 client such as curl does: greeting, wait for the method, CONNECT, wait for the reply. */
async function socks(gateway: number, host: string, port: number): Promise<Socket> {
  const s = await tcp(gateway);
  s.write(Buffer.from([5, 1, 0]));
  await take(s, 2);
  s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, host.length]), Buffer.from(host), Buffer.from([port >> 8, port & 255])]));
  const reply = await take(s, 10);
  if (reply[1] !== 0) throw new Error(`the gateway refused ${host}:${port} (SOCKS5 reply ${reply[1]})`);
  return s;
}

/** Connect (and handshake) → one byte → its echo: the time in ms. */
async function setup(open: Opener): Promise<number> {
  const start = performance.now();
  const s = await open();
  s.write('x');
  await take(s, 1);
  const ms = performance.now() - start;
  s.destroy();
  return ms;
}

/** `n` setups through each opener, taking turns so that whatever else loads the machine hits both alike; sorted. */
async function setupsInTurn(openers: Opener[], n: number): Promise<number[][]> {
  const times = openers.map((): number[] => []);
  for (let i = 0; i < n; i++) for (const [j, open] of openers.entries()) times[j]!.push(await setup(open));
  return times.map((t) => t.sort((a, b) => a - b));
}

/** `bytes` through one echo connection, written with backpressure; MB/s of payload. */
async function echoMBs(open: Opener, bytes: number): Promise<number> {
  const s = await open();
  const chunk = Buffer.alloc(256 * 1024, 7);
  const start = performance.now();
  let got = 0;
  const back = new Promise<void>((resolve) => s.on('data', (c: Buffer) => (got += c.length) >= bytes && resolve()));
  for (let sent = 0; sent < bytes; sent += chunk.length) if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
  await back;
  s.destroy();
  return bytes / MiB / ((performance.now() - start) / 1000);
}

const at = (sorted: number[], q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;
const best = (xs: number[]) => Math.round(Math.max(...xs));

/** Runs the comparison. */
export async function benchGateway(): Promise<GatewayFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'kport-bench-gw-'));
  const worker = new Worker(new URL(import.meta.url), { workerData: { bench: 'gateway-cluster' } });
  const exited = new Promise((r) => worker.once('exit', r));
  try {
    const kubeconfig = await new Promise<string>((resolve, reject) => (worker.once('message', resolve), worker.once('error', reject)));
    const config = `kubeconfig: ${kubeconfig}\nforwards:\n  - { name: db, target: svc/db, ports: [":5432"] }\ngateways:\n  - { name: gw, port: 0 }\n`;
    const kportd = await startKportd(join(dir, 'kportd'), config);
    try {
      const [fwd, gw] = [await kportd.port('db'), await kportd.port('gw')];
      const viaForward: Opener = () => tcp(fwd);
      const viaGateway: Opener = () => socks(gw, 'db.default.svc.cluster.local', 5432);
      // Warm both paths (SPDY sessions, JIT) before measuring; then take turns, so drift hits both alike.
      await setupsInTurn([viaForward, viaGateway], 100);
      for (const open of [viaForward, viaGateway]) await echoMBs(open, 32 * MiB);
      const [fs, gs] = (await setupsInTurn([viaForward, viaGateway], SETUPS)) as [number[], number[]];
      const fRate: number[] = [];
      const gRate: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        fRate.push(await echoMBs(viaForward, ECHO_BYTES / ROUNDS));
        gRate.push(await echoMBs(viaGateway, ECHO_BYTES / ROUNDS));
      }
      return {
        setup: { forwardP50Ms: at(fs, 0.5), gatewayP50Ms: at(gs, 0.5), forwardP99Ms: at(fs, 0.99), gatewayP99Ms: at(gs, 0.99) },
        echo: { forwardMBs: best(fRate), gatewayMBs: best(gRate) },
      };
    } finally {
      await kportd.stop();
    }
  } finally {
    worker.postMessage('stop');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as text. */
export function formatGateway(f: GatewayFigures): string {
  const { setup, echo } = f;
  const delta = Math.round((setup.gatewayP50Ms - setup.forwardP50Ms) * 100) / 100;
  return [
    `connection setup, connect (+ SOCKS5 greeting and CONNECT) → first echoed byte, ${SETUPS} each, taking turns:`,
    `  forward   p50 ${setup.forwardP50Ms} ms   p99 ${setup.forwardP99Ms} ms`,
    `  gateway   p50 ${setup.gatewayP50Ms} ms   p99 ${setup.gatewayP99Ms} ms   (p50 ${delta >= 0 ? '+' : ''}${delta} ms; target: within 0.3 ms)`,
    `echo throughput, one stream, best of ${ROUNDS}: forward ${echo.forwardMBs} MB/s, gateway (SOCKS5) ${echo.gatewayMBs} MB/s (${(echo.gatewayMBs / echo.forwardMBs).toFixed(2)}×; target ≥ 0.95×)`,
  ].join('\n');
}

const job = workerData as { bench?: string } | undefined;
if (!isMainThread && job?.bench === 'gateway-cluster') {
  await clusterWorker();
} else if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatGateway(await benchGateway()));
}

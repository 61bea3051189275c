/**
 * Benchmark: small GETs through a kport proxy session, through `kubectl proxy`, and straight to the simulated
 * API server, in one run. The simulated cluster runs in a worker thread, kport's proxy in a real kportd
 * process and kubectl proxy in its own, so the load generator on the main thread shares an event loop with
 * none of the things it measures. `node dist/bench/proxy.js` prints a table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { SimCluster } from '../test/cluster/cluster.js';
import { findKubectl } from '../test/helpers/kubectl.js';
import { startAndWait, stop } from '../test/helpers/process.js';
import { startKportd } from './kportd.js';
import { cpuSeconds } from './usage.js';

/** One measured path to the API server. */
export interface BenchResult {
  name: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the proxy's process per request, from /proc over the measured rounds (null: no process of its own). */
  cpuUsPerRequest: number | null;
}

const PATH = '/api/v1/namespaces/default/pods/db-0';
// KPORT_BENCH_CONCURRENCY=1 measures per-request overhead (latency) rather than throughput.
const CONCURRENCY = Number(process.env.KPORT_BENCH_CONCURRENCY ?? 16);
const WARMUP_MS = 1_000;
const DURATION_MS = 3_000;
const ROUNDS = 6;

/** What the cluster worker reports once it serves. */
interface ClusterInfo {
  kubeconfig: string;
  url: string;
  caCert: string;
  token: string;
}

type Job = { bench: 'kport-proxy'; role: 'cluster' };

/** Worker side: start the cluster, report, and stop on the first message. */
async function serveInWorker(): Promise<void> {
  const port = parentPort!;
  const cluster = await SimCluster.start({ world: 'demo' });
  await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
  port.postMessage({ kubeconfig: cluster.kubeconfigPath, url: cluster.url, caCert: cluster.pki.caCert, token: cluster.tokens.admin } satisfies ClusterInfo);
  // Exit rather than wait for the event loop to drain: a stray timer must not hold the benchmark up.
  port.once('message', () => void cluster.stop().then(() => process.exit(0)));
}

/** Starts a worker running `job`; resolves with its first message and a way to stop it. */
function startWorker<T>(job: Job): Promise<{ info: T; stop: () => Promise<void> }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (info: T) =>
      resolve({
        info,
        stop: () => new Promise<void>((done) => (worker.once('exit', () => done()), worker.postMessage('stop'))),
      }),
    );
  });
}

/** A keep-alive client for one target. */
interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
  ca?: string;
  /** The proxy's process, whose CPU time is charged to this target's requests. */
  pid?: number;
}

/** One target's load generator: a keep-alive agent and GETs that resolve once the body is read. */
class Client {
  readonly latencies: number[] = [];
  measuredMs = 0;
  private cpuSeconds = 0;
  private readonly agent: HttpAgent;
  private readonly url: URL;

  constructor(readonly target: Target) {
    const https = target.url.startsWith('https:');
    this.agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: CONCURRENCY, ca: target.ca }) : new HttpAgent({ keepAlive: true, maxSockets: CONCURRENCY });
    this.url = new URL(PATH, target.url);
  }

  private get(): Promise<void> {
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(this.url, { agent: this.agent, headers: this.target.headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${this.target.name}: ${res.statusCode} ${body}`))));
      });
      req.once('error', reject);
      req.end();
    });
  }

  /** Runs CONCURRENCY request loops for `ms`; with `record`, their latencies and time count. */
  async run(ms: number, record: boolean): Promise<void> {
    const end = performance.now() + ms;
    const loop = async () => {
      for (let now = performance.now(); now < end; now = performance.now()) {
        await this.get();
        if (record) this.latencies.push(performance.now() - now);
      }
    };
    const started = performance.now();
    const cpu = this.target.pid === undefined ? 0 : cpuSeconds(this.target.pid);
    await Promise.all(Array.from({ length: CONCURRENCY }, loop));
    if (record) this.measuredMs += performance.now() - started;
    if (record && this.target.pid !== undefined) this.cpuSeconds += cpuSeconds(this.target.pid) - cpu;
  }

  /** Requests per second and latency percentiles over every recorded round. */
  result(): BenchResult {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN) * 100) / 100;
    const cpuUsPerRequest = this.target.pid === undefined ? null : Math.round((this.cpuSeconds * 1e6) / sorted.length);
    return { name: this.target.name, rps: Math.round(sorted.length / (this.measuredMs / 1000)), p50Ms: at(0.5), p99Ms: at(0.99), cpuUsPerRequest };
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Warms every target up, then measures them in interleaved rounds, so that a passing load on the machine
 * (a 2-core box other work shares) weighs on all of them alike rather than on whichever ran at that moment.
 */
async function measure(targets: Target[]): Promise<BenchResult[]> {
  const clients = targets.map((t) => new Client(t));
  try {
    for (const c of clients) await c.run(WARMUP_MS, false);
    for (let round = 0; round < ROUNDS; round++) for (const c of clients) await c.run(DURATION_MS / ROUNDS, true);
    return clients.map((c) => c.result());
  } finally {
    clients.forEach((c) => c.close());
  }
}

/** Measures kport proxy, kubectl proxy (skipped with a note when kubectl is absent) and the API server directly. */
export async function benchProxy(): Promise<BenchResult[]> {
  const cluster = await startWorker<ClusterInfo>({ bench: 'kport-proxy', role: 'cluster' });
  const dir = mkdtempSync(join(tmpdir(), 'kport-bench-proxy-'));
  // kportd in its own process, as users run it (kubectl proxy is one too).
  const kportd = await startKportd(dir, `kubeconfig: ${cluster.info.kubeconfig}\nproxies:\n  - { name: api, port: 0 }\n`);
  const kport = { info: { url: `http://127.0.0.1:${await kportd.port('api')}` } };
  const kubectlBin = findKubectl();
  const cache = mkdtempSync(join(tmpdir(), 'kport-bench-kubectl-'));
  try {
    const targets: Target[] = [
      { name: 'direct (HTTPS)', url: cluster.info.url, ca: cluster.info.caCert, headers: { authorization: `Bearer ${cluster.info.token}` } },
      { name: 'kport proxy', url: kport.info.url, pid: kportd.pid },
    ];
    let kubectl: Awaited<ReturnType<typeof startAndWait>> | null = null;
    if (kubectlBin) {
      kubectl = await startAndWait(kubectlBin, ['proxy', '--port=0', `--kubeconfig=${cluster.info.kubeconfig}`, `--cache-dir=${cache}`], /Starting to serve on 127\.0\.0\.1:(\d+)/);
      targets.push({ name: 'kubectl proxy', url: `http://127.0.0.1:${kubectl.match[1]}`, pid: kubectl.child.pid });
    } else {
      console.warn('kubectl proxy: skipped (kubectl not found: set $KUBECTL or install it at /usr/bin/kubectl)');
    }
    try {
      return await measure(targets);
    } finally {
      if (kubectl) await stop(kubectl.child);
    }
  } finally {
    await kportd.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
}

/** The results as a small text table. */
export function formatBench(results: BenchResult[]): string {
  const rows = [['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req'], ...results.map((r) => [r.name, String(r.rps), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), r.cpuUsPerRequest === null ? '' : String(r.cpuUsPerRequest)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

const job = workerData as Job | undefined;
if (!isMainThread && job?.bench === 'kport-proxy') {
  await serveInWorker();
} else if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`GET ${PATH}, ${CONCURRENCY} concurrent keep-alive clients, ${DURATION_MS / 1000} s per target in ${ROUNDS} interleaved rounds, after a ${WARMUP_MS} ms warm-up`);
  const results = await benchProxy();
  console.log(formatBench(results));
  const [kport, kubectl] = ['kport proxy', 'kubectl proxy'].map((n) => results.find((r) => r.name === n));
  if (kport && kubectl) console.log(`kport / kubectl proxy: ${(kport.rps / kubectl.rps).toFixed(2)}× the rate`);
}

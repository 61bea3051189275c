/**
 * Benchmark of issue 13's table, each row as kport vs its anchor, measured in one run on this machine:
 * `kportctl list` vs `kubectl get pods` (and bare `node -e 0`), GETs through the proxy vs `kubectl proxy`,
 * kportd's RSS with 100 idle forwards and after traffic vs a `kubectl port-forward` process, the RSS
 * series over 10,000 connections, the installed package's size and `kportctl start`'s wall time.
 * kportd and kportctl are run from package.json's `bin`: what the package ships. Nothing is asserted.
 * `node dist/bench/lean.js` prints the table.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bytesUnder } from '../test/helpers/bytes-under.js';
import { findKubectl } from '../test/helpers/kubectl.js';
import { BENCH_POD, startCluster } from './cluster.js';
import { startKportd, type Kportd } from './kportd.js';
import { startKubectlForward, type KubectlForward } from './kubectl.js';
import { median, open } from './load.js';
import { benchProxy } from './proxy.js';
import { cpuSeconds, rssMB } from './usage.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
/** The shipped entry points (package.json's bin), so the figures are those of what users install. */
const KPORTCTL = join(root, bin.kportctl!);

const RUNS = 15;
const IDLE_FORWARDS = 100;
/** ~2 GB echoed through one forward over this many connections, this many at a time. */
const TRAFFIC_CONNECTIONS = 600;
const TRAFFIC_PARALLEL = 8;
const TRAFFIC_BYTES = 2 * 1024 ** 3;
const SERIES_CONNECTIONS = 10_000;
const SERIES_STEP = 1_000;

/** One row of the table: kport's figure and its anchor's, as text. */
export interface LeanRow {
  figure: string;
  kport: string;
  anchor: string;
}

/** Everything the run produced: the rows and kportd's RSS after every SERIES_STEP connections. */
export interface LeanFigures {
  rows: LeanRow[];
  series: { connections: number; rssMB: number }[];
}

// ---- helpers --------------------------------------------------------------------------------------

const range = (xs: number[]) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;

/** Runs a command to its end; resolves with its wall time in ms (rejects on a non-zero exit). */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 60_000 }, (err, _stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${stderr}`)) : resolve(performance.now() - started)));
  });
}

/** One connection that sends `bytes` to an echo server and reads them back. */
async function echo(port: number, bytes: number): Promise<void> {
  const s = await open(port);
  const chunk = Buffer.alloc(Math.min(bytes, 256 * 1024), 7);
  let got = 0;
  const back = new Promise<void>((resolve, reject) => {
    s.on('data', (d: Buffer) => (got += d.length) >= bytes && resolve());
    s.once('error', reject);
    s.once('close', () => (got >= bytes ? resolve() : reject(new Error(`echo closed after ${got} of ${bytes} bytes`))));
  });
  for (let sent = 0; sent < bytes; sent += chunk.length) if (!s.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)))) await new Promise((r) => s.once('drain', r));
  await back;
  s.destroy();
}

/** `total` echo connections of `bytes` each, `parallel` at a time. */
async function traffic(port: number, total: number, parallel: number, bytes: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next++ < total) await echo(port, bytes);
  }));
}

/** Lets a process's start-up garbage go before its memory is read: idle means idle. */
const settle = () => new Promise((r) => setTimeout(r, 2_000));
/**
 * How long an idle daemon is left before its steady figure is read: V8's memory reducer runs its
 * compacting GCs ~8 s after the last one, once allocation has stopped (kportd with 100 forwards
 * measured 72 MB 2 s after ready and 64-67 MB from 10 s on).
 */
const STEADY_MS = 20_000;

// ---- the rows -------------------------------------------------------------------------------------

/** `kportctl list` against a kportd with one session vs `kubectl get pods` and `node -e 0`, interleaved runs. */
async function listRow(kubeconfig: string, dir: string): Promise<LeanRow> {
  const kportd = await startKportd(join(dir, 'list'), `kubeconfig: ${kubeconfig}\nforwards:\n  - { name: web, target: svc/web, ports: [":80"] }\n`);
  const env = { ...process.env, KPORT_SOCKET: join(dir, 'list', 'kportd.sock'), NO_COLOR: '1' };
  const kubectl = findKubectl();
  const cache = join(dir, 'kubectl-cache');
  const kubectlArgs = [`--kubeconfig=${kubeconfig}`, `--cache-dir=${cache}`, 'get', 'pods'];
  const times = { list: [] as number[], kubectl: [] as number[], node: [] as number[] };
  try {
    if (kubectl) await timed(kubectl, kubectlArgs, env); // its discovery cache, as on a user's machine
    await timed(process.execPath, [KPORTCTL, 'list'], env);
    for (let i = 0; i < RUNS; i++) {
      times.list.push(await timed(process.execPath, [KPORTCTL, 'list'], env));
      if (kubectl) times.kubectl.push(await timed(kubectl, kubectlArgs, env));
      times.node.push(await timed(process.execPath, ['-e', '0'], env));
    }
  } finally {
    await kportd.stop();
  }
  return {
    figure: '`kportctl list` wall time, one session (median)',
    kport: `${Math.round(median(times.list))} ms (node -e 0: ${Math.round(median(times.node))} ms)`,
    anchor: kubectl ? `kubectl get pods: ${Math.round(median(times.kubectl))} ms` : 'kubectl not found',
  };
}

/** The proxy benchmark's ratio to kubectl proxy. */
async function proxyRow(): Promise<LeanRow> {
  const results = await benchProxy();
  const [kport, kubectl] = ['kport proxy', 'kubectl proxy'].map((n) => results.find((r) => r.name === n));
  return {
    figure: 'small GETs through the proxy, 16 keep-alive clients',
    kport: kport && kubectl ? `${(kport.rps / kubectl.rps).toFixed(2)}× kubectl proxy (${kport.rps} req/s)` : `${kport?.rps ?? '?'} req/s`,
    anchor: kubectl ? `kubectl proxy = 1.0 (${kubectl.rps} req/s)` : 'kubectl not found',
  };
}

/** `kubectl port-forward` (its default form) of the bench pod's echo port; null where kubectl is absent. */
async function kubectlForward(kubeconfig: string): Promise<KubectlForward | null> {
  return findKubectl() ? startKubectlForward(kubeconfig, BENCH_POD.name, [BENCH_POD.echoPort], 'tunnel') : null;
}

/** kportd with 100 idle forwards vs a kubectl port-forward process with one (after one connection). */
async function idleRow(kubeconfig: string, dir: string): Promise<LeanRow> {
  const lines = Array.from({ length: IDLE_FORWARDS }, (_, i) => `\n  - { name: idle-${i}, target: sts/db, ports: [":5432"] }`);
  const kportd = await startKportd(join(dir, 'idle'), `kubeconfig: ${kubeconfig}\nforwards:${lines.join('')}\n`);
  const kubectl = await kubectlForward(kubeconfig);
  try {
    if (kubectl) await echo(kubectl.ports[0]!, 1);
    await settle();
    const early = { kport: kportd.rssMB(), kubectl: kubectl ? rssMB(kubectl.pid) : NaN };
    await new Promise((r) => setTimeout(r, STEADY_MS - 2_000));
    const mb = (now: number, then: number) => `${Math.round(now)} MB (${Math.round(then)} MB 2 s after ready)`;
    return {
      figure: `kportd RSS, ${IDLE_FORWARDS} idle forwards, ${STEADY_MS / 1000} s after ready`,
      kport: mb(kportd.rssMB(), early.kport),
      anchor: kubectl ? `a kubectl port-forward, one forward: ${mb(rssMB(kubectl.pid), early.kubectl)}` : 'kubectl not found',
    };
  } finally {
    await kportd.stop();
    if (kubectl) await kubectl.stop();
  }
}

/** RSS idle and after ~2 GB over 600 connections through one forward, kport and kubectl; then kport's series to 10,000 connections. */
async function trafficRows(kubeconfig: string, dir: string): Promise<{ rows: LeanRow[]; series: LeanFigures['series'] }> {
  const kportd: Kportd = await startKportd(join(dir, 'traffic'), `kubeconfig: ${kubeconfig}\nforwards:\n  - { name: echo, target: pod/${BENCH_POD.name}, ports: [":${BENCH_POD.echoPort}"] }\n`);
  const kubectl = await kubectlForward(kubeconfig);
  try {
    const port = await kportd.port('echo');
    await echo(port, 1);
    if (kubectl) await echo(kubectl.ports[0]!, 1);
    await settle();
    const idle = { kport: kportd.rssMB(), kubectl: kubectl ? rssMB(kubectl.pid) : NaN };
    const each = Math.ceil(TRAFFIC_BYTES / TRAFFIC_CONNECTIONS);
    // CPU seconds per GB echoed: what the machine's load does not change much, unlike MB/s.
    const cpuPerGB = async (pid: number, p: number) => {
      const before = cpuSeconds(pid);
      await traffic(p, TRAFFIC_CONNECTIONS, TRAFFIC_PARALLEL, each);
      return (cpuSeconds(pid) - before) / ((each * TRAFFIC_CONNECTIONS) / 1024 ** 3);
    };
    const cpu = { kport: await cpuPerGB(kportd.child.pid!, port), kubectl: kubectl ? await cpuPerGB(kubectl.pid, kubectl.ports[0]!) : NaN };
    await settle();
    const after = { kport: kportd.rssMB(), kubectl: kubectl ? rssMB(kubectl.pid) : NaN };
    const series: LeanFigures['series'] = [{ connections: 0, rssMB: Math.round(after.kport) }];
    for (let n = SERIES_STEP; n <= SERIES_CONNECTIONS; n += SERIES_STEP) {
      await traffic(port, SERIES_STEP, TRAFFIC_PARALLEL, 4096);
      series.push({ connections: n, rssMB: Math.round(kportd.rssMB()) });
    }
    const gb = ((each * TRAFFIC_CONNECTIONS) / 1024 ** 3).toFixed(1);
    return {
      rows: [
        {
          figure: `kportd RSS after ${TRAFFIC_CONNECTIONS} connections and ${gb} GB through one forward`,
          kport: `${Math.round(after.kport)} MB (${Math.round(idle.kport)} MB idle: ${after.kport - idle.kport >= 0 ? '+' : ''}${Math.round(after.kport - idle.kport)} MB; ${cpu.kport.toFixed(1)} CPU s/GB)`,
          anchor: kubectl ? `kubectl port-forward: ${Math.round(after.kubectl)} MB (${Math.round(idle.kubectl)} MB idle; ${cpu.kubectl.toFixed(1)} CPU s/GB)` : 'kubectl not found',
        },
      ],
      series,
    };
  } finally {
    await kportd.stop();
    if (kubectl) await kubectl.stop();
  }
}

/** `npm pack`, then `npm install` of the tarball into an empty folder: the size of what a user gets. */
async function packageRow(dir: string): Promise<LeanRow> {
  const where = join(dir, 'install');
  mkdirSync(where, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = (args: string[], cwd: string) =>
    new Promise<string>((resolve, reject) => execFile(npm, args, { cwd, timeout: 300_000, maxBuffer: 64 * 1024 ** 2 }, (err, stdout, stderr) => (err ? reject(new Error(`npm ${args.join(' ')}: ${stderr}`)) : resolve(stdout))));
  const packed = JSON.parse(await run(['pack', '--json', '--ignore-scripts', '--pack-destination', where], root)) as { filename: string; size: number }[];
  writeFileSync(join(where, 'package.json'), '{"private":true}\n');
  await run(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(where, packed[0]!.filename)], where);
  const installed = bytesUnder(join(where, 'node_modules'));
  return { figure: 'installed package (npm install of the packed tarball)', kport: `${(installed / 1024 ** 2).toFixed(1)} MB (tarball ${(packed[0]!.size / 1024 ** 2).toFixed(1)} MB)`, anchor: '' };
}

/** `kportctl start` in a fresh state folder until it returns, then `kportctl stop`; interleaved with `node -e 0`. */
async function startRow(kubeconfig: string, dir: string): Promise<LeanRow> {
  const times: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < 7; i++) {
    const state = join(dir, `start-${i}`);
    mkdirSync(state, { recursive: true });
    const config = join(state, 'kport.yaml');
    writeFileSync(config, `kubeconfig: ${kubeconfig}\nforwards:\n  - { name: web, target: svc/web, ports: [":80"] }\n`);
    const env = { ...process.env, KPORT_STATE_DIR: state, KPORT_SOCKET: join(state, 'kportd.sock'), NO_COLOR: '1' };
    times.push(await timed(process.execPath, [KPORTCTL, 'start', '--config', config], env));
    await timed(process.execPath, [KPORTCTL, 'stop'], env);
    node.push(await timed(process.execPath, ['-e', '0'], env));
  }
  return { figure: '`kportctl start` until it returns (median of 7)', kport: `${Math.round(median(times))} ms (${range(times)}; node -e 0: ${Math.round(median(node))} ms)`, anchor: '' };
}

/** Runs every row of issue 13's table. */
export async function benchLean(): Promise<LeanFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'kport-bench-lean-'));
  const cluster = await startCluster();
  try {
    const { kubeconfig } = cluster.info;
    const rows = [await listRow(kubeconfig, dir), await proxyRow(), await idleRow(kubeconfig, dir)];
    const traffic = await trafficRows(kubeconfig, dir);
    rows.push(...traffic.rows, await packageRow(dir), await startRow(kubeconfig, dir));
    return { rows, series: traffic.series };
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as text: the table, then the RSS series. */
export function formatLean(f: LeanFigures): string {
  const table = [['figure', 'kport', 'anchor'], ...f.rows.map((r) => [r.figure, r.kport, r.anchor])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return [
    ...table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()),
    `kportd RSS over ${SERIES_CONNECTIONS} more connections (after the traffic above): ${f.series.map((s) => `${s.connections}: ${s.rssMB}`).join(', ')} MB`,
  ].join('\n');
}

/** `npm run bench`'s section for issue 13. */
export async function printLean(): Promise<void> {
  console.log('\n== lean and instant: kport vs its anchor (same machine, same run)');
  console.log(formatLean(await benchLean()));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await printLean();

/**
 * Benchmark of forwards through a real kportd process: throughput of one and of 8 parallel
 * streams and time to first byte of new connections, each against a direct connection to the
 * same echo backend in the same run; failover time (replacement pod Ready → first connection it
 * serves); and kportd's memory idle, with 2 and with 100 forwards. The simulated cluster runs in a
 * worker thread, kportd in its own process, the load on the main thread.
 * `node dist/bench/forward.js` prints the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KubeClient } from '../daemon/kube/client.js';
import { loadContext } from '../daemon/kube/kubeconfig.js';
import type { PodDialer } from '../daemon/kube/transport/types.js';
import { WebSocketDialer } from '../daemon/kube/transport/websocket/dialer.js';
import { startCluster } from './cluster.js';
import { startKportd, type Kportd } from './kportd.js';
import { downloadRate, duplexLink, echoRate, firstEcho, MiB, newConnections, quantile, tcpLink, type Closing, type Link } from './load.js';
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

/** The API server's own port-forward stream, without kport's local hop: what any client of it pays. */
async function podLink(dialer: PodDialer, pod: string, port: number): Promise<Link> {
  return duplexLink(await dialer.dial({ namespace: 'default', pod, port }));
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
    const { kubeconfig, backends } = cluster.info;
    const [echoBackend, sourceBackend] = [backends.dbEcho, backends.srcSource];
    const client = new KubeClient(loadContext([kubeconfig], null));
    const dialer = new WebSocketDialer(client);
    const paths = {
      echo: { kport: () => tcpLink(echo), direct: () => tcpLink(echoBackend), api: () => podLink(dialer, 'db-0', 5432) },
      source: { kport: () => tcpLink(src), direct: () => tcpLink(sourceBackend), api: () => podLink(dialer, 'src-0', 9100) },
    };
    // Warm every path's JIT up before measuring.
    // The v4 WebSocket carries no half-close: its streams are cut once measured (see load.ts's Closing).
    const closing = { kport: 'half-close', api: 'cut', direct: 'half-close' } as const;
    for (const [k, p] of Object.entries(paths.echo)) await echoRate(p, 64 * MiB, 1, closing[k as keyof typeof closing]);
    for (const [k, p] of Object.entries(paths.source)) await downloadRate(p, 64 * MiB, 1, closing[k as keyof typeof closing]);
    const measure = async (name: string, rate: (l: () => Promise<Link>, c: Closing) => Promise<number>, p: typeof paths.echo) => ({
      name,
      kportMBs: Math.round(await rate(p.kport, closing.kport)),
      apiMBs: Math.round(await rate(p.api, closing.api)),
      directMBs: Math.round(await rate(p.direct, closing.direct)),
    });
    const throughput = [
      await measure('echo, 1 stream', (l, c) => echoRate(l, ONE_STREAM_BYTES, 1, c), paths.echo),
      await measure(`echo, ${PARALLEL_STREAMS} streams`, (l, c) => echoRate(l, ONE_STREAM_BYTES, PARALLEL_STREAMS, c), paths.echo),
      await measure('download', async (l, c) => (await downloadRate(l, ONE_STREAM_BYTES, 1, c)).mbs, paths.source),
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log(formatForward(await benchForward()));

/**
 * The load the forward benchmarks put on a local port: byte pipes (echo both ways, download one
 * way) over one or many streams, and new connections timed to their first echoed byte. Runs on the
 * benchmark's main thread; what it measures runs elsewhere.
 */
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export const MiB = 1024 * 1024;
/** How long a half-closed link may take to end from the far side. */
const FINISH_MS = 10_000;

/** Opens a TCP connection with Nagle off. */
export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * How a measured link is closed: `half-close` (see Link.finish) where the path carries a half-close,
 * `cut` where it cannot (kport's v4 WebSocket fallback keeps a half-closed stream open until the pod
 * side goes quiet, which a source never does).
 */
export type Closing = 'half-close' | 'cut';

/** A byte pipe to a backend: a TCP connection, or a port-forward stream opened in-process. */
export interface Link {
  /** Like socket.write: false means wait for `drained`. */
  write(chunk: Buffer): boolean;
  drained(): Promise<void>;
  onData(fn: (bytes: number) => void): void;
  /**
   * Half-closes, then reads (and drops) whatever is still in flight until the far side ends too.
   * A forwarder that is cut off mid-stream instead may stall for good: kubectl's spdystream hands
   * each stream's DATA to a reader that is gone once the local socket is, and its whole connection
   * waits on it. A clean end is what both forwarders are measured on.
   */
  finish(): Promise<void>;
  close(): void;
}

/** A Link over a Duplex (a socket, a PodStream). */
export function duplexLink(s: Duplex): Link {
  return {
    write: (c) => s.write(c),
    drained: () => new Promise((r) => s.once('drain', r)),
    onData: (fn) => s.on('data', (d: Buffer) => fn(d.length)),
    finish: () =>
      new Promise<void>((resolve, reject) => {
        if (s.readableEnded || s.destroyed) return resolve(void s.destroy());
        const timer = setTimeout(() => (s.destroy(), reject(new Error(`the far side did not end within ${FINISH_MS} ms of a half-close`))), FINISH_MS);
        s.once('end', () => (clearTimeout(timer), s.destroy(), resolve()));
        s.once('error', (err) => (clearTimeout(timer), reject(err)));
        s.resume();
        s.end();
      }),
    close: () => s.destroy(),
  };
}

/** A Link over a new TCP connection to `port`. */
export async function tcpLink(port: number): Promise<Link> {
  return duplexLink(await open(port));
}

const closeAll = (links: Link[], closing: Closing) => Promise.all(links.map((l) => (closing === 'cut' ? l.close() : l.finish())));

/** Sends `bytes` through echo links over `streams` connections; resolves with MB/s (payload, one way). */
export async function echoRate(link: () => Promise<Link>, bytes: number, streams: number, closing: Closing = 'half-close'): Promise<number> {
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
    }),
  );
  const rate = (each * streams) / MiB / ((performance.now() - start) / 1000);
  await closeAll(links, closing);
  return rate;
}

/** A download's figures: MB/s of every stream together, and how evenly the streams shared it. */
export interface Download {
  mbs: number;
  /** The slowest stream's bytes over an even split of them (1 = fair; 0 = a stream got nothing). */
  slowestShare: number;
}

/**
 * Reads `bytes` in all from source links over `streams` connections at once, whichever streams
 * carry them (a forwarder that starves some streams is measured on what it moves, and its
 * unfairness shows in `slowestShare`).
 */
export async function downloadRate(link: () => Promise<Link>, bytes: number, streams = 1, closing: Closing = 'half-close'): Promise<Download> {
  const links = await Promise.all(Array.from({ length: streams }, link));
  const got = links.map(() => 0);
  let total = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => links.forEach((l, i) => l.onData((n) => ((got[i]! += n), (total += n) >= bytes && resolve()))));
  const seconds = (performance.now() - start) / 1000;
  const shares = got.map((g) => g / (total / streams));
  // Not timed: the source sends until it sees the half-close, and what is in flight then drains.
  await closeAll(links, closing);
  return { mbs: total / MiB / seconds, slowestShare: Math.min(...shares) };
}

/** One connection: connect → 1 byte → its echo → close; resolves with the time to the echo in ms. */
export async function connectAndEcho(port: number): Promise<number> {
  const start = performance.now();
  const s = await open(port);
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('data', () => resolve());
      s.once('error', reject);
      s.once('end', () => reject(new Error(`port ${port}: closed before the echo`)));
      s.write('x');
    });
    return performance.now() - start;
  } finally {
    s.destroy();
  }
}

/** `n` connections in a row (connectAndEcho); resolves with the latencies in ms, sorted. */
export async function newConnections(port: number, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await connectAndEcho(port));
  return times.sort((a, b) => a - b);
}

/** The q-quantile of sorted values, to 0.01. */
export const quantile = (sorted: number[], q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;

/** The median of values (any order). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Until the forward on `port` echoes a byte; each try is one new connection (held by kportd while nothing is ready). */
export async function firstEcho(port: number): Promise<number> {
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

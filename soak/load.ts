/**
 * The load generator: echo workers sending checksummed payloads of 1 KB–4 MB through the echo
 * forwards, and one loop per HTTP session (a forward and the proxy) GETting a pod's name. Load is
 * paced (bytes per second for echo, requests per second for HTTP) so that a soak on a 2-core machine
 * leaves room for the daemon under test and for the rest of the test suite.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Ledger } from './ledger.js';
import { echoTransfer, httpCheck } from './transfer.js';
import type { SoakSession, World } from './world.js';

/** How hard to push. */
export interface LoadOptions {
  /** Concurrent echo transfers. */
  workers: number;
  /** Echo payload bytes per second, all workers together. */
  bytesPerSec: number;
  /** GETs per second on each HTTP session. */
  httpPerSec: number;
  /** A transfer with no byte moving for this long is given up as stalled. */
  idleMs: number;
}

export const MIN_SIZE = 1024;
export const MAX_SIZE = 4 * 1024 * 1024;
/** After a failed transfer a worker waits this long, so that a forward refusing at once is not hammered. */
const AFTER_FAILURE_MS = 100;

/** Spaces out work so that its rate stays under `perSec` units a second (no debt builds up while idle). */
class Pacer {
  private nextAt = 0;

  constructor(private readonly perSec: number) {}

  /** Resolves when `units` more may be started. */
  async take(units: number): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + (units / this.perSec) * 1000;
    if (at > now) await delay(at - now);
  }
}

/** A payload size between MIN_SIZE and MAX_SIZE, even over orders of magnitude. */
function payloadSize(): number {
  return Math.round(Math.exp(Math.log(MIN_SIZE) + Math.random() * (Math.log(MAX_SIZE) - Math.log(MIN_SIZE))));
}

/** True when an HTTP body names a pod of deployment `web`. */
export function namesWebPod(world: World): (body: string) => boolean {
  return (body) => body.endsWith('\n') && world.webPods.has(body.slice(0, -1));
}

/** Runs the load until stop(). */
export class Load {
  private stopping = false;
  private readonly running: Promise<void>[] = [];
  private readonly bytes: Pacer;

  constructor(
    private readonly world: World,
    private readonly ledger: Ledger,
    private readonly opts: LoadOptions,
  ) {
    this.bytes = new Pacer(opts.bytesPerSec);
  }

  /** Starts every worker. */
  start(): void {
    const echo = this.world.sessions.filter((s) => s.kind === 'echo');
    for (let i = 0; i < this.opts.workers; i++) this.running.push(this.echoWorker(echo));
    for (const s of this.world.sessions.filter((x) => x.kind === 'http')) this.running.push(this.httpWorker(s));
  }

  /** Lets every transfer in flight finish (or stall out) and starts no new one. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  private async echoWorker(sessions: SoakSession[]): Promise<void> {
    while (!this.stopping) {
      const s = sessions[Math.floor(Math.random() * sessions.length)]!;
      const size = payloadSize();
      await this.bytes.take(size);
      if (this.stopping) return;
      const start = performance.now();
      const o = await echoTransfer(s.port, randomBytes(size), { idleMs: this.opts.idleMs, halfClose: Math.random() < 0.5 });
      this.ledger.record(s.name, 'echo', start, size, o);
      if (o.result !== 'ok') await delay(AFTER_FAILURE_MS);
    }
  }

  private async httpWorker(s: SoakSession): Promise<void> {
    const pace = new Pacer(this.opts.httpPerSec);
    const valid = namesWebPod(this.world);
    while (!this.stopping) {
      await pace.take(1);
      if (this.stopping) return;
      const start = performance.now();
      const o = await httpCheck(s.port, s.path, valid, this.opts.idleMs);
      this.ledger.record(s.name, 'http', start, 0, o);
      if (o.result !== 'ok') await delay(AFTER_FAILURE_MS);
    }
  }
}

/**
 * Whether the API server can be reached, as one signal per client. Anything that fails to reach
 * it calls `lost()`; from then on a cheap probe (GET /version) runs every PROBE_MS until one is
 * answered, and `back` is emitted at once. Watches and forwards waiting out a backoff listen for
 * `back`, so recovery follows the API server's return within a probe interval, however long the
 * outage was, instead of waiting for a backoff step that grew during it.
 */
import { EventEmitter } from 'node:events';

/** How often an unreachable API server is probed. */
export const PROBE_MS = 500;
const PROBE_TIMEOUT_MS = 2_000;

/** Emits `back` when a probe succeeds after `lost()`. */
export class Reachability extends EventEmitter {
  private timer: NodeJS.Timeout | null = null;
  private probing = false;
  private stopped = false;

  constructor(
    /** Resolves when the API server answers; rejects otherwise. */
    private readonly probe: (timeoutMs: number) => Promise<unknown>,
    private readonly everyMs = PROBE_MS,
  ) {
    super();
    // Every reflector and forward of a context listens: many listeners are the design, not a leak.
    this.setMaxListeners(0);
  }

  /** True while probing (something failed to reach the API server and no probe has succeeded yet). */
  get unreachable(): boolean {
    return this.probing;
  }

  /** Something failed to reach the API server: start probing (once; later calls join). */
  lost(): void {
    if (this.probing || this.stopped) return;
    this.probing = true;
    this.schedule();
  }

  /** Something reached the API server: no probe needed. */
  found(): void {
    if (!this.probing) return;
    this.clear();
    this.emit('back');
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private schedule(): void {
    this.timer = setTimeout(this.tick, this.everyMs);
    this.timer.unref();
  }

  private readonly tick = (): void => {
    this.timer = null;
    this.probe(PROBE_TIMEOUT_MS).then(
      () => this.found(),
      () => this.probing && !this.stopped && this.schedule(),
    );
  };

  private clear(): void {
    this.probing = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

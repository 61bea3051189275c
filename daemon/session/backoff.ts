/** Exponential backoff with jitter: 250 ms doubling to 30 s by default, reset after a success. */

/** Backoff settings; `random` is injectable so tests are deterministic. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Each delay is spread by ±jitter (0.2 = ±20%). */
  jitter: number;
  random: () => number;
}

const DEFAULTS: BackoffOptions = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2, random: Math.random };

/** Hands out successive retry delays. */
export class Backoff {
  private readonly o: BackoffOptions;
  private attempt = 0;

  constructor(options: Partial<BackoffOptions> = {}) {
    this.o = { ...DEFAULTS, ...options };
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The next delay in ms (grows until maxMs; never exceeds it). */
  next(): number {
    const base = Math.min(this.o.maxMs, this.o.initialMs * this.o.factor ** this.attempt++);
    const spread = 1 + this.o.jitter * (2 * this.o.random() - 1);
    return Math.round(Math.min(this.o.maxMs, base * spread));
  }

  /** Starts over from initialMs (after a success). */
  reset(): void {
    this.attempt = 0;
  }
}

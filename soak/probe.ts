/**
 * Recovery probes: after a fault is lifted, a fresh connection through a session, again and again,
 * until one is served (an echo of 1 KB comes back intact, or a GET names a web pod) or the stuck bound
 * passes. A connection kport holds while it waits for a pod counts from the moment it was opened, so
 * what is measured is what a user sees: fault lifted → first connection served.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Ledger } from './ledger.js';
import { namesWebPod } from './load.js';
import { echoTransfer, httpCheck, type Outcome } from './transfer.js';
import type { SoakSession, World } from './world.js';

/** Between two probe attempts that failed at once (the resolution of a recovery time when kport refuses rather than holds). */
export const PROBE_RETRY_MS = 50;

/** How a probe ended. */
export type Served =
  | { session: string; ok: true; /** ms from `from` to the first served connection */ ms: number; attempts: number }
  | { session: string; ok: false; ms: number; attempts: number; lastError: string; /** ended by the soak, not by the bound */ aborted?: true };

/** One attempt through `s`, waiting at most `idleMs` for it. */
export function attempt(world: World, s: SoakSession, idleMs: number): Promise<Outcome> {
  if (s.kind === 'echo') return echoTransfer(s.port, randomBytes(1024), { idleMs, halfClose: false });
  return httpCheck(s.port, s.path, namesWebPod(world), idleMs);
}

/**
 * Probes `s` until a connection is served or `stuckMs` after `from` (a performance.now() time) have passed;
 * an aborted `signal` (kportd died) ends it after the attempt under way.
 */
export async function untilServed(world: World, ledger: Ledger, s: SoakSession, from: number, stuckMs: number, signal?: AbortSignal): Promise<Served> {
  const deadline = from + stuckMs;
  let attempts = 0;
  let lastError = 'no attempt';
  while (true) {
    if (signal?.aborted) return { session: s.name, ok: false, ms: performance.now() - from, attempts, lastError, aborted: true };
    const left = deadline - performance.now();
    if (left <= 0) return { session: s.name, ok: false, ms: performance.now() - from, attempts, lastError };
    attempts++;
    const start = performance.now();
    const o = await attempt(world, s, Math.max(1, left));
    ledger.record(s.name, 'probe', start, s.kind === 'echo' ? 1024 : 0, o);
    if (o.result === 'ok') return { session: s.name, ok: true, ms: performance.now() - from, attempts };
    lastError = `${o.result}: ${o.error}`;
    if (performance.now() - start < PROBE_RETRY_MS) await delay(PROBE_RETRY_MS);
  }
}

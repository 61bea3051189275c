/**
 * Property-based fuzzing in `npm test`: fast-check with a bounded number of runs and a time limit, the seed and
 * replay path printed on failure, every failure shrunk. KPORT_FUZZ_SEED and KPORT_FUZZ_PATH replay a reported
 * failure; KPORT_FUZZ_RUNS asks for that many runs with no time limit (a longer hunt, by hand).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import fc from 'fast-check';
import { KportError } from '../../daemon/api/errors.js';
import { RPC_CODES } from '../../daemon/api/rpc.js';

/** How much one property may run. */
export interface FuzzBounds {
  numRuns: number;
  /** Runs not started by then are skipped, and the property passes on what ran (a safety net, not a target). */
  timeLimitMs: number;
}

function replay(): { seed?: number; path?: string } {
  const { KPORT_FUZZ_SEED: seed, KPORT_FUZZ_PATH: path } = process.env;
  return { ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

/**
 * Checks that `predicate` holds (resolves) for values of `arb`. A run cut off by the time limit keeps going in the
 * background (fast-check cannot stop it): it is awaited before this resolves, so whatever it started is cleaned up.
 */
export async function fuzz<T>(t: TestContext, arb: fc.Arbitrary<T>, predicate: (value: T) => Promise<void> | void, bounds: FuzzBounds): Promise<void> {
  const hunt = process.env.KPORT_FUZZ_RUNS ? Number(process.env.KPORT_FUZZ_RUNS) : null;
  let inFlight: Promise<unknown> = Promise.resolve();
  let predicateRuns = 0;
  const property = fc.asyncProperty(arb, (value) => {
    predicateRuns++;
    const run = Promise.resolve().then(() => predicate(value));
    inFlight = run.catch(() => {});
    return run;
  });
  const started = performance.now();
  const details = await fc.check(property, {
    numRuns: hunt ?? bounds.numRuns,
    ...replay(),
    plugins: hunt === null ? [fc.interruptAfterTimeLimit(bounds.timeLimitMs)] : [],
  });
  await inFlight;
  const ms = Math.round(performance.now() - started);
  const shrinks = details.failed ? `, ${details.numShrinks} shrinks` : '';
  t.diagnostic(`seed ${details.seed}: ${details.numRuns} runs${shrinks} (${predicateRuns} calls) in ${ms} ms${details.interrupted ? ', stopped by the time limit' : ''}`);
  if (!details.failed) return;
  const why = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(`${fc.defaultReportMessage(details)}\nThe shrunk counterexample failed with: ${why}\n(replay: KPORT_FUZZ_SEED=${details.seed} KPORT_FUZZ_PATH=${details.counterexamplePath ?? ''})`);
}

/** `promise`, or a rejection naming `what` once `timeoutMs` pass first: a hang detector for a property, not a timing check. */
export function settles<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

const CODES = new Set(Object.keys(RPC_CODES));

/** Asserts that `err` is what every failure in kport is: a KportError with a known code and a message. */
export function assertClearError(err: unknown, what: string): void {
  assert.ok(err instanceof KportError, `${what}: not a KportError: ${String(err)}`);
  assert.ok(CODES.has(err.code), `${what}: unknown code ${err.code}`);
  assert.notEqual(err.message.trim(), '', `${what}: a ${err.code} without a message`);
}

/**
 * Every transfer's outcome, tallied by what carried it (echo load, HTTP load, recovery probes) and by
 * session, with the time span of each one that did not succeed so that the report can tell the
 * failures a fault explains from the ones nothing explains.
 */
import type { Outcome } from './transfer.js';

/** What produced a transfer. */
export type Source = 'echo' | 'http' | 'probe';

/** Counts of one group of transfers. */
export interface Tally {
  ok: number;
  closed: number;
  corrupted: number;
  refused: number;
  stalled: number;
  /** Bytes that came back intact (sent and echoed, or HTTP bodies). */
  bytes: number;
}

/** One transfer that did not end `ok`. */
export interface Miss {
  session: string;
  source: Source;
  /** performance.now() at its start and end. */
  start: number;
  end: number;
  size: number;
  result: Exclude<Outcome['result'], 'ok'>;
  error: string;
}

/** Misses kept in full; beyond this only the tallies grow (a five-minute outage fails a lot of GETs). */
const MAX_MISSES = 20_000;

function emptyTally(): Tally {
  return { ok: 0, closed: 0, corrupted: 0, refused: 0, stalled: 0, bytes: 0 };
}

/** The soak's record of transfers. */
export class Ledger {
  readonly bySource: Record<Source, Tally> = { echo: emptyTally(), http: emptyTally(), probe: emptyTally() };
  readonly bySession = new Map<string, Tally>();
  readonly misses: Miss[] = [];
  /** Misses that did not fit in `misses`. */
  dropped = 0;

  /** Records one finished transfer. */
  record(session: string, source: Source, start: number, size: number, o: Outcome): void {
    let s = this.bySession.get(session);
    if (!s) this.bySession.set(session, (s = emptyTally()));
    for (const t of [this.bySource[source], s]) {
      t[o.result]++;
      if (o.result === 'ok') t.bytes += o.bytes;
    }
    if (o.result === 'ok') return;
    if (this.misses.length >= MAX_MISSES) return void this.dropped++;
    this.misses.push({ session, source, start, end: performance.now(), size, result: o.result, error: o.error });
  }

  /** All sources together. */
  total(): Tally {
    const t = emptyTally();
    for (const s of Object.values(this.bySource)) for (const k of Object.keys(t) as (keyof Tally)[]) t[k] += s[k];
    return t;
  }
}

/**
 * Write coalescing across one turn of the event loop. TLS hands a read on as one 16 KiB record per
 * callback, and each callback ends its own tick, so corking until the next tick joins nothing:
 * corking until the check phase (setImmediate) joins everything written while this turn's I/O is
 * handled into one writev. That is a write per turn instead of one per record, at no added latency
 * (the same turn of the loop), and fewer, larger reads for whoever is on the other end.
 */
import type { Writable } from 'node:stream';

const corked = new WeakSet<Writable>();

/** Corks `w` until the end of this turn of the event loop, once per turn however often it is called. */
export function corkForTurn(w: Writable): void {
  if (corked.has(w)) return;
  corked.add(w);
  w.cork();
  setImmediate(() => {
    corked.delete(w);
    w.uncork();
  });
}

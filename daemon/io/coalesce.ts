/**
 * Write coalescing within one turn of the event loop. TLS hands a read on as one 16 KiB record per
 * callback, and each callback ends its own tick, so kportd wrote a socket once per record (and the
 * reader on the other end read as often). The first write to a socket in a turn leaves at once, so
 * a lone request or reply waits for nothing; later ones in the same turn are corked until the check
 * phase (setImmediate) and leave together as one writev. Corking the first write too cost every new
 * connection ~0.1 ms (measured); corking per tick joined nothing.
 */
import type { Writable } from 'node:stream';

/** Sockets written this turn: true once later writes are being held for the end of the turn. */
const thisTurn = new WeakMap<Writable, boolean>();

/** Writes `chunks` to `w` (as one writev when several); returns what the last write() returned. */
export function writeCoalesced(w: Writable, ...chunks: Buffer[]): boolean {
  const corked = thisTurn.get(w);
  if (corked === undefined) {
    thisTurn.set(w, false);
    setImmediate(() => {
      if (thisTurn.get(w)) w.uncork();
      thisTurn.delete(w);
    });
  } else if (!corked) {
    thisTurn.set(w, true);
    w.cork();
  }
  const now = corked === undefined && chunks.length > 1;
  if (now) w.cork();
  let ok = true;
  for (const c of chunks) ok = w.write(c);
  if (now) w.uncork();
  return ok;
}

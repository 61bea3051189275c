/** writeCoalesced: the first write of a turn leaves at once; the rest of the turn leaves as one. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as endOfTurn } from 'node:timers/promises';
import { writeCoalesced } from '../../daemon/io/coalesce.js';

/** A Writable that records each write it is asked to do, as the chunks it carried. */
function recorder(): { w: Writable; writes: string[][] } {
  const writes: string[][] = [];
  const w = new Writable({
    write: (chunk: Buffer, _enc, cb) => (writes.push([chunk.toString()]), cb()),
    writev: (chunks, cb) => (writes.push(chunks.map((c) => String(c.chunk))), cb()),
  });
  return { w, writes };
}

const b = (s: string) => Buffer.from(s);

describe('writeCoalesced', () => {
  it('sends the first write of a turn at once, and joins the rest of the turn, across callbacks, into one', async () => {
    const { w, writes } = recorder();
    writeCoalesced(w, b('first'));
    assert.deepEqual(writes, [['first']], 'a lone write waits for nothing');
    writeCoalesced(w, b('a'));
    await new Promise<void>((r) => process.nextTick(r)); // another tick of the same turn
    writeCoalesced(w, b('b'), b('c'));
    assert.deepEqual(writes, [['first']], 'later writes wait for the end of the turn');
    await endOfTurn();
    assert.deepEqual(writes, [['first'], ['a', 'b', 'c']]);
    assert.equal(w.writableCorked, 0);
  });

  it('sends the chunks of one call together, also as the first write of a turn', () => {
    const { w, writes } = recorder();
    writeCoalesced(w, b('header'), b('payload'));
    assert.deepEqual(writes, [['header', 'payload']]);
  });

  it('starts afresh in the next turn', async () => {
    const { w, writes } = recorder();
    writeCoalesced(w, b('a'));
    await endOfTurn();
    writeCoalesced(w, b('b'));
    writeCoalesced(w, b('c'));
    writeCoalesced(w, b('d'));
    await endOfTurn();
    assert.deepEqual(writes, [['a'], ['b'], ['c', 'd']]);
  });

  it('keeps what end() writes after the held writes', async () => {
    const { w, writes } = recorder();
    writeCoalesced(w, b('a'));
    writeCoalesced(w, b('b'));
    w.end(b('z'));
    await endOfTurn();
    assert.deepEqual(writes.flat(), ['a', 'b', 'z']);
  });
});

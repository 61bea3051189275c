/** corkForTurn: what is written in one turn of the event loop leaves in one write. */
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { corkForTurn } from '../../daemon/io/cork.js';

/** A Writable that records each write it is asked to do, as the chunks it carried. */
function recorder(): { w: Writable; writes: string[][] } {
  const writes: string[][] = [];
  const w = new Writable({
    write: (chunk: Buffer, _enc, cb) => (writes.push([chunk.toString()]), cb()),
    writev: (chunks, cb) => (writes.push(chunks.map((c) => String(c.chunk))), cb()),
  });
  return { w, writes };
}

describe('corkForTurn', () => {
  it('joins the writes of one turn, from several callbacks, into one', async () => {
    const { w, writes } = recorder();
    corkForTurn(w);
    w.write('a');
    await new Promise<void>((r) => process.nextTick(r)); // another tick, the same turn
    corkForTurn(w);
    w.write('b');
    corkForTurn(w);
    w.write('c');
    assert.deepEqual(writes, [], 'nothing leaves before the turn ends');
    await turn();
    assert.deepEqual(writes, [['a', 'b', 'c']]);
    assert.equal(w.writableCorked, 0, 'uncorked once, however often it was called');
  });

  it('corks again in the next turn', async () => {
    const { w, writes } = recorder();
    corkForTurn(w);
    w.write('a');
    await turn();
    corkForTurn(w);
    w.write('b');
    w.write('c');
    await turn();
    assert.deepEqual(writes, [['a'], ['b', 'c']]);
  });

  it('leaves a write on an ended stream to end() itself (end flushes what is corked)', async () => {
    const { w, writes } = recorder();
    corkForTurn(w);
    w.write('a');
    w.end('z');
    await turn();
    assert.deepEqual(writes.flat(), ['a', 'z']);
  });
});

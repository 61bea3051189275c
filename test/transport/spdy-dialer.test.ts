/** The SPDY dialer over in-memory sockets: how concurrent connections share and fill sessions. */
import assert from 'node:assert/strict';
import { setImmediate } from 'node:timers/promises';
import { test } from 'node:test';
import { KportError } from '../../daemon/api/errors.js';
import { SpdyDialer } from '../../daemon/kube/transport/spdy/dialer.js';
import { MemorySocket } from '../helpers/spdy-peer.js';

test('connections that wait for one upgrade fill it, then open another session: none is refused', async () => {
  const sockets: MemorySocket[] = [];
  // Room for two connections (two streams each) per session; the upgrade completes a turn later.
  const dialer = new SpdyDialer('spdy', async () => {
    await setImmediate();
    const s = new MemorySocket();
    sockets.push(s);
    return s;
  }, { maxStreams: 5 });
  const target = { namespace: 'default', pod: 'web', port: 80 };
  try {
    const dialed = await Promise.allSettled([dialer.dial(target), dialer.dial(target), dialer.dial(target)]);
    assert.deepEqual(dialed.map((d) => (d.status === 'rejected' ? String(d.reason) : 'ok')), ['ok', 'ok', 'ok']);
    assert.equal(sockets.length, 2, 'the third connection opened a second session');
    for (const d of dialed) if (d.status === 'fulfilled') d.value.on('error', () => {}); // the sessions' end below aborts them
  } finally {
    dialer.close();
    for (const s of sockets) s.destroy(new KportError('SHUTTING_DOWN', 'test over'));
  }
});

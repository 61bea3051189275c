/** The API server's reachability signal: probing starts on the first loss, repeats until answered, and says so once. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, beforeEach, test } from 'node:test';
import { Reachability } from '../../daemon/kube/reachability.js';

// The probe timer is unref'd (it must never keep kportd alive): hold the test's event loop open.
let keepAlive: NodeJS.Timeout;
beforeEach(() => void (keepAlive = setInterval(() => {}, 1_000)));
afterEach(() => clearInterval(keepAlive));

test('lost() probes until the API server answers, then emits back once; later losses probe again', async () => {
  let calls = 0;
  let up = false;
  const r = new Reachability(async () => {
    calls++;
    if (!up) throw new Error('ECONNREFUSED');
  }, 1);
  r.lost();
  r.lost(); // joins the probing already under way
  assert.equal(r.unreachable, true);
  while (calls < 3) await new Promise((res) => setImmediate(res));
  up = true;
  await once(r, 'back');
  assert.equal(r.unreachable, false);
  const before = calls;
  r.lost();
  await once(r, 'back');
  assert.equal(calls, before + 1);
  r.stop();
});

test('found() ends probing at once (a request got through), and stop() ends it for good', async () => {
  const r = new Reachability(() => Promise.reject(new Error('down')), 60_000);
  r.lost();
  const back = once(r, 'back');
  r.found();
  await back;
  r.stop();
  r.lost();
  assert.equal(r.unreachable, false);
});

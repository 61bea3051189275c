/**
 * `localhost` on a machine without IPv6, as in many containers: kubectl binds 127.0.0.1 alone and goes on, so
 * kport does too. The machine is made in a network namespace with IPv6 off on its loopback (`unshare -rn`);
 * where that cannot be made, the test says why and skips.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { KportError } from '../../daemon/api/errors.js';
import { missingLoopback } from '../../daemon/session/listen.js';

const LISTENER = new URL('../../daemon/forward/listener.js', import.meta.url).href;
const BOTH = ['127.0.0.1', '::1'];

/** Binds port 0 on `addresses` inside an IPv6-less namespace; what bound, or the error's code and message. */
function bindWithoutIpv6(addresses: string[]): { bound?: string[]; error?: string; skip?: string } {
  const script = `
    const { bindListeners } = await import(${JSON.stringify(LISTENER)});
    try {
      const l = await bindListeners(${JSON.stringify(addresses)}, [{ local: 0, remote: 80 }], (s) => s.destroy());
      console.log(JSON.stringify({ bound: l.bound.map((b) => b.address) }));
      await l.close();
    } catch (err) {
      console.log(JSON.stringify({ error: err.code + ': ' + err.message }));
    }`;
  const setup = 'ip link set lo up && echo 1 > /proc/sys/net/ipv6/conf/lo/disable_ipv6';
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', `${setup} && exec "$0" --input-type=module -e "$1"`, process.execPath, script], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0 || !r.stdout.trim()) return { skip: `no IPv6-less network namespace here (unshare -rn: ${r.error?.message ?? (r.stderr.trim() || `exit ${r.status}`)})` };
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { bound?: string[]; error?: string };
}

describe('listeners on a machine without IPv6', () => {
  it('localhost (both loopbacks) binds 127.0.0.1 alone', (t) => {
    const r = bindWithoutIpv6(BOTH);
    if (r.skip) return t.skip(r.skip);
    assert.deepEqual(r, { bound: ['127.0.0.1'] });
  });

  it('::1 asked for alone still fails, naming the address and the cause', (t) => {
    const r = bindWithoutIpv6(['::1']);
    if (r.skip) return t.skip(r.skip);
    assert.match(r.error ?? '', /^BIND_FAILED: cannot listen on \[::1\]:0 \(EADDRNOTAVAIL\)/);
  });

  it('leaves out only ::1, only beside 127.0.0.1, only when the machine has no such address', () => {
    const noAddress = new KportError('BIND_FAILED', 'x', { errno: 'EADDRNOTAVAIL' });
    assert.equal(missingLoopback('::1', BOTH, noAddress), true);
    assert.equal(missingLoopback('::1', BOTH, new KportError('BIND_FAILED', 'x', { errno: 'EAFNOSUPPORT' })), true);
    assert.equal(missingLoopback('::1', ['::1'], noAddress), false, 'asked for alone');
    assert.equal(missingLoopback('127.0.0.1', BOTH, noAddress), false, 'IPv4 loopback missing is a real failure');
    assert.equal(missingLoopback('::1', BOTH, new KportError('PORT_IN_USE', 'x')), false, 'a port in use stands');
    assert.equal(missingLoopback('::1', BOTH, new KportError('BIND_FAILED', 'x', { errno: 'EACCES' })), false);
  });
});

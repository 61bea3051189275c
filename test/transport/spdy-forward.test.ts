/**
 * Forwards over SPDY, as a user notices them: connections share one session per pod, half-close is
 * real, one stalled reader does not hold up new connections, refused upgrades fall back, and a
 * session that stops answering pings is replaced. These pin the transport, whatever TEST_TRANSPORT is.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TransportChoice } from '../../config/types.js';
import { SOCKET_HIGH_WATER } from '../../daemon/forward/listener.js';
import { STREAM_BUFFER_MAX } from '../../daemon/kube/transport/spdy/portforward.js';
import { BACKENDS_ANNOTATION } from '../cluster/backends.js';
import { SimCluster } from '../cluster/cluster.js';
import { echo, echoChecksum, ForwardHarness, forwardSpec, localPort, open, waitForState } from '../helpers/forward.js';
import { waitUntil } from '../helpers/wait.js';

/** Sends `payload`, half-closes, and resolves with everything that comes back until the far side's FIN. */
function sendThenShutWrite(port: number, payload: Buffer): Promise<Buffer> {
  return open(port).then(
    (socket) =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('end', () => (socket.destroy(), resolve(Buffer.concat(chunks))));
        socket.on('error', reject);
        socket.end(payload);
      }),
  );
}

/** Reads `bytes` from a download backend through `port`. */
function download(port: number, bytes: number): Promise<void> {
  return open(port).then(
    (socket) =>
      new Promise((resolve, reject) => {
        let got = 0;
        socket.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= bytes) (socket.destroy(), resolve());
        });
        socket.on('error', reject);
        socket.on('close', () => got < bytes && reject(new Error(`closed after ${got} of ${bytes} bytes`)));
      }),
  );
}

describe('forwards over SPDY', () => {
  let cluster: SimCluster;
  const harnesses: ForwardHarness[] = [];
  const sockets: Socket[] = [];
  /** A harness of its own per test: the fallback's memory is per API client. */
  const harness = () => {
    const h = new ForwardHarness(cluster.kubeconfigPath);
    harnesses.push(h);
    return h;
  };
  const pinned = (name: string, transport: TransportChoice, remote = 7000) => forwardSpec(name, { kind: 'pod', name: 'spdy-pod' }, [remote], { transport });

  before(async () => {
    cluster = await SimCluster.start();
    cluster.pod('default', 'spdy-pod', { ports: [{ name: 'echo', containerPort: 7000 }, { name: 'src', containerPort: 9100 }], annotations: { [BACKENDS_ANNOTATION]: '9100=source' } });
    await cluster.waitFor(() => cluster.readyPods('default').length === 1, 10_000, 'pod ready');
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    for (const h of harnesses) await h.stop();
    await cluster.stop();
  });

  test('auto picks SPDY; 200 concurrent connections share one session and each gets its own bytes', async () => {
    const before = cluster.spdy().accepted.upgrade;
    const s = await harness().start(pinned('many', 'auto'));
    await waitForState(s, 'ready');
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => echo(localPort(s), `connection ${i} `.repeat(20))));
    results.forEach((r, i) => assert.equal(r, `connection ${i} `.repeat(20)));
    assert.equal(s.core.status().transport, 'spdy');
    assert.equal(cluster.spdy().accepted.upgrade - before, 1, 'one SPDY upgrade for 200 connections');
    assert.equal(s.core.status().counters.connectionsTotal, 200);
  });

  test('half-close: the client shuts its write side and still reads the whole reply', async () => {
    const s = await harness().start(pinned('half', 'spdy'));
    await waitForState(s, 'ready');
    const payload = randomBytes(3 << 20);
    const reply = await sendThenShutWrite(localPort(s), payload);
    assert.equal(reply.length, payload.length);
    assert.ok(reply.equals(payload), 'the echoed bytes match');
  });

  test('50 MB over one SPDY stream arrives intact both ways', async () => {
    const s = await harness().start(pinned('big', 'spdy'));
    await waitForState(s, 'ready');
    const { sent, received } = await echoChecksum(localPort(s), randomBytes(50 << 20));
    assert.equal(received, sent);
  });

  test('a connection whose reader stalls does not hold up a new connection to the same pod', async () => {
    const s = await harness().start(pinned('stall', 'spdy', 9100));
    await waitForState(s, 'ready');
    const stuck = await open(localPort(s));
    sockets.push(stuck);
    stuck.pause(); // never reads: the source backend fills every buffer on the way
    // Held only once the pod stream buffers more than STREAM_BUFFER_MAX; the local socket, paused at
    // SOCKET_HIGH_WATER, holds at least that much more by then (less, and the session may not be held yet).
    await waitUntil(() => s.bufferedBytes() > STREAM_BUFFER_MAX + SOCKET_HIGH_WATER, 'the stalled connection to fill kport’s buffers', 10_000);
    await download(localPort(s), 20 << 20);
    assert.ok(cluster.spdy('default', 'spdy-pod').connections >= 2, 'the new connection went to another session');
    stuck.destroy();
  });

  test('SPDY refused by something in the path: falls back to SPDY in a WebSocket, and to v4 when that is refused too', async () => {
    cluster.faults.refuseSpdy = true;
    try {
      const tunnel = await harness().start(pinned('tunnel', 'auto'));
      await waitForState(tunnel, 'ready');
      assert.equal(await echo(localPort(tunnel), 'through the tunnel'), 'through the tunnel');
      assert.equal(tunnel.core.status().transport, 'spdy-websocket');
      cluster.faults.refuseTunnel = true;
      const v4 = await harness().start(pinned('v4', 'auto'));
      await waitForState(v4, 'ready');
      assert.equal(await echo(localPort(v4), 'one websocket'), 'one websocket');
      assert.equal(v4.core.status().transport, 'websocket');
    } finally {
      cluster.faults.refuseSpdy = false;
      cluster.faults.refuseTunnel = false;
    }
  });

  test('RBAC refusing create on pods/portforward (SPDY is a POST) still forwards over a GET', async () => {
    const rule = { verb: 'create', subresource: 'portforward' };
    cluster.faults.forbid.push(rule);
    try {
      const s = await harness().start(pinned('rbac', 'auto'));
      await waitForState(s, 'ready');
      assert.equal(await echo(localPort(s), 'get is allowed'), 'get is allowed');
      assert.equal(s.core.status().transport, 'spdy-websocket');
    } finally {
      cluster.faults.forbid.splice(cluster.faults.forbid.indexOf(rule), 1);
    }
  });

  test('a session whose pings go unanswered is replaced, and the next connection is served', async () => {
    // A pod of its own: the counts below are per pod, and other tests' sessions ping on their own clock.
    cluster.pod('default', 'ping-pod', { ports: [{ name: 'echo', containerPort: 7000 }] });
    await cluster.waitFor(() => cluster.readyPods('default').some((p) => p.metadata.name === 'ping-pod'), 10_000, 'ping-pod ready');
    const spec = forwardSpec('pings', { kind: 'pod', name: 'ping-pod' }, [7000], { transport: 'spdy' });
    const s = await harness().start(spec, { dialerOptions: { session: { pingIntervalMs: 100, pingTimeoutMs: 200 } } });
    await waitForState(s, 'ready');
    assert.equal(await echo(localPort(s), 'first'), 'first');
    const accepted = cluster.spdy().accepted.upgrade;
    cluster.faults.swallowPings = true;
    try {
      await waitUntil(() => cluster.spdy('default', 'ping-pod').connections === 0, 'kport to drop the silent session', 10_000);
      assert.equal(await echo(localPort(s), 'second'), 'second');
      assert.ok(cluster.spdy().accepted.upgrade > accepted, 'a new session served the next connection');
    } finally {
      cluster.faults.swallowPings = false;
    }
  });
});

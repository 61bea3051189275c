/**
 * Traffic through a real kportd's gateway: bytes intact, round-robin, a pod replaced under it, 200 connections over
 * 5 namespaces at once, and a namespace's watches stopped once it went unused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RpcClient } from '../../client/rpc.js';
import type { SimCluster } from '../cluster/cluster.js';
import type { KportdHarness } from '../helpers/daemon.js';
import { ECHO_NAMESPACES, echoThrough, gatewayCluster, gatewayDaemon, proxyGet, socksConnect } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

describe('gateway traffic through a real kportd', () => {
  let cluster: SimCluster;
  let k: KportdHarness;
  let rpc: RpcClient;
  let gw: number;

  before(async () => {
    cluster = await gatewayCluster();
    let port: (name: string) => Promise<number>;
    ({ k, rpc, port } = await gatewayDaemon(cluster));
    gw = await port('cluster');
  });
  after(async () => {
    await rpc?.close();
    await k?.cleanup();
    await cluster?.stop();
  });

  test('10 MB through SOCKS5 to the echo backend come back intact', async () => {
    const { reply, socket } = await socksConnect(gw, 'echo.default.svc.cluster.local', 7000);
    assert.equal(reply, 0);
    const { sent, received } = await echoThrough(socket, randomBytes(10 * 1024 * 1024));
    assert.equal(received, sent);
  });

  test("connections to a service go round-robin over its pods", async () => {
    const pods = cluster.readyPods('default', 'app=web').map((p) => p.metadata.name).sort();
    assert.equal(pods.length, 2);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await proxyGet(gw, 'http://web.default/')).body.trim());
    // Consecutive connections alternate, and both pods answer equally often.
    for (let i = 1; i < answers.length; i++) assert.notEqual(answers[i], answers[i - 1], answers.join(' '));
    assert.deepEqual([...new Set(answers)].sort(), pods);
  });

  test('a pod deleted mid-test: its open connection closes, and the next connection is served by its replacement', async () => {
    const [old] = cluster.readyPods('default', 'app=solo');
    const oldName = old!.metadata.name;
    assert.equal((await proxyGet(gw, 'http://solo/')).body, `${oldName}\n`);
    const { reply, socket } = await socksConnect(gw, 'solo', 7000);
    assert.equal(reply, 0);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.resume();
    cluster.deletePod('default', oldName);
    await closed;
    const replacement = await proxyGet(gw, 'http://solo/');
    assert.equal(replacement.status, 200);
    assert.notEqual(replacement.body, `${oldName}\n`);
    assert.match(replacement.body, /^solo-/);
  });

  test('200 concurrent connections across 5 namespaces, each echoing its own bytes', async () => {
    const work = Array.from({ length: 200 }, async (_, i) => {
      const ns = ECHO_NAMESPACES[i % ECHO_NAMESPACES.length]!;
      const { reply, socket } = await socksConnect(gw, `echo.${ns}.svc.cluster.local`, 7000);
      assert.equal(reply, 0, `connection ${i} to ${ns}`);
      return echoThrough(socket, Buffer.from(`${i}:${ns}:${randomBytes(512).toString('hex')}`));
    });
    const results = await Promise.all(work);
    for (const r of results) assert.equal(r.received, r.sent);
    await waitUntil(async () => (await rpc.call('session.get', { name: 'cluster' })).counters.connectionsActive === 0, 'every connection closed and counted');
  });

  test("a namespace's watches start with its first connection and stop once it has gone unused", async () => {
    assert.equal(cluster.watches('quiet'), 0);
    const { reply, socket } = await socksConnect(gw, 'echo.quiet', 7000);
    assert.equal(reply, 0);
    // Pods and services are watched while the connection is open (namespaceIdle is 200 ms for this gateway); the
    // list that answered the connection comes just before each watch opens.
    await waitUntil(() => cluster.watches('quiet', 'pods') === 1 && cluster.watches('quiet', 'services') === 1, 'the pod and service watches of "quiet"');
    const { sent, received } = await echoThrough(socket, Buffer.from('still here'));
    assert.equal(received, sent);
    await waitUntil(() => cluster.watches('quiet') === 0, 'the watches of namespace "quiet" to stop', 10_000);
    // The next connection starts them again.
    const again = await socksConnect(gw, 'echo.quiet', 7000);
    assert.equal(again.reply, 0);
    await waitUntil(() => cluster.watches('quiet', 'pods') === 1, 'the pod watch of "quiet" again');
    again.socket.destroy();
  });
});

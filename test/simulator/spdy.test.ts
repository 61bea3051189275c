/** The simulator's SPDY/3.1 port-forward, frame by frame: what the kubelet's spdystream does, odd parts included. */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { RstStatus, windowUpdate } from '../../daemon/kube/transport/spdy/framer.js';
import { SimCluster } from '../cluster/cluster.js';
import { TUNNEL_PROTOCOL } from '../cluster/spdy-endpoint.js';
import { openPortForward, opened } from '../helpers/portforward.js';
import { openSpdy, upgraded, type SpdyForm, type TestSpdy } from '../helpers/spdy.js';
import { waitUntil } from '../helpers/wait.js';

const ECHO = 7000;
const REFUSED = 9000;
const STALL = 9100;
const POD = 'spdy';

describe('simulated SPDY port-forward', () => {
  let cluster: SimCluster;
  const open: TestSpdy[] = [];
  const connect = async (form: SpdyForm = 'upgrade', pod = POD) => {
    const c = upgraded(await openSpdy(cluster, 'default', pod, { form }));
    open.push(c);
    return c;
  };

  before(async () => {
    cluster = await SimCluster.start();
    cluster.pod('default', POD, { ports: [{ containerPort: ECHO }, { containerPort: REFUSED }], annotations: { 'sim.kport.dev/backends': `${REFUSED}=refuse` } });
    await cluster.waitFor(() => cluster.readyPods('default').length === 1, 10_000, 'pod ready');
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.destroy();
    Object.assign(cluster.faults, { refuseSpdy: false, refuseTunnel: false, swallowPings: false });
    // Each test counts from a clean slate: the server has seen every connection go.
    await waitUntil(() => cluster.spdy().connections === 0, 'every SPDY connection closed');
  });
  after(() => cluster.stop());

  test('answers the upgrade with 101 and the negotiated stream protocol', async () => {
    const c = await connect();
    assert.equal(c.headers.connection, 'Upgrade');
    assert.equal(c.headers.upgrade, 'SPDY/3.1');
    assert.equal(c.headers['x-stream-protocol-version'], 'portforward.k8s.io');
    assert.equal(cluster.spdy('default', POD).connections, 1);
  });

  for (const form of ['upgrade', 'tunnel'] as const) {
    test(`a stream pair echoes bytes (${form})`, async () => {
      const before = cluster.spdy('default', POD).accepted[form];
      const c = await connect(form);
      c.openPair(1, ECHO, '0');
      await c.until(() => c.ofType('syn_reply').length === 2, 'both replies');
      assert.deepEqual(c.ofType('syn_reply').map((f) => f.streamId), [1, 3]);
      c.data(3, 'hello over spdy');
      await c.until(() => c.received(3).toString() === 'hello over spdy', 'the echo');
      assert.equal(cluster.spdy('default', POD).accepted[form], before + 1);
      assert.equal(cluster.spdy('default', POD).streams, 2);
    });
  }

  test('the tunnel names its subprotocol in the handshake', async () => {
    const c = await connect('tunnel');
    assert.equal(c.headers['sec-websocket-protocol'], TUNNEL_PROTOCOL);
  });

  test("half-close: the client's FIN still gets the whole reply, then both streams end", async () => {
    const c = await connect();
    c.openPair(1, ECHO, 'a');
    c.data(3, 'last words', true);
    await c.until(() => c.finished(3) && c.finished(1), 'FIN on data and error streams');
    assert.equal(c.received(3).toString(), 'last words');
    assert.equal(c.received(1).length, 0);
    await waitUntil(() => cluster.spdy('default', POD).streams === 0, 'no open streams');
  });

  test('a refused port writes the kubelet error text, then ends both streams', async () => {
    const c = await connect();
    c.openPair(1, REFUSED, '0');
    await c.until(() => c.finished(1) && c.finished(3), 'both streams ended');
    const uid = cluster.get('pods', 'default', POD)!.metadata.uid;
    assert.match(c.received(1).toString(), new RegExp(`^error forwarding port ${REFUSED} to pod ${POD}, uid ${uid}: .*connection refused$`));
    // The connection outlives the failed pair.
    c.openPair(5, ECHO, '1');
    c.data(7, 'still here');
    await c.until(() => c.received(7).toString() === 'still here', 'the next pair');
  });

  test('streams with a missing or invalid port or streamtype are reset; ids must increase', async () => {
    const c = await connect();
    c.open(1, { streamtype: 'data', requestid: '0' });
    c.open(3, { port: String(ECHO), requestid: '0' });
    c.open(5, { streamtype: 'stdin', port: String(ECHO), requestid: '0' });
    c.open(7, { streamtype: 'data', port: '70000', requestid: '0' });
    c.open(9, { streamtype: 'data', port: '0', requestid: '0' });
    c.open(11, { streamtype: 'error', port: String(ECHO), requestid: '1' });
    c.open(3, { streamtype: 'data', port: String(ECHO), requestid: '1' });
    await c.until(() => c.ofType('rst_stream').length === 6 && c.ofType('syn_reply').length === 1, 'five refusals, one id error, one reply');
    assert.deepEqual(c.ofType('rst_stream').map((f) => [f.streamId, f.status]), [
      [1, RstStatus.CANCEL],
      [3, RstStatus.CANCEL],
      [5, RstStatus.CANCEL],
      [7, RstStatus.CANCEL],
      [9, RstStatus.CANCEL],
      [3, RstStatus.PROTOCOL_ERROR],
    ]);
    assert.deepEqual(c.ofType('syn_reply').map((f) => f.streamId), [11]);
  });

  test('PINGs are echoed; with swallowPings they vanish and everything else still works', async () => {
    const c = await connect();
    c.ping(1);
    await c.until(() => c.ofType('ping').length === 1, 'the pong');
    assert.equal(c.ofType('ping')[0]!.id, 1);
    cluster.faults.swallowPings = true;
    c.ping(3);
    c.openPair(1, ECHO, '0');
    c.data(3, 'after the ping');
    // Frames are served in order: by the time the echo is back, an answer to the PING would be too.
    await c.until(() => c.received(3).toString() === 'after the ping', 'the echo');
    assert.deepEqual(c.ofType('ping').map((f) => f.id), [1]);
  });

  test('no WINDOW_UPDATE is ever sent, and received ones change nothing', async () => {
    const c = await connect();
    c.openPair(1, ECHO, '0');
    c.send(windowUpdate(3, 1));
    // Far past SPDY's 64 KiB initial window, with no WINDOW_UPDATE from this side.
    const block = Buffer.alloc(256 * 1024, 0x61);
    for (let i = 0; i < 4; i++) c.data(3, block);
    await c.until(() => c.received(3).length === 4 * block.length, '1 MiB echoed', 20_000);
    assert.equal(c.ofType('window_update').length, 0);
  });

  test('a backend that stops reading stalls its whole connection; another connection to the pod still flows', async () => {
    // Its own pod: a stalled connection reads nothing, so it notices no close either; deleting the pod ends it.
    cluster.pod('default', 'wedged', { ports: [{ containerPort: ECHO }, { containerPort: STALL }], annotations: { 'sim.kport.dev/backends': `${STALL}=stall` } });
    await cluster.waitFor(() => cluster.readyPods('default').some((p) => p.metadata.name === 'wedged'), 10_000, 'wedged ready');
    const c = await connect('upgrade', 'wedged');
    c.openPair(1, STALL, '0');
    await c.until(() => c.ofType('syn_reply').length === 2, 'replies');
    // More than the kernel buffers between the simulator and a wedged backend can hold.
    const block = Buffer.alloc(1 << 20);
    for (let i = 0; i < 16; i++) c.data(3, block);
    await waitUntil(() => cluster.spdy('default', 'wedged').stalled === 1, 'the connection stalled');
    const other = await connect('upgrade', 'wedged');
    other.openPair(1, ECHO, '0');
    other.data(3, 'unaffected');
    await other.until(() => other.received(3).toString() === 'unaffected', 'the echo on the other connection');
    assert.equal(cluster.spdy('default', 'wedged').stalled, 1);
    cluster.deletePod('default', 'wedged');
    await Promise.all([c.closed, other.closed]);
  });

  test('RST_STREAM from the client ends that forward only', async () => {
    const c = await connect();
    c.openPair(1, ECHO, '0');
    c.openPair(5, ECHO, '1');
    c.data(3, 'one');
    await c.until(() => c.received(3).toString() === 'one', 'first echo');
    c.reset(3, RstStatus.CANCEL);
    await c.until(() => c.finished(1), 'the error stream of the reset pair ends');
    c.data(7, 'two');
    await c.until(() => c.received(7).toString() === 'two', 'the other pair still echoes');
  });

  test("GOAWAY from the client: open streams finish, then the connection closes", async () => {
    const c = await connect();
    c.openPair(1, ECHO, '0');
    c.data(3, 'before goaway');
    await c.until(() => c.received(3).length > 0, 'the echo');
    c.goAway();
    await c.closed;
    assert.ok(c.finished(3), 'the data stream was finished before the close');
    await waitUntil(() => cluster.spdy('default', POD).connections === 0, 'connection gone');
  });

  test('a frame that breaks the protocol ends its connection, not the server', async () => {
    const c = await connect();
    // A control frame claiming SPDY version 2.
    c.send(Buffer.from([0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]));
    await c.closed;
    const next = await connect();
    next.ping(1);
    await next.until(() => next.ofType('ping').length === 1, 'a pong on a new connection');
  });

  test('dropStreams cuts SPDY connections without a GOAWAY', async () => {
    const c = await connect();
    const t = await connect('tunnel');
    c.openPair(1, ECHO, '0');
    await c.until(() => c.ofType('syn_reply').length === 2, 'replies');
    assert.ok(cluster.dropStreams() >= 2);
    await Promise.all([c.closed, t.closed]);
    assert.equal(c.ofType('goaway').length + t.ofType('goaway').length, 0);
    await waitUntil(() => cluster.spdy().connections === 0, 'the server forgot the connections');
  });

  test('restartApi cuts SPDY connections', async () => {
    const c = await connect();
    await cluster.restartApi();
    await c.closed;
    await waitUntil(() => cluster.spdy().connections === 0, 'the server forgot the connection');
  });

  test('a deleted pod resets its streams, sends GOAWAY and closes the connection', async () => {
    cluster.pod('default', 'doomed', { ports: [{ containerPort: ECHO }] });
    await cluster.waitFor(() => cluster.readyPods('default').some((p) => p.metadata.name === 'doomed'), 10_000, 'doomed ready');
    const c = await connect('upgrade', 'doomed');
    c.openPair(1, ECHO, '0');
    await c.until(() => c.ofType('syn_reply').length === 2, 'replies');
    cluster.deletePod('default', 'doomed');
    await c.closed;
    assert.deepEqual(c.ofType('rst_stream').map((f) => f.streamId).sort(), [1, 3]);
    assert.equal(c.ofType('goaway').length, 1);
    await waitUntil(() => cluster.spdy('default', 'doomed').connections === 0, 'the server forgot the connection');
  });

  test('refuseSpdy answers as the API server answers a POST without its upgrade; WebSockets still pass', async () => {
    cluster.faults.refuseSpdy = true;
    const r = await openSpdy(cluster, 'default', POD);
    assert.ok('status' in r);
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).message, 'Upgrade request required');
    await connect('tunnel');
    const v4 = opened(await openPortForward(cluster, 'default', POD, [ECHO]));
    v4.ws.terminate();
  });

  test('refuseTunnel answers the tunnel with 403 and an empty body; the plain upgrade still passes', async () => {
    cluster.faults.refuseTunnel = true;
    const r = await openSpdy(cluster, 'default', POD, { form: 'tunnel' });
    assert.ok('status' in r);
    assert.deepEqual([r.status, r.body], [403, '']);
    await connect('upgrade');
  });

  test('RBAC: a create rule refuses the SPDY POST; the tunnel (a GET) still upgrades', async () => {
    const rule = { verb: 'create', subresource: 'portforward' };
    cluster.faults.forbid.push(rule);
    try {
      const r = await openSpdy(cluster, 'default', POD);
      assert.ok('status' in r);
      assert.equal(r.status, 403);
      assert.match(JSON.parse(r.body).message, /cannot create resource "pods\/portforward"/);
      await connect('tunnel');
    } finally {
      cluster.faults.forbid.splice(cluster.faults.forbid.indexOf(rule), 1);
    }
  });

  test('errors before the upgrade come as Status bodies: 401, 404', async () => {
    const noToken = await openSpdy(cluster, 'default', POD, { token: null });
    assert.ok('status' in noToken);
    assert.equal(noToken.status, 401);
    const missing = await openSpdy(cluster, 'default', 'nope');
    assert.ok('status' in missing);
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).message, 'pods "nope" not found');
  });
});

describe("simulated SPDY port-forward: the kubelet's streamCreationTimeout", () => {
  let cluster: SimCluster;
  before(async () => {
    cluster = await SimCluster.start({ streamCreationTimeoutMs: 200 });
    cluster.pod('default', POD, { ports: [{ containerPort: ECHO }] });
    await cluster.waitFor(() => cluster.readyPods('default').length === 1, 10_000, 'pod ready');
  });
  after(() => cluster.stop());

  test('a request whose data stream never comes is told so on its error stream; the same request id then makes a new pair', async () => {
    const c = upgraded(await openSpdy(cluster, 'default', POD));
    try {
      c.open(1, { streamtype: 'error', port: String(ECHO), requestid: '7' });
      await c.until(() => c.received(1).length > 0, 'the error stream to say why');
      assert.match(c.received(1).toString(), /^\(conn=&\{.+\}, request=7\) timed out waiting for streams$/);
      // The pair is forgotten: the same request id starts a new one, which is served once complete.
      c.openPair(3, ECHO, '7');
      c.data(5, 'after the timeout');
      await c.until(() => c.received(5).toString() === 'after the timeout', 'the echo');
    } finally {
      c.destroy();
    }
  });
});

describe('simulated SPDY port-forward as Kubernetes 1.20', () => {
  let cluster: SimCluster;
  before(async () => {
    cluster = await SimCluster.start({ legacy: true });
    cluster.pod('default', POD, { ports: [{ containerPort: ECHO }] });
    await cluster.waitFor(() => cluster.readyPods('default').length === 1, 10_000, 'pod ready');
  });
  after(() => cluster.stop());

  test('no tunnel (403, empty body), but the plain SPDY upgrade echoes', async () => {
    const r = await openSpdy(cluster, 'default', POD, { form: 'tunnel' });
    assert.ok('status' in r);
    assert.deepEqual([r.status, r.body], [403, '']);
    const c = upgraded(await openSpdy(cluster, 'default', POD));
    try {
      c.openPair(1, ECHO, '0');
      c.data(3, 'old but fine');
      await c.until(() => c.received(3).toString() === 'old but fine', 'the echo');
    } finally {
      c.destroy();
    }
  });
});

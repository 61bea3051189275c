/** A bare port-forward WebSocket client for tests that talk to the simulator directly. */
import { WebSocket } from 'ws';
import { CHANNEL_PROTOCOL, ChannelReader, dataChannel, encodeFrame } from '../../daemon/kube/transport/websocket/channel.js';
import type { SimCluster } from '../cluster/cluster.js';

/** One open (or failed) port-forward connection and what arrived on it. */
export interface TestPortForward {
  ws: WebSocket;
  /** Bytes received per port index. */
  data: Buffer[];
  /** Error-channel text per port index. */
  errors: string[];
  /** Sends bytes on the data channel of port `index`. */
  send(index: number, bytes: Buffer | string): void;
  /** Resolves with the close code. */
  closed: Promise<number>;
  /** Resolves when `check()` is true after some message, or rejects on close/timeout. */
  until(check: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/** Upgrade failures: the HTTP status and Status body the server answered with. */
export interface UpgradeFailure {
  status: number;
  body: string;
}

/** Opens `pods/POD/portforward?ports=…`; resolves once upgraded, or with the HTTP failure. */
export function openPortForward(
  cluster: SimCluster,
  ns: string,
  pod: string,
  ports: number[],
  opts: { token?: string | null } = {},
): Promise<TestPortForward | UpgradeFailure> {
  const query = ports.map((p) => `ports=${p}`).join('&');
  const token = opts.token === undefined ? cluster.tokens.admin : opts.token;
  const ws = new WebSocket(`wss://127.0.0.1:${cluster.port}/api/v1/namespaces/${ns}/pods/${pod}/portforward?${query}`, [CHANNEL_PROTOCOL], {
    ca: cluster.pki.caCert,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  });
  const reader = new ChannelReader(ports);
  const data = ports.map(() => Buffer.alloc(0));
  const errors = ports.map(() => '');
  const waiters = new Set<() => void>();
  ws.on('message', (msg: Buffer) => {
    const m = reader.read(msg);
    if (m?.kind === 'data') data[m.index] = Buffer.concat([data[m.index]!, m.payload]);
    if (m?.kind === 'error') errors[m.index] += m.payload.toString();
    waiters.forEach((w) => w());
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => (resolve(code), waiters.forEach((w) => w()))));
  const conn: TestPortForward = {
    ws,
    data,
    errors,
    closed,
    send: (index, bytes) => ws.send(encodeFrame(dataChannel(index), Buffer.from(bytes))),
    until: (check, what, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => (waiters.delete(test), reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
        const test = () => {
          if (check()) (clearTimeout(timer), waiters.delete(test), resolve());
          else if (ws.readyState === WebSocket.CLOSED) (clearTimeout(timer), waiters.delete(test), reject(new Error(`stream closed before ${what}`)));
        };
        waiters.add(test);
        test();
      }),
  };
  return new Promise((resolve) => {
    ws.once('open', () => resolve(conn));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', () => {});
  });
}

/** Narrows the result of openPortForward, failing the test with the server's answer otherwise. */
export function opened(r: TestPortForward | UpgradeFailure): TestPortForward {
  if ('status' in r) throw new Error(`port-forward upgrade failed: ${r.status} ${r.body}`);
  return r;
}

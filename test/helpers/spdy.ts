/**
 * A raw SPDY/3.1 port-forward client for tests that talk to the simulator frame by frame: opens the
 * upgrade (plain, or tunnelled in a WebSocket) with the cluster's CA and a token, sends frames, and
 * collects every decoded frame. A test tool, not a session: it keeps no stream state of its own.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocket } from 'ws';
import { dataHeader, FrameReader, goAway, GoAwayStatus, ping, rstStream, synStream, type Frame } from '../../daemon/kube/transport/spdy/framer.js';
import { HeaderDecoder, HeaderEncoder, type Headers } from '../../daemon/kube/transport/spdy/headers.js';
import type { SimCluster } from '../cluster/cluster.js';
import { TUNNEL_PROTOCOL } from '../cluster/spdy-endpoint.js';

/** How to reach the SPDY connection. */
export type SpdyForm = 'upgrade' | 'tunnel';

/** An upgrade the server refused: its status, headers and body. */
export interface SpdyRefusal {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An open SPDY connection and everything the server sent on it. */
export interface TestSpdy {
  /** The 101's headers (for a tunnel, the WebSocket handshake's). */
  headers: IncomingHttpHeaders;
  /** Every frame received, DATA in the pieces it arrived in. */
  frames: Frame[];
  /** Sends raw bytes (frames built by hand). */
  send(bytes: Buffer): void;
  /** SYN_STREAM with these headers. */
  open(streamId: number, headers: Headers, fin?: boolean): void;
  /** An error stream (FIN at once, as kubectl sends it) and a data stream for `port`, ids `first` and `first + 2`. */
  openPair(first: number, port: number, requestId: string): void;
  /** One DATA frame. */
  data(streamId: number, bytes: Buffer | string, fin?: boolean): void;
  reset(streamId: number, status: number): void;
  ping(id: number): void;
  goAway(): void;
  /** Every DATA byte received on a stream. */
  received(streamId: number): Buffer;
  /** True once the server sent FIN on a stream (DATA or SYN_REPLY). */
  finished(streamId: number): boolean;
  /** Frames of one type. */
  ofType<T extends Frame['type']>(type: T): Extract<Frame, { type: T }>[];
  /** Resolves once `check()` holds after some frame; rejects on close or after `timeoutMs`. */
  until(check: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the byte stream has ended (the server closed or cut it). */
  closed: Promise<void>;
  /** Cuts the connection. */
  destroy(): void;
}

/** Options for openSpdy. */
export interface SpdyOptions {
  form?: SpdyForm;
  /** Bearer token; null sends none. Default: the admin token. */
  token?: string | null;
  /** Extra request headers (they override the defaults). */
  headers?: Record<string, string>;
}

/** Opens `pods/POD/portforward` as SPDY; resolves once upgraded, or with the server's refusal. */
export async function openSpdy(cluster: SimCluster, ns: string, pod: string, opts: SpdyOptions = {}): Promise<TestSpdy | SpdyRefusal> {
  const path = `/api/v1/namespaces/${ns}/pods/${pod}/portforward`;
  const token = opts.token === undefined ? cluster.tokens.admin : opts.token;
  const auth: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  const opened = opts.form === 'tunnel' ? await tunnel(cluster, path, { ...auth, ...opts.headers }) : await upgrade(cluster, path, { ...auth, ...opts.headers });
  return 'socket' in opened ? wrap(opened.socket, opened.head, opened.headers) : opened;
}

/** Narrows the result of openSpdy, failing the test with the server's answer otherwise. */
export function upgraded(r: TestSpdy | SpdyRefusal): TestSpdy {
  if ('status' in r) throw new Error(`SPDY upgrade failed: ${r.status} ${r.body}`);
  return r;
}

type Opened = { socket: Duplex; head: Buffer; headers: IncomingHttpHeaders } | SpdyRefusal;

function upgrade(cluster: SimCluster, path: string, headers: Record<string, string>): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: cluster.port,
      path,
      method: 'POST',
      ca: cluster.pki.caCert,
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io', ...headers },
    });
    req.on('upgrade', (res, socket, head) => resolve({ socket, head, headers: res.headers }));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function tunnel(cluster: SimCluster, path: string, headers: Record<string, string>): Promise<Opened> {
  // `ws` will not offer a subprotocol with '/' in it, nor accept one it did not offer: the offer
  // goes in as a plain header and the answer is taken out of its sight (after keeping it).
  const ws = new WebSocket(`wss://127.0.0.1:${cluster.port}${path}`, {
    ca: cluster.pki.caCert,
    perMessageDeflate: false,
    headers: { 'sec-websocket-protocol': TUNNEL_PROTOCOL, ...headers },
  });
  return new Promise((resolve) => {
    let answer: IncomingHttpHeaders = {};
    ws.once('upgrade', (res) => {
      answer = { ...res.headers };
      delete res.headers['sec-websocket-protocol'];
    });
    ws.once('open', () => resolve({ socket: createWebSocketStream(ws), head: Buffer.alloc(0), headers: answer }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.once('error', () => {});
  });
}

function wrap(socket: Duplex, head: Buffer, headers: IncomingHttpHeaders): TestSpdy {
  const reader = new FrameReader(new HeaderDecoder());
  const encoder = new HeaderEncoder();
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  const closed = new Promise<void>((resolve) => {
    const done = () => {
      ended = true;
      resolve();
      waiters.forEach((w) => w());
    };
    socket.once('end', done);
    socket.once('close', done);
  });
  const onBytes = (chunk: Buffer) => {
    reader.push(chunk);
    for (let f = reader.next(); f; f = reader.next()) frames.push(f);
    waiters.forEach((w) => w());
  };
  socket.on('data', onBytes);
  socket.on('error', () => socket.destroy());
  onBytes(head);
  const write = (bytes: Buffer) => void (socket.writable && socket.write(bytes));
  const conn: TestSpdy = {
    headers,
    frames,
    closed,
    send: write,
    open: (id, h, fin = false) => write(synStream(id, encoder.encode(h), { fin })),
    openPair: (first, port, requestId) => {
      conn.open(first, { streamtype: 'error', port: String(port), requestid: requestId }, true);
      conn.open(first + 2, { streamtype: 'data', port: String(port), requestid: requestId });
    },
    data: (id, bytes, fin = false) => {
      const payload = Buffer.from(bytes);
      write(Buffer.concat([dataHeader(id, payload.length, fin), payload]));
    },
    reset: (id, status) => write(rstStream(id, status)),
    ping: (id) => write(ping(id)),
    goAway: () => write(goAway(0, GoAwayStatus.OK)),
    received: (id) => Buffer.concat(frames.flatMap((f) => (f.type === 'data' && f.streamId === id ? [f.data] : []))),
    finished: (id) => frames.some((f) => (f.type === 'data' || f.type === 'syn_reply') && f.streamId === id && f.fin),
    ofType: <T extends Frame['type']>(type: T) => frames.filter((f): f is Extract<Frame, { type: T }> => f.type === type),
    until: (check, what, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => (waiters.delete(test), reject(new Error(`timed out waiting for ${what}; frames: ${describe(frames)}`))), timeoutMs);
        const test = () => {
          if (check()) (clearTimeout(timer), waiters.delete(test), resolve());
          else if (ended) (clearTimeout(timer), waiters.delete(test), reject(new Error(`connection closed before ${what}; frames: ${describe(frames)}`)));
        };
        waiters.add(test);
        test();
      }),
    destroy: () => socket.destroy(),
  };
  return conn;
}

/** A short account of frames for failure messages. */
function describe(frames: Frame[]): string {
  return frames.map((f) => ('streamId' in f ? `${f.type}(${f.streamId}${'fin' in f && f.fin ? ',fin' : ''})` : f.type)).join(' ') || 'none';
}

/**
 * Talking to a gateway as its users do: curl (when installed) and a small SOCKS5 and HTTP-proxy client of our own,
 * which also reads the exact reply codes and statuses a refusal carries. And the simulated world the gateway tests share.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import type { RpcClient } from '../../client/rpc.js';
import type { SessionStatus } from '../../daemon/api/session.js';
import { SimCluster } from '../cluster/cluster.js';
import { KportdHarness } from './daemon.js';
import { open, TEST_TRANSPORT } from './forward.js';

/** curl, when this machine has it ($CURL, else /usr/bin/curl); null means the curl tests skip. */
export const CURL: string | null = [process.env.CURL, '/usr/bin/curl'].find((p): p is string => p !== undefined && existsSync(p)) ?? null;
/** `{ skip: reason }` for node:test when curl is missing (the tests' own client makes the same requests), else `{}`. */
export function curlOrSkip(): { skip?: string } {
  return CURL ? {} : { skip: "curl not found (set $CURL or install it at /usr/bin/curl); the tests' own SOCKS5/HTTP client covers the same requests" };
}

/** The environment curl runs in: no proxy variables of the machine running the tests. */
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_proxy$/i.test(k)));

/** What a curl run printed. */
export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs curl with `args` (silent, errors shown, 20 s at most); `env` adds variables. */
export function curl(args: string[], env: Record<string, string> = {}): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(CURL!, ['-sS', '--max-time', '20', ...args], { env: { ...cleanEnv(), ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Reads from `socket` until `n` bytes have come (the rest is put back), or rejects once it closes. */
function readBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < n) return;
      cleanup();
      socket.pause();
      if (got.length > n) socket.unshift(got.subarray(n));
      resolve(got.subarray(0, n));
    };
    const onClose = () => (cleanup(), reject(new Error(`closed after ${got.length} of ${n} bytes: ${JSON.stringify([...got])}`)));
    const cleanup = () => (socket.off('data', onData), socket.off('close', onClose));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

/** The SOCKS5 CONNECT request for `host` (a name, or an IPv4 literal) and `port`. */
export function socksRequest(host: string, port: number): Buffer {
  const v4 = /^\d+\.\d+\.\d+\.\d+$/.test(host);
  const address = v4 ? Buffer.from([1, ...host.split('.').map(Number)]) : Buffer.concat([Buffer.from([3, host.length]), Buffer.from(host, 'latin1')]);
  return Buffer.concat([Buffer.from([5, 1, 0]), address, Buffer.from([port >> 8, port & 255])]);
}

/** A SOCKS5 CONNECT through the gateway on `gateway`: the reply code, and the socket (open when it is 0). */
export async function socksConnect(gateway: number, host: string, port: number): Promise<{ reply: number; socket: Socket }> {
  const socket = await open(gateway);
  socket.write(Buffer.from([5, 1, 0]));
  const method = await readBytes(socket, 2);
  if (method[1] !== 0) throw new Error(`the gateway chose method ${method[1]}`);
  socket.write(socksRequest(host, port));
  const reply = await readBytes(socket, 10);
  return { reply: reply[1]!, socket };
}

/** Sends `bytes` on a new connection and resolves with everything the gateway sent before closing it. */
export async function exchangeRaw(gateway: number, bytes: Buffer, endAfter = false): Promise<Buffer> {
  const socket = await open(gateway);
  const chunks: Buffer[] = [];
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  socket.write(bytes);
  if (endAfter) socket.end();
  await closed;
  return Buffer.concat(chunks);
}

/** An HTTP GET of `url` through the gateway as an HTTP proxy (absolute form): status and body. */
export function proxyGet(gateway: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gateway, path: url, agent: false, headers: { host: new URL(url).host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP GET of `/` on `authority` through a CONNECT tunnel: the tunnel's status, and the body when it opened. */
export function connectGet(gateway: number, authority: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gateway, method: 'CONNECT', path: authority, agent: false });
    req.on('connect', (res, socket, head: Buffer) => {
      if (res.statusCode !== 200) {
        // Node parses no body for an answer to CONNECT: what followed the head is in `head` and on the socket.
        let body = head.toString();
        socket.on('data', (c: Buffer) => (body += c.toString()));
        socket.on('close', () => resolve({ status: res.statusCode ?? 0, body }));
        socket.resume();
        return;
      }
      let text = head.toString();
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve({ status: 200, body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
      socket.on('error', reject);
      socket.write(`GET / HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends `payload` on an open (SOCKS-connected) socket to an echo backend; resolves with both checksums. */
export function echoThrough(socket: Socket, payload: Buffer): Promise<{ sent: string; received: string }> {
  const hash = createHash('sha256');
  let got = 0;
  return new Promise((resolve, reject) => {
    socket.on('data', (c: Buffer) => {
      hash.update(c);
      got += c.length;
      if (got < payload.length) return;
      socket.destroy();
      resolve({ sent: createHash('sha256').update(payload).digest('hex'), received: hash.digest('hex') });
    });
    socket.on('close', () => got < payload.length && reject(new Error(`closed after ${got} of ${payload.length} bytes`)));
    socket.resume();
    socket.write(payload);
  });
}

/** Namespaces of the concurrency test, each with an echo service. */
export const ECHO_NAMESPACES = ['ns1', 'ns2', 'ns3', 'ns4', 'ns5'];

/**
 * The world of the gateway tests, in `default`: deployment+service web (HTTP, 2 pods, port 80 → targetPort "http"),
 * solo (1 pod: HTTP on 80 → 8080, echo on 7000), echo (echo on 7000), a StatefulSet `store` (HTTP on 8080) with
 * its headless service, and `idle` (a selector no pod has); an echo service in each of ECHO_NAMESPACES and in `quiet`.
 */
export async function gatewayCluster(): Promise<SimCluster> {
  const cluster = await SimCluster.start();
  const http = { name: 'http', containerPort: 8080 };
  cluster.deployment('default', 'web', { replicas: 2, labels: { app: 'web' }, ports: [http] });
  cluster.service('default', 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
  cluster.deployment('default', 'solo', { replicas: 1, labels: { app: 'solo' }, ports: [http, { containerPort: 7000 }] });
  cluster.service('default', 'solo', { selector: { app: 'solo' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'echo', port: 7000 }] });
  cluster.deployment('default', 'echo', { replicas: 1, labels: { app: 'echo' }, ports: [{ containerPort: 7000 }] });
  cluster.service('default', 'echo', { selector: { app: 'echo' }, ports: [{ port: 7000 }] });
  cluster.statefulset('default', 'store', { replicas: 1, labels: { app: 'store' }, ports: [http] });
  cluster.service('default', 'store', { selector: { app: 'store' }, clusterIP: 'None', ports: [{ name: 'http', port: 8080 }] });
  cluster.service('default', 'idle', { selector: { app: 'nobody' }, ports: [{ port: 80 }] });
  for (const ns of [...ECHO_NAMESPACES, 'quiet']) {
    cluster.namespace(ns);
    cluster.deployment(ns, 'echo', { replicas: 1, labels: { app: 'echo' }, ports: [{ containerPort: 7000 }] });
    cluster.service(ns, 'echo', { selector: { app: 'echo' }, ports: [{ port: 7000 }] });
  }
  await cluster.waitFor(() => cluster.readyPods('default').length === 5 && [...ECHO_NAMESPACES, 'quiet'].every((ns) => cluster.readyPods(ns).length === 1), 15_000, 'the world ready');
  return cluster;
}

/**
 * kport.yaml's gateways: `cluster` (every namespace; namespaces unused for 200 ms are let go), `limited` (only
 * `default`) and `quick` (a connection waits 300 ms at most). All on any free port.
 */
export const GATEWAYS_YAML = [
  'gateways:',
  '  - { name: cluster, port: 0, connectTimeout: 20s, namespaceIdle: 200ms }',
  '  - { name: limited, port: 0, namespaces: [default] }',
  '  - { name: quick, port: 0, connectTimeout: 300ms }',
  '',
].join('\n');

/** A kportd with GATEWAYS_YAML against `cluster` (gateways on TEST_TRANSPORT), every gateway ready. */
export async function gatewayDaemon(cluster: SimCluster): Promise<{ k: KportdHarness; rpc: RpcClient; port(name: string): Promise<number>; session(name: string): Promise<SessionStatus> }> {
  const k = new KportdHarness();
  k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\ndefaults: { transport: ${TEST_TRANSPORT} }\n${GATEWAYS_YAML}`);
  await k.start();
  const rpc = await k.rpc();
  for (const name of ['cluster', 'limited', 'quick']) await rpc.call('session.wait', { name, timeoutMs: 10_000 });
  const session = (name: string) => rpc.call('session.get', { name });
  return { k, rpc, session, port: async (name) => (await session(name)).listeners[0]!.port };
}

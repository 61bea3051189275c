/** Running ForwardSessions in-process against a simulated cluster, and talking through them. */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ForwardSpec, PortMapping, Target, TransportChoice } from '../../config/types.js';
import type { SessionState } from '../../daemon/api/session.js';
import { ForwardSession, type ForwardDeps } from '../../daemon/forward/session.js';
import { NamespaceCaches } from '../../daemon/kube/caches.js';
import { KubeClients } from '../../daemon/kube/clients.js';
import type { SimCluster } from '../cluster/cluster.js';
import { silentLogger } from './log.js';
import { forwardSpec as baseForwardSpec } from './specs.js';

/**
 * The transport the forward tests run over: `npm test` runs them once as `auto` (SPDY against the
 * simulator) and once more with KPORT_TEST_TRANSPORT=websocket (the v4 fallback).
 */
export const TEST_TRANSPORT: TransportChoice = (process.env.KPORT_TEST_TRANSPORT as TransportChoice | undefined) ?? 'auto';

/** A forward spec with test defaults: any free local port, loopback, round-robin, 5 s connect timeout, TEST_TRANSPORT. */
export function forwardSpec(name: string, target: Target, remotes: (number | string)[], extra: Partial<ForwardSpec> = {}): ForwardSpec {
  const ports: PortMapping[] = remotes.map((remote) => ({ local: 0, remote, spec: `:${remote}` }));
  return baseForwardSpec(name, { context: 'sim', target, ports, connectTimeoutMs: 5_000, transport: TEST_TRANSPORT, ...extra });
}

/** Shared services for a group of sessions (one client and cache per context/namespace, as the daemon has). */
export class ForwardHarness {
  readonly clients = new KubeClients();
  readonly caches: NamespaceCaches;
  private readonly sessions: ForwardSession[] = [];

  constructor(
    private readonly kubeconfig: string,
    readonly log: Logger = silentLogger(),
  ) {
    this.caches = new NamespaceCaches(log);
  }

  /** Starts a session; `extra` overrides deps (dialer, slowRetryMs, kubeconfig). */
  async start(spec: ForwardSpec, extra: Partial<ForwardDeps> = {}): Promise<ForwardSession> {
    const session = new ForwardSession(spec, { kubeconfig: [this.kubeconfig], clients: this.clients, caches: this.caches, log: this.log.child({ session: spec.name }), source: 'config', ...extra });
    this.sessions.push(session);
    await session.start();
    return session;
  }

  /** Stops every session and shared service. */
  async stop(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.stop()));
    this.caches.stopAll();
    this.clients.closeAll();
  }
}

/** The local port bound for the session's i-th port mapping. */
export function localPort(session: ForwardSession, i = 0): number {
  const l = session.core.status().listeners[i];
  if (!l) throw new Error(`session ${session.spec.name} has no listener ${i} (state ${session.core.state}: ${session.core.status().reason})`);
  return l.port;
}

/** Resolves when the session reaches `state` (checked on every change); rejects after timeoutMs with its last reason. */
export function waitForState(session: ForwardSession | { core: ForwardSession['core'] }, state: SessionState, timeoutMs = 10_000): Promise<void> {
  const core = session.core;
  if (core.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      core.off('changed', check);
      reject(new Error(`timed out waiting for state ${state}; now ${core.state}: ${core.status().reason}`));
    }, timeoutMs);
    const check = () => {
      if (core.state !== state) return;
      clearTimeout(timer);
      core.off('changed', check);
      resolve();
    };
    core.on('changed', check);
  });
}

/** Records every state the session passes through from now on. */
export function recordStates(session: ForwardSession): SessionState[] {
  const seen: SessionState[] = [session.core.state];
  session.core.on('changed', () => {
    if (seen[seen.length - 1] !== session.core.state) seen.push(session.core.state);
  });
  return seen;
}

/** GET / on 127.0.0.1:port, or `host` (a fresh connection each time); resolves with the body (the pod's name + newline). */
export function httpGet(port: number, path = '/', host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a TCP connection to 127.0.0.1:port. */
export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `payload` through an echo forward and resolves with the sha256 of what came back (once all of it has). */
export async function echoChecksum(port: number, payload: Buffer): Promise<{ sent: string; received: string }> {
  const socket = await open(port);
  const hash = createHash('sha256');
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (c: Buffer) => {
      hash.update(c);
      got += c.length;
      if (got >= payload.length) resolve();
    });
    socket.on('error', reject);
    socket.on('close', () => (got < payload.length ? reject(new Error(`connection closed after ${got} of ${payload.length} bytes`)) : resolve()));
  });
  socket.write(payload);
  await done;
  socket.destroy();
  return { sent: createHash('sha256').update(payload).digest('hex'), received: hash.digest('hex') };
}

/** Writes `text` on an open connection to an echo forward and resolves with the next data that comes back. */
export function exchange(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (d: Buffer) => resolve(d.toString()));
    socket.write(text);
  });
}

/** Round-trips a short string through an echo forward. */
export async function echo(port: number, text: string): Promise<string> {
  const socket = await open(port);
  return new Promise((resolve, reject) => {
    let got = '';
    socket.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length >= text.length) (socket.destroy(), resolve(got));
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed after "${got}"`)));
    socket.write(text);
  });
}

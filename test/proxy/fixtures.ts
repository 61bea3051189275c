/** Shared pieces of the proxy tests: specs, a started session, a captured log, streaming and WebSocket clients. */
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { pino, type Logger } from 'pino';
import { WebSocket } from 'ws';
import type { ProxySpec } from '../../config/types.js';
import type { SessionState } from '../../daemon/api/session.js';
import { KubeClients } from '../../daemon/kube/clients.js';
import { fetchText, type Response } from '../helpers/http.js';
import { proxySpec as baseProxySpec } from '../helpers/specs.js';
import { ProxySession, type ProxyTiming } from '../../daemon/proxy/session.js';

/** A resolved proxy spec as the loader would give it: kubectl's defaults, port 0 on 127.0.0.1. */
export function proxySpec(over: Partial<ProxySpec> = {}): ProxySpec {
  return baseProxySpec('api', { context: null, port: 0, ...over });
}

/** Every log line, kept as text so tests can search it for secrets. */
export interface CapturedLog {
  log: Logger;
  text(): string;
}

/** A pino logger at trace level writing into memory. */
export function captureLog(): CapturedLog {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { log: pino({ level: 'trace' }, sink), text: () => text };
}

/** Fast retries for tests. */
export const FAST: Partial<ProxyTiming> = { retry: { initialMs: 50, maxMs: 200 }, probe: { initialMs: 50, maxMs: 200 } };

/** A started proxy session with its own client registry. */
export interface TestProxy {
  session: ProxySession;
  /** `http://127.0.0.1:PORT` of the first listener (empty for a Unix socket). */
  url: string;
  stop(): Promise<void>;
}

/** Starts a proxy on `kubeconfig` (files) with `spec` overrides. */
export async function startProxy(kubeconfig: string | string[], over: Partial<ProxySpec> = {}, log: Logger = pino({ level: 'silent' })): Promise<TestProxy> {
  const clients = new KubeClients();
  const session = new ProxySession(proxySpec(over), { kubeconfig: [kubeconfig].flat(), clients, log, source: 'config' }, FAST);
  await session.start();
  const l = session.core.status().listeners[0];
  return {
    session,
    url: l && l.port !== 0 ? `http://127.0.0.1:${l.port}` : '',
    stop: async () => {
      await session.stop();
      clients.closeAll();
    },
  };
}

/** Resolves once the session is in `state` (checked on every change), rejecting after `timeoutMs`. */
export function stateIs(session: ProxySession, state: SessionState, timeoutMs = 10_000): Promise<void> {
  if (session.core.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onChanged = () => {
      if (session.core.state !== state) return;
      clearTimeout(timer);
      session.core.off('changed', onChanged);
      resolve();
    };
    const timer = setTimeout(() => {
      session.core.off('changed', onChanged);
      reject(new Error(`session stayed ${session.core.state} (${session.core.status().reason}), not ${state}`));
    }, timeoutMs);
    session.core.on('changed', onChanged);
  });
}

/** An open streaming GET read line by line; `ended` settles with how the stream ended. */
export interface HttpLines {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The next line; rejects if the stream ends first or nothing comes within `timeoutMs`. */
  next(timeoutMs?: number): Promise<string>;
  /** Resolves with 'complete' (a proper end) or 'aborted' (cut off). */
  ended: Promise<'complete' | 'aborted'>;
  close(): void;
}

/** Opens a streaming GET on a plain-HTTP URL (a proxy), optionally over a Unix socket. */
export function httpLines(url: string, opts: { headers?: Record<string, string>; socketPath?: string } = {}): Promise<HttpLines> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: opts.headers, socketPath: opts.socketPath, agent: false }, (res) => {
      const lines: string[] = [];
      const waiters: (() => void)[] = [];
      let done = false;
      const wake = () => waiters.splice(0).forEach((w) => w());
      const ended = new Promise<'complete' | 'aborted'>((settle) => {
        res.once('close', () => {
          done = true;
          wake();
          settle(res.complete ? 'complete' : 'aborted');
        });
      });
      res.on('error', () => {}); // an abort is an outcome here, reported through `ended`
      createInterface({ input: res }).on('error', () => {}).on('line', (l) => (lines.push(l), wake()));
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        ended,
        close: () => req.destroy(),
        next: (timeoutMs = 5_000) =>
          new Promise<string>((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no line within ${timeoutMs} ms`)), timeoutMs);
            const check = () => {
              const line = lines.shift();
              if (line !== undefined) (clearTimeout(timer), ok(line));
              else if (done) (clearTimeout(timer), fail(new Error('stream ended')));
              else waiters.push(check);
            };
            check();
          }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A whole response. */
export type Answer = Response;

/** Sends one request with `path` exactly as given (no URL normalisation, unlike fetch or new URL). */
export function send(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string; socketPath?: string } = {}): Promise<Answer> {
  return fetchText(base || 'http://localhost', { ...opts, rawPath: path });
}

/** What an exec WebSocket through the proxy gave: the upgrade failure, or the stdout text. */
export type ExecResult = { status: number; body: string } | { stdout: string };

/** Runs `command` in a pod through the proxy over WebSocket (v5/v4 channel protocols), as kubectl exec does. */
export function execThrough(base: string, pod: string, command: string[]): Promise<ExecResult> {
  const query = [...command.map((c) => `command=${encodeURIComponent(c)}`), 'stdout=true'].join('&');
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/namespaces/default/pods/${pod}/exec?${query}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    let stdout = '';
    ws.on('message', (data: Buffer) => {
      if (data[0] === 1) stdout += data.subarray(1).toString('utf8');
    });
    ws.once('close', () => resolve({ stdout }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}

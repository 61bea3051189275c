/** Small HTTP(S) clients for tests: whole responses, and line-by-line streams (watches). */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import type { SimCluster } from '../cluster/cluster.js';

/** A complete response. */
export interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Options for one request. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** For https: the CA to trust. */
  ca?: string;
  /** For Unix-socket HTTP servers. */
  socketPath?: string;
  /** Send this path exactly as written (no URL normalisation of `..`, `//` or escapes). */
  rawPath?: string;
}

/** Sends one request to `url` and collects the response body as text. */
export function fetchText(url: string, opts: RequestOptions = {}): Promise<Response> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: opts.rawPath ?? u.pathname + u.search, method: opts.method ?? 'GET', headers: opts.headers, ca: opts.ca, socketPath: opts.socketPath, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** GET/POST/DELETE against the simulated API server with the admin token (or `token`, or none with null). */
export function api(cluster: SimCluster, path: string, opts: RequestOptions & { token?: string | null } = {}): Promise<Response> {
  const token = opts.token === undefined ? cluster.tokens.admin : opts.token;
  const headers = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...opts.headers };
  return fetchText(cluster.url + path, { ...opts, headers, ca: cluster.pki.caCert });
}

/** An open line stream (a watch): lines arrive in `lines`; `next()` waits for the next one. */
export interface LineStream {
  status: number;
  lines: string[];
  next(timeoutMs?: number): Promise<string>;
  ended: Promise<void>;
  close(): void;
}

/** Opens a streaming GET on the simulated API server and reads it line by line. */
export function streamLines(cluster: SimCluster, path: string, token: string | null = cluster.tokens.admin): Promise<LineStream> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(cluster.url + path, { ca: cluster.pki.caCert, headers: token ? { authorization: `Bearer ${token}` } : {}, agent: false }, (res) => {
      const lines: string[] = [];
      let read = 0;
      const waiters: (() => void)[] = [];
      const ended = new Promise<void>((r) => res.once('close', r));
      // close() aborts the response on purpose; readline re-emits that as its own error.
      createInterface({ input: res }).on('error', () => {}).on('line', (l) => {
        lines.push(l);
        waiters.splice(0).forEach((w) => w());
      });
      res.once('close', () => waiters.splice(0).forEach((w) => w()));
      resolve({
        status: res.statusCode ?? 0,
        lines,
        ended,
        close: () => req.destroy(),
        next: (timeoutMs = 5_000) =>
          new Promise<string>((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no line within ${timeoutMs} ms (got ${lines.length})`)), timeoutMs);
            const check = () => {
              if (read < lines.length) (clearTimeout(timer), ok(lines[read++]!));
              else if (res.destroyed || res.complete) (clearTimeout(timer), fail(new Error('stream ended')));
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

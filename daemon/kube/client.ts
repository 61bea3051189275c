/**
 * One API client per kubeconfig context. Authentication (tokens, client certificates, exec
 * plugins with their refresh) comes from @kubernetes/client-node's `applyToHTTPSOptions` on
 * every request, so refreshed credentials are picked up; the TLS connections come from one
 * keep-alive agent per context, rebuilt only when the TLS material changes.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { IncomingMessage } from 'node:http';
import { Agent, request, type RequestOptions } from 'node:https';
import type { Agent as HttpAgent } from 'node:http';
import { KportError, type ErrorCode } from '../api/errors.js';
import { networkError, statusError } from './errors.js';
import type { ContextConfig } from './kubeconfig.js';

/** What a request or a WebSocket dial needs to reach the API server as this context's user. */
export interface ConnectOptions {
  agent: HttpAgent;
  headers: Record<string, string>;
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** Options of one JSON request. */
export interface RequestSpec {
  method?: string;
  query?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** What 404 and 400 mean to the caller. */
  codes?: { notFound?: ErrorCode; badRequest?: ErrorCode };
  timeoutMs?: number;
}

const TLS_KEYS = ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized'] as const;

/** A client bound to one context of one kubeconfig. */
export class KubeClient {
  readonly context: string;
  /** The context's namespace, when it sets one. */
  readonly namespace: string | undefined;
  /** The API server base URL (may carry a path prefix). */
  readonly server: URL;
  private readonly kc: KubeConfig;
  private agent: HttpAgent | null = null;
  private agentKey = '';

  constructor(config: ContextConfig) {
    this.kc = config.kc;
    this.context = config.context;
    this.namespace = config.namespace;
    this.server = new URL(config.server);
    if (this.server.protocol !== 'https:') {
      throw new KportError('KUBECONFIG', `context "${this.context}": server ${config.server} is not https; kport talks to API servers over TLS only`);
    }
  }

  /** Fresh connection options with current credentials; never log them (they hold tokens and keys). */
  async connectOptions(): Promise<ConnectOptions> {
    const opts: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const tls: Pick<ConnectOptions, (typeof TLS_KEYS)[number]> = {};
    for (const k of TLS_KEYS) if (opts[k] !== undefined) Object.assign(tls, { [k]: opts[k] });
    const key = JSON.stringify(tls, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v));
    if (!this.agent || key !== this.agentKey) {
      this.agent?.destroy();
      const proxied = Boolean(this.kc.getCurrentCluster()?.proxyUrl);
      // A proxy-url cluster needs client-node's proxy agent; otherwise one keep-alive agent with a TLS session cache.
      this.agent = proxied ? (opts.agent as HttpAgent) : new Agent({ keepAlive: true, keepAliveMsecs: 30_000, ...tls });
      this.agentKey = key;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    return { agent: this.agent, headers, ...tls };
  }

  /** The full URL of an API path (`/api/v1/...`), keeping any path prefix of the server. */
  url(path: string, query: Record<string, string | undefined> = {}): URL {
    const u = new URL(this.server.href.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, v);
    return u;
  }

  /** Opens a GET and resolves with the response once its status is 2xx; rejects with a KportError otherwise. */
  async open(path: string, spec: RequestSpec = {}): Promise<IncomingMessage> {
    const opts = await this.connectOptions();
    const url = this.url(path, spec.query);
    return new Promise((resolve, reject) => {
      const req = request(url, { ...opts, method: spec.method ?? 'GET', headers: { ...opts.headers, accept: 'application/json' }, signal: spec.signal, timeout: spec.timeoutMs }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c.length + body.length < 65_536 ? c : ''));
        res.on('end', () => reject(statusError(status, body, this.server.origin, spec.codes)));
        res.on('error', (err) => reject(networkError(err, this.server.origin)));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${spec.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(spec.signal?.aborted ? new KportError('API_UNREACHABLE', 'request cancelled') : networkError(err, this.server.origin)));
      req.end();
    });
  }

  /** GETs (or sends `method` to) a path and parses the JSON answer. */
  async request<T>(path: string, spec: RequestSpec = {}): Promise<T> {
    const res = await this.open(path, { timeoutMs: 30_000, ...spec });
    const chunks: Buffer[] = [];
    try {
      for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    } catch (err) {
      throw networkError(err, this.server.origin);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
    } catch {
      throw new KportError('API_ERROR', `the API server ${this.server.origin} answered ${path} with something that is not JSON`);
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent?.destroy();
    this.agent = null;
  }
}

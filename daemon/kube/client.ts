/**
 * One API client per kubeconfig context. Credentials are produced afresh for every request (so an
 * exec plugin's refreshed token is picked up); TLS connections come from one keep-alive agent per
 * context (and, for proxies, one pool of kept-alive connections), rebuilt only when the TLS material changes.
 */
import type { IncomingMessage } from 'node:http';
import { Agent, request, type RequestOptions } from 'node:https';
import type { Agent as HttpAgent } from 'node:http';
import { KportError, type ErrorCode } from '../api/errors.js';
import { createSecureContext, type SecureContext } from 'node:tls';
import { CredentialSource } from './credentials.js';
import { networkError, requestCancelled, statusError } from './errors.js';
import type { ContextConfig } from './kubeconfig.js';
import { AccessReviews } from './access.js';
import { Reachability } from './reachability.js';
import type { TransportPreference } from './transport/types.js';
import { ConnectionPool, tlsOpener } from './connections.js';
import { Turns } from './turns.js';

/** How to set up TLS to the API server: one SecureContext per set of TLS material. */
export interface Transport {
  /** Built once: creating one per connection (what passing ca/cert/key does) dominated the cost of a new stream. */
  secureContext: SecureContext;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** What a request or a WebSocket dial needs to reach the API server as this context's user. */
export interface ConnectOptions extends Transport {
  agent: HttpAgent;
  headers: Record<string, string>;
  /** Which renewal of the context's credentials these are (see KubeClient.invalidateCredentials). */
  renewal: number;
}

/**
 * How long one fetch of credentials is reused: producing them (files, an exec plugin's cache) costs
 * more than a small relayed request or a new stream. A 401 drops them at once.
 */
const CREDENTIALS_TTL_MS = 1_000;

/** Options of one JSON request. */
export interface RequestSpec {
  method?: string;
  /** Sent as JSON. */
  body?: unknown;
  query?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** What 404 and 400 mean to the caller. */
  codes?: { notFound?: ErrorCode; badRequest?: ErrorCode };
  timeoutMs?: number;
  /** Does not wait its turn (ONE_SHOT_TURNS): the reachability probe must not queue behind requests hung on a silent server. */
  urgent?: boolean;
}

/**
 * One-shot requests of a context in flight at once; more wait their turn. Each one in flight holds a TLS
 * connection of its own (HTTP/1.1), so 100 forwards of 100 different deployments looking up their selectors
 * at start opened 100 connections at once, and glibc kept the ~5 MB they cost. Watches are not counted.
 */
const ONE_SHOT_TURNS = 8;

/** A GET in flight and the callers waiting for it. */
interface SharedGet {
  body: Promise<Buffer>;
  /** Callers that have not cancelled (a caller without a signal never does): at 0 the request is cancelled. */
  callers: number;
  abort: AbortController;
}

/** A client bound to one context of one kubeconfig. */
export class KubeClient {
  readonly context: string;
  /** The context's namespace, when it sets one. */
  readonly namespace: string | undefined;
  /** The API server base URL (may carry a path prefix). */
  readonly server: URL;
  private credentials: CredentialSource;
  private readonly proxyUrl: string | undefined;
  private agent: HttpAgent | null = null;
  private transport: Transport | null = null;
  private agentKey = '';
  /** The proxies' connections and the TLS material they were made with (on a proxy's first request). */
  private pool: ConnectionPool | null = null;
  private poolKey = '';
  private cached: Promise<ConnectOptions> | null = null;
  private cachedAt = 0;
  /** How many times a 401 has renewed the credentials. */
  private renewal = 0;
  /** GETs in flight, by what they ask: identical ones share one request (sharedGet). */
  private readonly gets = new Map<string, SharedGet>();
  /** Turns for one-shot requests (ONE_SHOT_TURNS). */
  private readonly turns = new Turns(ONE_SHOT_TURNS);
  /** The port-forward transport that last worked against this cluster (the fallback's memory). */
  readonly transportPreference: TransportPreference = { transport: null, since: 0 };
  /** What the API server said this user may do (cached SelfSubjectAccessReviews). */
  readonly access: AccessReviews = new AccessReviews(this);
  /** Probes the API server while it is unreachable and says when it is back. */
  readonly reachability = new Reachability((timeoutMs) => this.request('/version', { timeoutMs, urgent: true }));

  /**
   * `reread` loads the context afresh from the kubeconfig files: after a 401 the user's entry may have
   * changed on disk (a rotated token, a re-run `aws eks update-kubeconfig`), and only a fresh read sees it.
   */
  constructor(
    config: ContextConfig,
    private readonly reread: () => ContextConfig = () => config,
  ) {
    this.credentials = new CredentialSource(config.cluster, config.user);
    this.proxyUrl = config.cluster.proxyUrl;
    this.context = config.context;
    this.namespace = config.namespace;
    this.server = new URL(config.server);
    if (this.server.protocol !== 'https:') {
      throw new KportError('KUBECONFIG', `context "${this.context}": server ${config.server} is not https; kport talks to API servers over TLS only`);
    }
  }

  /**
   * Connection options with current credentials (at most CREDENTIALS_TTL_MS old; concurrent callers
   * share one fetch, and a failed fetch is not kept). Never log them: they hold tokens and keys.
   */
  connectOptions(): Promise<ConnectOptions> {
    const now = performance.now();
    if (this.cached === null || now - this.cachedAt > CREDENTIALS_TTL_MS) {
      const fetching = this.fetchConnectOptions();
      this.cached = fetching;
      this.cachedAt = now;
      fetching.catch(() => {
        if (this.cached === fetching) this.cached = null;
      });
    }
    return this.cached;
  }

  /**
   * Forgets reused credentials and re-reads the user from the kubeconfig (the API server answered 401 to a
   * request sent with renewal `renewal` of them). A 401 to credentials renewed since is stale news: under load,
   * every request in flight would otherwise renew them again, an exec plugin run each.
   */
  invalidateCredentials(renewal: number): void {
    if (renewal !== this.renewal) return;
    this.renewal++;
    this.cached = null;
    this.access.forget();
    try {
      const fresh = this.reread();
      // Same server only: a context now pointing elsewhere is a new client, made when sessions restart.
      if (new URL(fresh.server).href === this.server.href) this.credentials = new CredentialSource(fresh.cluster, fresh.user);
    } catch {
      // an unreadable kubeconfig: keep what we had; the 401 is reported either way
    }
  }

  private async fetchConnectOptions(): Promise<ConnectOptions> {
    const renewal = this.renewal;
    const { headers, ...tls } = await this.credentials.get();
    const key = [tls.ca, tls.cert, tls.key, tls.servername, tls.rejectUnauthorized].map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v))).join('|');
    if (!this.agent || !this.transport || key !== this.agentKey) {
      this.agent?.destroy();
      const { ca, cert, key: privateKey, servername, rejectUnauthorized } = tls;
      this.transport = { secureContext: createSecureContext({ ca, cert, key: privateKey }), servername, rejectUnauthorized };
      this.agent = await this.makeAgent(this.transport);
      this.agentKey = key;
    }
    return { agent: this.agent, headers, renewal, ...this.transport };
  }

  /**
   * The connections proxied requests go over, with current TLS material: made on first use, made anew (the old
   * ones closing once their requests finish) when the TLS material changes, as the agent is.
   */
  async connections(): Promise<ConnectionPool> {
    await this.connectOptions();
    if (this.pool === null || this.poolKey !== this.agentKey) {
      this.pool?.close();
      this.poolKey = this.agentKey;
      this.pool = new ConnectionPool(tlsOpener(this.server, this.transport!, this.proxyUrl ? this.agent : null));
    }
    return this.pool;
  }

  /** A keep-alive agent (TLS sessions are cached per agent, so new streams resume them); via the cluster's proxy-url if any. */
  private async makeAgent(transport: Transport): Promise<HttpAgent> {
    // Idle pooled connections close after 30 s: well before API servers drop idle keep-alives, so a reuse never races a close.
    const base = { keepAlive: true, keepAliveMsecs: 30_000, timeout: 30_000, ...transport };
    if (!this.proxyUrl) return new Agent(base);
    return (await import('./proxy-agent.js')).proxyAgent(this.proxyUrl, base);
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
      const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
      const headers = payload === undefined ? { ...opts.headers, accept: 'application/json' } : { ...opts.headers, accept: 'application/json', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
      const req = request(url, { ...opts, method: spec.method ?? 'GET', headers, signal: spec.signal, timeout: spec.timeoutMs }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c.length + body.length < 65_536 ? c : ''));
        if (status === 401) this.invalidateCredentials(opts.renewal);
        res.on('end', () => reject(statusError(status, body, this.server.origin, spec.codes)));
        res.on('error', (err) => reject(networkError(err, this.server.origin)));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${spec.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(spec.signal?.aborted ? requestCancelled() : networkError(err, this.server.origin)));
      req.end(payload);
    });
  }

  /** GETs (or sends `method` to) a path and parses the JSON answer. Identical GETs in flight share one request. */
  async request<T>(path: string, spec: RequestSpec = {}): Promise<T> {
    const get = (spec.method ?? 'GET') === 'GET' && spec.body === undefined;
    const body = get ? await this.sharedGet(path, spec) : await this.fetchBody(path, spec);
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch {
      throw new KportError('API_ERROR', `the API server ${this.server.origin} answered ${path} with something that is not JSON`);
    }
  }

  /** One request's whole answer, once it has its turn. */
  private async fetchBody(path: string, spec: RequestSpec): Promise<Buffer> {
    const done = spec.urgent ? null : await this.turns.take(spec.signal);
    try {
      const res = await this.open(path, { timeoutMs: 30_000, ...spec });
      const chunks: Buffer[] = [];
      try {
        for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
      } catch (err) {
        throw networkError(err, this.server.origin);
      }
      return Buffer.concat(chunks);
    } finally {
      done?.();
    }
  }

  /**
   * A GET's answer, shared with the callers asking the same at the same time: 100 forwards of one workload
   * starting together make one request, not 100 (and not 100 TLS connections). Each caller's signal cancels
   * its own wait; the request is cancelled when no caller is left. Each caller parses the answer itself.
   */
  private sharedGet(path: string, spec: RequestSpec): Promise<Buffer> {
    const { signal, ...rest } = spec;
    const key = JSON.stringify([path, rest.query ?? null, rest.codes ?? null, rest.timeoutMs ?? null, rest.urgent ?? false]);
    let shared = this.gets.get(key);
    if (shared === undefined) {
      const abort = new AbortController();
      const created: SharedGet = { callers: 0, abort, body: this.fetchBody(path, { ...rest, signal: abort.signal }) };
      const forget = () => void (this.gets.get(key) === created && this.gets.delete(key));
      created.body.then(forget, forget);
      this.gets.set(key, (shared = created));
    }
    const s = shared;
    s.callers++;
    if (signal === undefined) return s.body;
    return new Promise<Buffer>((resolve, reject) => {
      let waiting = true;
      const cancelled = () => {
        if (!waiting) return;
        waiting = false;
        // The last caller gone: nobody wants the answer any more.
        if (--s.callers === 0) {
          if (this.gets.get(key) === s) this.gets.delete(key);
          s.abort.abort();
        }
        reject(requestCancelled());
      };
      if (signal.aborted) return cancelled();
      signal.addEventListener('abort', cancelled, { once: true });
      const settle = (done: () => void) => {
        signal.removeEventListener('abort', cancelled);
        if (waiting) (waiting = false), done();
      };
      s.body.then(
        (b) => settle(() => resolve(b)),
        (err: unknown) => settle(() => reject(err)),
      );
    });
  }

  /** Closes pooled connections and stops probing. */
  close(): void {
    this.reachability.stop();
    this.agent?.destroy();
    this.agent = null;
    this.pool?.close();
    this.pool = null;
  }
}

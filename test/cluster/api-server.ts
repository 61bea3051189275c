/**
 * The simulated kube-apiserver's HTTPS front: TLS with the cluster CA, bearer-token and
 * client-certificate authentication, a forbid list standing in for RBAC, fault injection,
 * and dispatch of every route to the store, watches, streams and the service proxy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pki } from './pki.js';
import type { PodRuntime } from './pods.js';
import { NOT_SERVED, parseRoute, type Route } from './routes.js';
import { apiVersionOf, findType, typeForKind, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import type { ServiceProxy } from './service-proxy.js';
import { upgradeForm, type SpdyEndpoint } from './spdy-endpoint.js';
import { ApiError, badRequest, notFound } from './status.js';
import type { KubeObject, ObjectStore } from './store.js';
import { STREAM_PROTOCOLS, StreamServer } from './streams.js';
import { toTable, wantsTable } from './tables.js';
import { serveWatch } from './watch.js';

/** A request the forbid list denies (any field left out matches everything). */
export interface ForbidRule {
  user?: string;
  verb?: string;
  resource?: string;
  subresource?: string;
}

/** Faults a test can switch on and off at any time. */
export interface Faults {
  /** Added before every API request and upgrade is handled. */
  latencyMs: number;
  /** When set, port-forward upgrades are answered with this error instead. */
  refusePortForward: { code: number; message: string } | null;
  /** Requests denied with 403, as RBAC would deny them. */
  forbid: ForbidRule[];
  /** When set, every watch ends after this long (as if timeoutSeconds were short). */
  watchTimeoutMs: number | null;
  /** SelfSubjectAccessReviews answered 403 (a cluster that lets users ask nothing). */
  refuseAccessReviews: boolean;
  /**
   * A proxy in the path strips `Upgrade: SPDY/3.1`: the API server sees a plain POST and answers
   * `400 Upgrade request required` (WebSockets, the tunnel included, still pass).
   */
  refuseSpdy: boolean;
  /** The WebSocket-tunnelled SPDY subprotocol is refused (403, empty body), as a 1.20 server does. */
  refuseTunnel: boolean;
  /** SPDY PINGs are read and dropped; everything else is served (a half-dead path). */
  swallowPings: boolean;
}

/** What the API server serves from. */
export interface ApiBackend {
  store: ObjectStore;
  types: readonly ResourceType[];
  runtime: PodRuntime;
  streams: StreamServer;
  spdy: SpdyEndpoint;
  proxy: ServiceProxy;
  /** Creates an object and starts whatever lives behind it (pod lifecycle, cluster IP). */
  create(type: ResourceType, obj: KubeObject): KubeObject;
  /** Deletes an object (pods gracefully); returns what the API answers with. */
  remove(type: ResourceType, namespace: string | undefined, name: string): KubeObject;
}

const HEALTH = new Set(['/healthz', '/livez', '/readyz']);
const MAX_BODY = 3 << 20;

function sendJson(res: ServerResponse, code: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof SelectorError) return badRequest(err.message);
  return new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
}

async function readJson(req: IncomingMessage): Promise<KubeObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'request entity too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as KubeObject;
  } catch (err) {
    throw badRequest(`the body of the request was in an unknown format: ${(err as Error).message}`);
  }
}

/** The HTTPS API server; can be stopped and started again on the same port. */
export class ApiServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<{ stop: () => void }>();
  /** What each open resource watch is of, for tests that count watches (a cache started or stopped). */
  private readonly watching = new Map<{ stop: () => void }, { plural: string; namespace: string | null }>();
  private boundPort = 0;

  constructor(
    private readonly backend: ApiBackend,
    private readonly pki: Pki,
    /** Bearer token → user name. */
    private readonly tokens: ReadonlyMap<string, string>,
    readonly faults: Faults,
    private readonly version: object,
    private readonly bookmarkMs: number,
  ) {}

  /** The bound port (stable across restarts). */
  get port(): number {
    return this.boundPort;
  }

  /** Starts listening; port 0 picks a free port the first time, later starts reuse it. */
  async listen(port: number, host = '127.0.0.1'): Promise<void> {
    const server = createServer({
      key: this.pki.serverKey,
      cert: this.pki.serverCert,
      ca: this.pki.caCert,
      requestCert: true,
      rejectUnauthorized: false,
    });
    // Every accepted TCP connection, TLS handshake done or not: one still shaking hands when close()
    // runs would otherwise become a live connection that server.close() waits for forever.
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
    server.on('clientError', (_err, socket: Duplex) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port || this.boundPort, host, () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
  }

  /** Stops listening and cuts every connection: watches, streams and keep-alive sockets. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const w of this.watches) w.stop();
    this.watches.clear();
    const closed = new Promise((resolve) => server.close(resolve));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Open watches of `plural` (every resource when omitted) in `namespace` (every namespace when omitted). */
  openWatches(namespace?: string, plural?: string): number {
    let n = 0;
    for (const w of this.watching.values()) if ((namespace === undefined || w.namespace === namespace) && (plural === undefined || w.plural === plural)) n++;
    return n;
  }

  /** Ends every open watch now (clients must resume or relist). */
  endWatches(): void {
    for (const w of this.watches) w.stop();
    this.watches.clear();
  }

  private authenticate(req: IncomingMessage): string | undefined {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    if (token !== undefined) return this.tokens.get(token);
    const tls = req.socket as TLSSocket;
    if (tls.authorized) return tls.getPeerCertificate().subject?.CN as string | undefined;
    return undefined;
  }

  /** Whether the forbid list denies `user` the verb on a resource (and subresource). */
  private denied(user: string, verb: string, resource: string, sub: string | undefined): boolean {
    return this.faults.forbid.some(
      (r) => (r.user ?? user) === user && (r.verb ?? verb) === verb && (r.resource ?? resource) === resource && (r.subresource === undefined || r.subresource === sub),
    );
  }

  private authorize(user: string, verb: string, route: Route): void {
    // Every authenticated user may ask what it may do (system:basic-user), as on real clusters.
    if (route.kind === 'document' || route.type.plural === 'selfsubjectaccessreviews') return;
    const sub = route.kind === 'subresource' ? route.sub : undefined;
    if (!this.denied(user, verb, route.type.plural, sub)) return;
    const resource = sub ? `${route.type.plural}/${sub}` : route.type.plural;
    const ns = 'namespace' in route && route.namespace ? ` in the namespace "${route.namespace}"` : '';
    const what = route.kind === 'collection' ? resource : `${route.type.plural} "${route.name}"`;
    throw new ApiError(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${route.type.group}"${ns}`);
  }

  /** Authenticates and parses; throws ApiError for 401/404. */
  private async admit(req: IncomingMessage, url: URL): Promise<{ user: string; route: Route }> {
    if (this.faults.latencyMs > 0) await delay(this.faults.latencyMs);
    const user = this.authenticate(req);
    if (user === undefined) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    return { user, route: parseRoute(url.pathname, this.backend.types, this.version) };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sim');
    try {
      if (HEALTH.has(url.pathname)) return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      const { user, route } = await this.admit(req, url);
      await this.dispatch(req, res, url, route, user);
    } catch (err) {
      const e = toApiError(err);
      if (res.headersSent) return void res.destroy();
      sendJson(res, e.code, e.toStatus());
    }
  }

  private verbOf(method: string | undefined, route: Route, url: URL): string {
    const watch = ['1', 'true'].includes(url.searchParams.get('watch') ?? '');
    if (method === 'GET') return route.kind === 'collection' ? (watch ? 'watch' : 'list') : 'get';
    return { POST: 'create', DELETE: 'delete', PUT: 'update', PATCH: 'patch' }[method ?? ''] ?? 'get';
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, url: URL, route: Route, user: string): Promise<void> {
    const verb = this.verbOf(req.method, route, url);
    this.authorize(user, verb, route);
    const q = url.searchParams;
    const table = wantsTable(req.headers.accept);
    const { store } = this.backend;
    switch (route.kind) {
      case 'document':
        return sendJson(res, 200, route.body);
      case 'collection': {
        const labels = parseLabelSelector(q.get('labelSelector'));
        const fields = parseFieldSelector(q.get('fieldSelector'));
        if (verb === 'watch') {
          const timeout = q.get('timeoutSeconds');
          const limits = [timeout ? Number(timeout) * 1000 : null, this.faults.watchTimeoutMs].filter((x): x is number => x !== null);
          const w = serveWatch(store, res, {
            type: route.type,
            namespace: route.namespace,
            labels,
            fields,
            resourceVersion: q.get('resourceVersion') ?? undefined,
            table,
            bookmarks: q.get('allowWatchBookmarks') === 'true',
            timeoutMs: limits.length ? Math.min(...limits) : null,
            bookmarkMs: this.bookmarkMs,
          });
          this.watches.add(w);
          this.watching.set(w, { plural: route.type.plural, namespace: route.namespace });
          res.on('close', () => (this.watches.delete(w), this.watching.delete(w)));
          return;
        }
        if (verb === 'list') {
          const items = store.list(route.type, route.namespace).filter((o) => labels(o.metadata.labels) && fields(o));
          const rv = String(store.currentRv());
          return sendJson(res, 200, table ? toTable(route.type.kind, items, rv) : { kind: `${route.type.kind}List`, apiVersion: apiVersionOf(route.type), metadata: { resourceVersion: rv }, items });
        }
        if (verb === 'create' && route.type.plural === 'selfsubjectaccessreviews') return this.review(req, res, user);
        if (verb === 'create') return this.create(req, res, route.type, route.namespace);
        break;
      }
      case 'object': {
        if (verb === 'get') {
          const o = store.get(route.type, route.namespace, route.name);
          if (!o) throw notFound(route.type.plural, route.name, route.type.group);
          return sendJson(res, 200, table ? toTable(route.type.kind, [o], o.metadata.resourceVersion) : o);
        }
        if (verb === 'delete') return sendJson(res, 200, this.backend.remove(route.type, route.namespace, route.name));
        break;
      }
      case 'subresource':
        return this.subresource(req, res, route);
    }
    throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }

  /** A SelfSubjectAccessReview: answers from the forbid list, as RBAC would; nothing is stored. */
  private async review(req: IncomingMessage, res: ServerResponse, user: string): Promise<void> {
    if (this.faults.refuseAccessReviews) throw new ApiError(403, 'Forbidden', `selfsubjectaccessreviews.authorization.k8s.io is forbidden: User "${user}" cannot create resource "selfsubjectaccessreviews"`);
    const obj = await readJson(req);
    const attrs = ((obj.spec as { resourceAttributes?: Record<string, string> } | undefined)?.resourceAttributes ?? {}) as Record<string, string | undefined>;
    const denied = this.denied(user, attrs.verb ?? '', attrs.resource ?? '', attrs.subresource || undefined);
    const status = denied ? { allowed: false, denied: true, reason: 'denied by the simulator\'s forbid list' } : { allowed: true, reason: 'allowed by the simulator' };
    sendJson(res, 201, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: obj.spec, status });
  }

  private async create(req: IncomingMessage, res: ServerResponse, type: ResourceType, namespace: string | null): Promise<void> {
    const obj = await readJson(req);
    if (typeForKind(this.backend.types, obj.apiVersion, obj.kind) !== type) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(type)}) or kind ${obj.kind} is not ${type.kind}`);
    }
    obj.metadata = { ...obj.metadata };
    if (type.namespaced) {
      const ns = namespace ?? obj.metadata.namespace ?? 'default';
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
        throw badRequest(`the namespace of the provided object does not match the namespace sent on the request`);
      }
      const nsType = findType(this.backend.types, '', 'namespaces')!;
      if (!this.backend.store.get(nsType, undefined, ns)) throw notFound('namespaces', ns);
      obj.metadata.namespace = ns;
    }
    sendJson(res, 201, this.backend.create(type, obj));
  }

  private async subresource(req: IncomingMessage, res: ServerResponse, route: Extract<Route, { kind: 'subresource' }>): Promise<void> {
    const { proxy, store } = this.backend;
    const ns = route.namespace ?? 'default';
    if (route.sub === 'proxy' && route.type.plural === 'services') {
      return proxy.relay(req, res, proxy.serviceBackend(ns, route.name), route.rest);
    }
    if (route.sub === 'proxy' && route.type.plural === 'pods') {
      return proxy.relay(req, res, proxy.podBackend(ns, route.name), route.rest);
    }
    if (route.sub === 'log' && route.type.plural === 'pods' && req.method === 'GET') {
      return this.log(req, res, ns, route.name);
    }
    if (route.type.plural === 'pods' && (route.sub === 'portforward' || route.sub === 'exec')) {
      if (!store.get(route.type, ns, route.name)) throw notFound('pods', route.name);
      throw badRequest('Upgrade request required');
    }
    throw NOT_SERVED;
  }

  /** `pods/NAME/log`: a line per 100 ms with `follow=true`, until the pod or the client goes. */
  private log(req: IncomingMessage, res: ServerResponse, ns: string, name: string): void {
    const pods = findType(this.backend.types, '', 'pods')!;
    const pod = this.backend.store.get(pods, ns, name);
    if (!pod) throw notFound('pods', name);
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.write(`${name}: started\n`);
    if (new URL(req.url ?? '/', 'https://sim').searchParams.get('follow') !== 'true') return void res.end();
    let n = 0;
    const tick = setInterval(() => {
      const still = this.backend.store.get(pods, ns, name);
      if (!still || still.metadata.uid !== pod.metadata.uid) return void res.end();
      res.write(`${name}: tick ${++n}\n`);
    }, 100);
    const w = { stop: () => (clearInterval(tick), res.end()) };
    this.watches.add(w);
    res.on('close', () => (clearInterval(tick), this.watches.delete(w)));
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://sim');
    try {
      const { user, route } = await this.admit(req, url);
      if (route.kind !== 'subresource' || route.type.plural !== 'pods' || (route.sub !== 'portforward' && route.sub !== 'exec')) {
        throw badRequest(`upgrade is not supported on ${url.pathname}`);
      }
      this.authorize(user, req.method === 'POST' ? 'create' : 'get', route);
      const pod = this.backend.store.get(route.type, route.namespace, route.name);
      if (!pod) throw notFound('pods', route.name);
      const form = route.sub === 'portforward' ? upgradeForm(req) : 'websocket';
      // What a proxy that strips the SPDY upgrade hands on is a plain POST (see subresource()).
      if (form === 'spdy' && this.faults.refuseSpdy) throw badRequest('Upgrade request required');
      if (route.sub === 'portforward' && this.faults.refusePortForward) {
        const f = this.faults.refusePortForward;
        throw new ApiError(f.code, f.code === 403 ? 'Forbidden' : 'InternalError', f.message);
      }
      if (pod.metadata.deletionTimestamp || !this.backend.runtime.isRunning(pod.metadata.uid)) {
        throw badRequest(`pod ${route.name} is not running (phase ${(pod.status as { phase?: string })?.phase ?? 'Unknown'})`);
      }
      if (form === 'tunnel') {
        // A 1.20 server hands the WebSocket on to the kubelet, which knows no such subprotocol.
        if (!this.backend.spdy.servesTunnel || this.faults.refuseTunnel) return void socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        return this.backend.spdy.tunnel(req, socket, head, pod);
      }
      if (form === 'spdy') return this.backend.spdy.upgrade(req, socket, head, pod);
      if (!StreamServer.offersProtocol(req, route.sub)) {
        throw badRequest(`unable to upgrade connection: ${route.sub} speaks only ${STREAM_PROTOCOLS[route.sub].join(', ')} over WebSocket here`);
      }
      if (route.sub === 'exec') return this.backend.streams.exec(req, socket, head, pod, url.searchParams.getAll('command'));
      const ports = url.searchParams.getAll('ports').flatMap((p) => p.split(','));
      if (ports.length === 0) throw badRequest('query parameter "ports" is required');
      const numbers = ports.map((p) => {
        const n = Number(p);
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw badRequest(`invalid port ${JSON.stringify(p)}: must be between 1 and 65535`);
        return n;
      });
      this.backend.streams.portForward(req, socket, head, pod, numbers);
    } catch (err) {
      const e = toApiError(err);
      const body = JSON.stringify(e.toStatus());
      socket.end(`HTTP/1.1 ${e.code} ${e.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    }
  }
}

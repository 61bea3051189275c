/**
 * A stand-in kportd for kportctl's tests: the real transport (JSON-RPC 2.0 over a WebSocket on a Unix
 * socket in a temp folder) with canned handlers that follow the contract in daemon/api/rpc.ts, a record
 * of every call, and notifications pushed on demand.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSONRPCClient, JSONRPCErrorException, JSONRPCServer, JSONRPCServerAndClient } from 'json-rpc-2.0';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionSpec } from '../../config/types.js';
import type { ErrorCode } from '../../daemon/api/errors.js';
import { RPC_CODES, RPC_PATH, type DaemonStatus, type MethodName, type Notifications, type ParamsIn, type Results, type RpcErrorData } from '../../daemon/api/rpc.js';
import { emptyCounters, type SessionStatus } from '../../daemon/api/session.js';
import { forwardSpec, proxySpec } from '../helpers/specs.js';

export { forwardSpec, proxySpec };

/** A handler per method; the defaults below serve what a test does not override. */
export type FakeHandlers = { [M in MethodName]?: (params: ParamsIn<M>) => Results[M] | Promise<Results[M]> };

/** An RPC error as kportd sends it: the JSON-RPC code for `code`, and `data: { code, details }`. */
export function rpcError(code: ErrorCode, message: string, details?: unknown): JSONRPCErrorException {
  return new JSONRPCErrorException(message, RPC_CODES[code], { code, details } satisfies RpcErrorData);
}


/** A ready session for `spec`, listening as the spec asks; `over` replaces any field. */
export function sessionStatus(spec: SessionSpec, over: Partial<SessionStatus> = {}): SessionStatus {
  const at = new Date(Date.now() - 300_000).toISOString();
  const listeners =
    spec.kind === 'forward'
      ? spec.ports.map((p) => ({ address: spec.addresses[0]!, port: p.local, remote: p.remote }))
      : [{ address: spec.addresses[0]!, port: spec.port, remote: null }];
  return {
    name: spec.name,
    kind: spec.kind,
    source: 'runtime',
    spec,
    state: 'ready',
    reason: spec.kind === 'forward' ? `forwarding to pod ${spec.name}-0` : 'serving',
    since: at,
    created: at,
    listeners,
    transport: spec.kind === 'forward' ? 'spdy' : null,
    pods: spec.kind === 'forward' ? [`${spec.name}-0`] : [],
    counters: emptyCounters(),
    destinations: [],
    lastError: null,
    override: null,
    ...over,
  };
}

/** What `daemon.status` answers unless a test says otherwise. */
export function daemonStatus(socket: string, over: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    version: '0.1.0',
    pid: 4242,
    startedAt: new Date(Date.now() - 3_600_000).toISOString(),
    uptimeMs: 3_720_000,
    socket,
    stateDir: '/state',
    logFile: '/state/kportd.log',
    config: { file: '/home/u/.config/kport/kport.yaml', loadedAt: new Date().toISOString(), ok: true, blank: null, errors: [], warnings: [] },
    sessions: { total: 0, starting: 0, ready: 0, waiting: 0, backoff: 0, failed: 0, stopped: 0 },
    metrics: null,
    ...over,
  };
}

/** A fake kportd listening on a fresh socket. */
export class FakeDaemon {
  /** Every call received, in order. */
  readonly calls: { method: MethodName; params: unknown }[] = [];
  /** Sessions the default handlers serve, by name. */
  readonly sessions = new Map<string, SessionStatus>();
  private readonly subscribers = new Set<JSONRPCServerAndClient<void, void>>();
  private subscribedWaiters: (() => void)[] = [];
  private readonly wss: WebSocketServer;
  private readonly server: JSONRPCServer<void>;

  private constructor(
    readonly dir: string,
    readonly socket: string,
    private readonly http: Server,
    handlers: FakeHandlers,
  ) {
    this.wss = new WebSocketServer({ server: http, path: RPC_PATH, perMessageDeflate: false });
    this.server = new JSONRPCServer<void>({ errorListener: () => {} });
    const table = { ...this.defaults(), ...handlers } as Required<FakeHandlers>;
    for (const method of Object.keys(table) as MethodName[]) {
      this.server.addMethod(method, async (params: unknown) => {
        this.calls.push({ method, params });
        return (table[method] as (p: unknown) => unknown)(params);
      });
    }
    this.wss.on('connection', (ws) => this.onConnection(ws));
  }

  /** Starts a fake with `handlers` over the defaults, serving `sessions`. */
  static async start(handlers: FakeHandlers = {}, sessions: SessionStatus[] = []): Promise<FakeDaemon> {
    const dir = await mkdtemp(join(tmpdir(), 'kportctl-'));
    const socket = join(dir, 'kportd.sock');
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(socket, resolve));
    const fake = new FakeDaemon(dir, socket, http, handlers);
    for (const s of sessions) fake.sessions.set(s.name, s);
    return fake;
  }

  /** The calls made to `method`, params only. */
  paramsOf<M extends MethodName>(method: M): ParamsIn<M>[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params as ParamsIn<M>);
  }

  /** Resolves once some client has called events.subscribe (already, or from now on). */
  subscribed(): Promise<void> {
    if (this.subscribers.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.subscribedWaiters.push(resolve));
  }

  /** Sends a notification to every subscribed client. */
  notify<N extends keyof Notifications>(method: N, params: Notifications[N]): void {
    for (const peer of this.subscribers) peer.notify(method, params, undefined);
  }

  /** Stops listening (the socket file goes), closes every client and removes the temp folder. */
  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise((resolve) => this.wss.close(resolve));
    if (this.http.listening) await new Promise((resolve) => this.http.close(resolve));
    await rm(this.dir, { recursive: true, force: true });
  }

  private onConnection(ws: WebSocket): void {
    const client = new JSONRPCClient<void>((payload) => ws.send(JSON.stringify(payload)));
    const peer = new JSONRPCServerAndClient<void, void>(this.server, client, { errorListener: () => {} });
    const subscribe = (method: unknown) => {
      if (method !== 'events.subscribe') return;
      this.subscribers.add(peer);
      this.subscribedWaiters.splice(0).forEach((w) => w());
    };
    ws.on('message', (data: Buffer) => {
      const payload = JSON.parse(data.toString()) as { method?: unknown };
      // Marked before the answer goes out, so a client that has its answer is surely subscribed.
      subscribe(payload.method);
      void peer.receiveAndSend(payload, undefined, undefined);
    });
    ws.on('close', () => {
      this.subscribers.delete(peer);
    });
  }

  private get(name: string): SessionStatus {
    const s = this.sessions.get(name);
    if (!s) throw rpcError('NOT_FOUND', `no session named "${name}" (kportctl list shows them)`);
    return s;
  }

  /** kportctl enable / disable as kportd applies them: the spec's enabled, and the override when it differs. */
  private override(name: string, enabled: boolean): SessionStatus {
    const s = this.get(name);
    const declared = s.override === null ? s.spec.enabled : !s.spec.enabled;
    const changed: SessionStatus = {
      ...s,
      spec: { ...s.spec, enabled },
      state: enabled ? 'starting' : 'stopped',
      reason: enabled ? 'starting' : `disabled with kportctl disable; kportctl enable ${name} starts it again`,
      override: enabled === declared ? null : enabled ? 'enabled' : 'disabled',
    };
    this.sessions.set(name, changed);
    return changed;
  }

  private defaults(): Required<FakeHandlers> {
    return {
      'daemon.status': () => daemonStatus(this.socket, { sessions: { ...daemonStatus('').sessions, total: this.sessions.size } }),
      'daemon.shutdown': () => {
        // After the answer has gone out, as kportd does: stop listening, then drop the clients.
        setImmediate(() => {
          this.http.close();
          for (const ws of this.wss.clients) ws.close(1001, 'kportd stopping');
        });
        return { stopping: true };
      },
      'config.reload': () => ({ ok: true, added: [], removed: [], changed: [], unchanged: [...this.sessions.keys()], errors: [], warnings: [] }),
      'session.list': () => [...this.sessions.values()].sort((a, b) => a.name.localeCompare(b.name)),
      'session.get': ({ name }) => this.get(name),
      'session.add': ({ kind, entry }) => {
        const name = String(entry.name);
        const s = sessionStatus(kind === 'forward' ? forwardSpec(name) : proxySpec(name));
        this.sessions.set(name, s);
        return s;
      },
      'session.remove': ({ name }) => {
        this.get(name);
        this.sessions.delete(name);
        return { removed: name };
      },
      'session.restart': ({ name }) => ({ ...this.get(name), state: 'starting', reason: 'starting' }),
      'session.enable': ({ name }) => this.override(name, true),
      'session.disable': ({ name }) => this.override(name, false),
      'session.wait': ({ name }) => this.get(name),
      'events.subscribe': () => ({ subscribed: true }),
      'logs.read': () => ({ lines: [] }),
      'cluster.names': () => ({ names: [] }),
    };
  }
}

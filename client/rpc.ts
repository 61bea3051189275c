/**
 * The client side of kportd's control socket: JSON-RPC 2.0 over a WebSocket on a Unix socket
 * (websocket/client.ts), typed by the contract in daemon/api/rpc.ts. Calls reject with KportError
 * (the daemon's stable code); a daemon that is not there, or goes away, is a DaemonNotRunning.
 */
import { EventEmitter } from 'node:events';
import { JSONRPCClient, JSONRPCErrorException, JSONRPCServer, JSONRPCServerAndClient } from 'json-rpc-2.0';
import { KportError, type ErrorCode } from '../daemon/api/errors.js';
import { JSONRPC_CODES, RPC_CODES, RPC_PATH, type MethodName, type Notifications, type ParamsIn, type Results, type RpcErrorData } from '../daemon/api/rpc.js';
import { ABNORMAL_CLOSE, openWebSocket, type ClientWebSocket } from './websocket/client.js';

/** How long a closing handshake may take before the socket is cut. */
const CLOSE_GRACE_MS = 1_000;
/** A socket that accepts but never upgrades (a hung daemon, or not kportd at all) fails after this. */
const HANDSHAKE_TIMEOUT_MS = 5_000;

/** No kportd to talk to on the socket (missing, refusing, out of reach, or it closed the connection). */
export class DaemonNotRunning extends Error {
  override readonly name = 'DaemonNotRunning';
  constructor(
    readonly socket: string,
    readonly why: 'missing' | 'refused' | 'closed' | 'unreachable',
    detail = '',
  ) {
    super(
      why === 'closed'
        ? `kportd closed the connection (${detail || 'it stopped'})`
        : why === 'unreachable'
          ? `cannot talk to kportd on ${socket}: ${detail}`
          : `kportd is not running (${why === 'missing' ? 'no socket' : 'nothing answers'} at ${socket}); start it with: kportctl start`,
    );
  }
}

/** A connection to kportd. */
export interface RpcClient {
  /** Calls `method`; rejects with KportError, or DaemonNotRunning when the connection is gone. */
  call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Results[M]>;
  /** Calls `handler` for each notification `n` (after `events.subscribe`). */
  on<N extends keyof Notifications>(n: N, handler: (params: Notifications[N]) => void): void;
  /** Resolves, with why, once the connection has ended (either side). */
  readonly closed: Promise<DaemonNotRunning>;
  /** Closes the connection; resolves once it is closed. */
  close(): Promise<void>;
}

/** Opens a connection to the daemon on `socket`. */
export async function connect(socket: string): Promise<RpcClient> {
  try {
    return new Connection(await openWebSocket(socket, RPC_PATH, HANDSHAKE_TIMEOUT_MS), socket);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new DaemonNotRunning(socket, 'missing');
    if (e.code === 'ECONNREFUSED') throw new DaemonNotRunning(socket, 'refused');
    // A daemon that is shutting down may accept and then drop the connection.
    if (e.code === 'ECONNRESET' || e.code === 'EPIPE') throw new DaemonNotRunning(socket, 'closed', e.code);
    throw new DaemonNotRunning(socket, 'unreachable', e.message);
  }
}

class Connection implements RpcClient {
  readonly closed: Promise<DaemonNotRunning>;
  private readonly peer: JSONRPCServerAndClient<void, void>;
  private readonly notifications = new EventEmitter();
  private ended: DaemonNotRunning | null = null;

  constructor(
    private readonly ws: ClientWebSocket,
    private readonly socket: string,
  ) {
    // A malformed message from the daemon must not be printed into a table or a JSON stream; calls still settle.
    const quiet = { errorListener: () => {} };
    const client = new JSONRPCClient<void>((payload) => ws.send(JSON.stringify(payload)));
    this.peer = new JSONRPCServerAndClient(new JSONRPCServer<void>(quiet), client, quiet);
    this.closed = ws.closed.then(({ code, reason }) => {
      this.ended ??= new DaemonNotRunning(this.socket, 'closed', code === 1000 || code === 1001 || code === ABNORMAL_CLOSE ? '' : reason);
      this.peer.rejectAllPendingRequests('connection closed');
      return this.ended;
    });
    ws.onMessage = (text) => this.receive(text);
  }

  async call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Results[M]> {
    if (this.ended) throw this.ended;
    try {
      return (await this.peer.request(method, params, undefined)) as Results[M];
    } catch (err) {
      throw this.ended ?? fromRpcError(err);
    }
  }

  on<N extends keyof Notifications>(n: N, handler: (params: Notifications[N]) => void): void {
    if (!this.peer.hasMethod(n)) {
      // Emitting on the next tick keeps a handler's exception from being swallowed by the RPC library.
      this.peer.addMethod(n, (params) => void process.nextTick(() => this.notifications.emit(n, params)));
    }
    this.notifications.on(n, handler);
  }

  async close(): Promise<void> {
    this.ws.close(1000);
    const cut = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
    await this.closed;
    clearTimeout(cut);
  }

  private receive(text: string): void {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return;
    }
    this.peer.receiveAndSend(payload, undefined, undefined).catch(() => {});
  }
}

/** The daemon's error as a KportError with its stable code (data.code), else one derived from the JSON-RPC code. */
function fromRpcError(err: unknown): Error {
  if (!(err instanceof JSONRPCErrorException)) return err instanceof Error ? err : new Error(String(err));
  const data = (err.data ?? {}) as Partial<RpcErrorData>;
  const code: ErrorCode =
    typeof data.code === 'string' && Object.hasOwn(RPC_CODES, data.code)
      ? data.code
      : err.code === JSONRPC_CODES.INVALID_PARAMS
        ? 'INVALID_PARAMS'
        : 'INTERNAL';
  return new KportError(code, err.message, data.details);
}

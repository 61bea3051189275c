/**
 * The control socket: a Unix socket (mode 0600, in a 0700 folder) serving JSON-RPC 2.0 over
 * WebSocket at /rpc. Every malformed input — bad JSON, a non-request, unknown method, wrong params,
 * an oversized message or batch — gets a JSON-RPC error and the daemon carries on. Work per client is
 * bounded (connection.ts): a client that asks for more than its share is refused or dropped, never
 * buffered for. Subscribed connections receive `session.changed`, `session.removed` and `log`
 * notifications (broadcast.ts).
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { dirname } from 'node:path';
import { JSONRPCErrorException, JSONRPCServer, type JSONRPCResponse } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { KportError } from '../api/errors.js';
import { PARAMS } from '../api/params.js';
import { HARD_MESSAGE_LIMIT, JSONRPC_CODES, MAX_MESSAGE_BYTES, MAX_PENDING_CALLS, RPC_CODES, RPC_PATH, type MethodName, type RpcErrorData } from '../api/rpc.js';
import { listenUnix } from '../session/listen.js';
import { Broadcast, type EventSources } from './broadcast.js';
import { Connection } from './connection.js';
import { errorResponse, readMessage, type Part } from './envelope.js';
import type { Handlers } from './methods.js';

export type { EventSources } from './broadcast.js';

/** How long clients get to finish the close handshake at shutdown. */
const CLOSE_GRACE_MS = 500;

/** How the server runs; the defaults suit kportd, tests shorten the heartbeat. */
export interface RpcServerOptions {
  /** Every this often each connection is pinged; one that has not answered the previous ping is closed. */
  heartbeatMs?: number;
}

const DEFAULT_HEARTBEAT_MS = 30_000;

/** Serves the control API on a Unix socket. */
export class RpcServer {
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MESSAGE_LIMIT, perMessageDeflate: false });
  private readonly jsonrpc = new JSONRPCServer<Connection>({ errorListener: () => {} });
  private readonly connections = new Set<Connection>();
  private readonly broadcast: Broadcast;
  private readonly heartbeat: NodeJS.Timeout;
  private socketPath: string | null = null;

  constructor(
    table: Handlers,
    sources: EventSources,
    private readonly log: Logger,
    opts: RpcServerOptions = {},
  ) {
    for (const name of Object.keys(PARAMS) as MethodName[]) this.register(name, table);
    this.broadcast = new Broadcast(sources);
    this.http = createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end(`kportd speaks JSON-RPC 2.0 over WebSocket at ${RPC_PATH}\n`));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.heartbeat = setInterval(() => this.connections.forEach((c) => c.heartbeat()), opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS).unref();
  }

  private register<M extends MethodName>(name: M, table: Handlers): void {
    const handler = table[name];
    this.jsonrpc.addMethod(name, async (raw, conn) => {
      const parsed = PARAMS[name].safeParse(raw ?? undefined);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
        throw new JSONRPCErrorException(`invalid params for ${name}: ${why}`, JSONRPC_CODES.INVALID_PARAMS, { code: 'INVALID_PARAMS', details: parsed.error.issues } satisfies RpcErrorData);
      }
      try {
        return await handler(parsed.data as never, conn);
      } catch (err) {
        const e = err instanceof KportError ? err : new KportError('INTERNAL', `internal error in ${name}: ${(err as Error).message}`);
        if (e.code === 'INTERNAL') this.log.error({ err, method: name }, 'RPC handler failed');
        throw new JSONRPCErrorException(e.message, RPC_CODES[e.code], { code: e.code, details: e.data } satisfies RpcErrorData);
      }
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (new URL(req.url ?? '/', 'http://kportd').pathname !== RPC_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    const conn = new Connection(ws, this.broadcast, this.log);
    this.connections.add(conn);
    ws.on('message', (data: Buffer) => void this.onMessage(conn, data));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.connections.delete(conn);
      this.broadcast.remove(conn);
      conn.close();
    });
  }

  private async onMessage(conn: Connection, data: Buffer): Promise<void> {
    if (data.length > MAX_MESSAGE_BYTES) {
      return conn.send(errorResponse(null, JSONRPC_CODES.INVALID_REQUEST, `message of ${data.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`, { code: 'INVALID_PARAMS' }));
    }
    let payload: unknown;
    try {
      payload = JSON.parse(data.toString('utf8'));
    } catch (err) {
      return conn.send(errorResponse(null, JSONRPC_CODES.PARSE_ERROR, `Parse error: ${(err as Error).message}`));
    }
    const message = readMessage(payload);
    if (!message.batch) {
      const answer = await this.answer(conn, message.part);
      if (answer !== null) conn.send(answer);
      return;
    }
    // A batch is answered with one array of every answer, and not at all when it held only notifications (§6).
    // Each answer counts as unread from the moment it is ready, so a batch of large answers cannot pile up.
    const held = await Promise.all(message.parts.map(async (p) => {
      const answer = await this.answer(conn, p);
      return answer === null ? null : conn.hold(answer);
    }));
    conn.sendHeld(held.filter((t) => t !== null));
  }

  /** The answer to one part of a message; null for a notification. */
  private async answer(conn: Connection, part: Part): Promise<JSONRPCResponse | null> {
    if ('answer' in part) return part.answer;
    const { request } = part;
    if (!conn.begin()) {
      if (request.id === undefined) return null;
      const why = `more than ${MAX_PENDING_CALLS} calls are in flight on this connection: wait for answers before sending more`;
      return errorResponse(request.id, RPC_CODES.LIMIT_EXCEEDED, why, { code: 'LIMIT_EXCEEDED' });
    }
    try {
      return await this.jsonrpc.receive(request, conn);
    } finally {
      conn.end();
    }
  }

  /**
   * Listens on `socketPath` with mode 0600 (the caller has cleared any stale socket). A folder made for it is
   * 0700; one that was there is the user's (KPORT_SOCKET=$HOME/kportd.sock) and keeps its mode.
   */
  async listen(socketPath: string): Promise<void> {
    const dir = dirname(socketPath);
    if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dir, 0o700);
    await listenUnix(this.http, socketPath);
    this.socketPath = socketPath;
  }

  /** Stops accepting, closes every client (answers already sent still arrive) and removes the socket file. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.broadcast.close();
    const closing = [...this.connections].map((c) => new Promise((r) => (c.ws.once('close', r), c.ws.close(1001, 'kportd stopping'))));
    const closed = new Promise((r) => this.http.close(r));
    // Give clients a moment to complete the close handshake, so a response in flight is not cut off.
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
    for (const c of this.connections) c.ws.terminate();
    this.http.closeAllConnections();
    await closed;
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }
}

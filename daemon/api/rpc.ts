/**
 * The control contract between kportd and kportctl, defined once: JSON-RPC 2.0 over a WebSocket
 * on a Unix socket. Method names, their params (zod schemas in params.ts, which only the daemon
 * loads: kportctl imports nothing here at run time but constants), their results, the notifications,
 * and how error codes map to JSON-RPC codes.
 */
import type { ConfigIssue } from '../../config/types.js';
import type { ErrorCode } from './errors.js';
import type { SessionState, SessionStatus } from './session.js';
import type { MethodName } from './params.js';

/** The HTTP path of the WebSocket on the control socket (`ws+unix:///path/kportd.sock:/rpc`). */
export const RPC_PATH = '/rpc';
/** Messages above this size get a JSON-RPC error instead of being parsed. */
export const MAX_MESSAGE_BYTES = 1 << 20;
/** Messages above this size close the connection (WebSocket 1009) before they are even buffered. */
export const HARD_MESSAGE_LIMIT = 4 << 20;
/** Calls in one batch; a longer batch gets one -32600. */
export const MAX_BATCH = 100;
/** Calls in flight on one connection (waits included); more get LIMIT_EXCEEDED until answers go out. */
export const MAX_PENDING_CALLS = 256;
/** Answer and notification bytes queued for one connection and not yet read; past it the connection is dropped. */
export const MAX_UNREAD_BYTES = 16 << 20;
/** At most this much of the log's tail is read for `logs.read`, whatever the number of lines asked for. */
export const LOG_READ_MAX_BYTES = 4 << 20;
/** Lines `logs.read` returns at most. */
export const LOG_READ_MAX_LINES = 10_000;

/** The kinds `cluster.names` lists: pods and services as watched, workloads as their pods' owners name them. */
export const CACHED_KINDS = ['pod', 'service', 'deployment', 'statefulset', 'replicaset'] as const;
/** One of CACHED_KINDS. */
export type CachedKind = (typeof CACHED_KINDS)[number];

export type { MethodName, ParamsIn, ParamsOut } from './params.js';

/** The state of the configuration file as last loaded. */
export interface ConfigStatus {
  file: string | null;
  /** ISO time of the last load attempt, null before any. */
  loadedAt: string | null;
  ok: boolean;
  /**
   * The file is missing, or empty (no YAML at all): the sessions of the last good load keep running (`ok` false),
   * or before any there are only runtime sessions (`ok` true). An explicit `forwards: []` is not empty.
   */
  blank: 'missing' | 'empty' | null;
  /** Errors of the last attempt: the running sessions come from the last good load. */
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** The metrics server that kport.yaml's `metrics:` section asks for. */
export interface MetricsStatus {
  /** The address and port as configured (port 0: any free one). */
  address: string;
  port: number;
  /** Where GET /metrics answers, with the port bound; null while not serving. */
  url: string | null;
  /** Why it is not serving (PORT_IN_USE, BIND_FAILED); the next reload tries again. */
  error: { code: ErrorCode; message: string } | null;
}

/** `daemon.status`. */
export interface DaemonStatus {
  version: string;
  pid: number;
  startedAt: string;
  uptimeMs: number;
  socket: string;
  stateDir: string;
  logFile: string;
  config: ConfigStatus;
  sessions: { total: number } & Record<SessionState, number>;
  /** null when kport.yaml has no `metrics:` section. */
  metrics: MetricsStatus | null;
}

/** `config.reload`: what the reload touched (nothing when the file is invalid). */
export interface ReloadResult {
  ok: boolean;
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Results of every method. */
export interface Results {
  'daemon.status': DaemonStatus;
  'daemon.shutdown': { stopping: true };
  'config.reload': ReloadResult;
  'session.list': SessionStatus[];
  'session.get': SessionStatus;
  'session.add': SessionStatus;
  'session.remove': { removed: string };
  'session.restart': SessionStatus;
  'session.enable': SessionStatus;
  'session.disable': SessionStatus;
  'session.wait': SessionStatus;
  'events.subscribe': { subscribed: true };
  'cluster.names': { names: string[] };
  'logs.read': { lines: string[] };
}

/** Server → client notifications after `events.subscribe`. */
export interface Notifications {
  'session.changed': SessionStatus;
  'session.removed': { name: string };
  /** One pino record of the daemon's log, as JSON. */
  log: Record<string, unknown>;
}

/** JSON-RPC's own codes. */
export const JSONRPC_CODES = { PARSE_ERROR: -32700, INVALID_REQUEST: -32600, METHOD_NOT_FOUND: -32601, INVALID_PARAMS: -32602, INTERNAL_ERROR: -32603 } as const;

/** kport's codes on the wire: protocol-ish ones reuse JSON-RPC's, the rest live in -32000…-32099. */
export const RPC_CODES: Record<ErrorCode, number> = {
  INVALID_PARAMS: JSONRPC_CODES.INVALID_PARAMS,
  INTERNAL: JSONRPC_CODES.INTERNAL_ERROR,
  NOT_FOUND: -32001,
  CONFLICT: -32002,
  INVALID_CONFIG: -32003,
  DECLARED_IN_CONFIG: -32004,
  TIMEOUT: -32005,
  SHUTTING_DOWN: -32006,
  LIMIT_EXCEEDED: -32007,
  CANCELLED: -32008,
  PORT_IN_USE: -32010,
  BIND_FAILED: -32011,
  KUBECONFIG: -32012,
  CONTEXT_NOT_FOUND: -32013,
  NAMESPACE_NOT_FOUND: -32014,
  TARGET_NOT_FOUND: -32015,
  NO_READY_PODS: -32016,
  PORT_NOT_FOUND: -32017,
  UNAUTHORIZED: -32018,
  FORBIDDEN: -32019,
  API_UNREACHABLE: -32020,
  API_ERROR: -32021,
  TLS_ERROR: -32022,
  POD_NOT_RUNNING: -32023,
  STREAM_REFUSED: -32024,
  STREAM_ERROR: -32025,
  CONNECT_TIMEOUT: -32026,
  UPSTREAM_ERROR: -32027,
  BAD_REQUEST: -32028,
};

/** The `data` of every kport JSON-RPC error: the stable code, and structured detail (e.g. config issues). */
export interface RpcErrorData {
  code: ErrorCode;
  details?: unknown;
}

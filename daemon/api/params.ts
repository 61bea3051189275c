/**
 * The params of every control method as zod schemas: the daemon validates with them, and the client
 * sends their input type. A module of its own so that kportctl, which needs only the types, never
 * loads zod (rpc.ts re-exports the types).
 */
import * as z from 'zod';
import { SESSION_KINDS } from '../../config/types.js';
import { CACHED_KINDS, LOG_READ_MAX_LINES } from './rpc.js';

const Empty = z.object({}).strict().default({});
const Name = z.object({ name: z.string().min(1) }).strict();

/** Params of every method, as zod schemas (the daemon validates with them; the client sends their input type). */
export const PARAMS = {
  'daemon.status': Empty,
  'daemon.shutdown': Empty,
  'config.reload': Empty,
  'session.list': Empty,
  'session.get': Name,
  /** A forward, proxy or gateway given as its kport.yaml entry; persisted unless ephemeral. */
  'session.add': z
    .object({ kind: z.enum(SESSION_KINDS), entry: z.record(z.string(), z.unknown()), ephemeral: z.boolean().default(false) })
    .strict(),
  'session.remove': Name,
  'session.restart': Name,
  /** Starts a session, one declared with enabled: false included: an override kept across reloads and restarts. */
  'session.enable': Name,
  /** Stops a session and keeps it stopped: the same kind of override. */
  'session.disable': Name,
  /** Resolves once the session is ready; a TIMEOUT error after timeoutMs. */
  'session.wait': z.object({ name: z.string().min(1), timeoutMs: z.number().int().min(0).max(86_400_000).default(30_000) }).strict(),
  /** Starts `session.changed` / `session.removed` notifications, and `log` ones with logs: true. */
  'events.subscribe': z.object({ logs: z.boolean().default(false) }).strict().default({ logs: false }),
  /**
   * Names of one kind of object the watch caches already hold (for shell completion: no API request is made),
   * on one context and namespace, or on every one held when not given.
   */
  'cluster.names': z
    .object({ kind: z.enum(CACHED_KINDS), context: z.string().min(1).optional(), namespace: z.string().min(1).optional() })
    .strict(),
  /** The last lines of the daemon's log file (at most LOG_READ_MAX_BYTES of them). */
  'logs.read': z.object({ lines: z.number().int().min(1).max(LOG_READ_MAX_LINES).default(100) }).strict().default({ lines: 100 }),
} as const;

/** Every method name. */
export type MethodName = keyof typeof PARAMS;
/** What a caller sends for a method. */
export type ParamsIn<M extends MethodName> = z.input<(typeof PARAMS)[M]>;
/** What a handler receives (defaults applied). */
export type ParamsOut<M extends MethodName> = z.output<(typeof PARAMS)[M]>;


/**
 * Errors as values: every failure kport reports carries a stable code, a message a user can act on,
 * and optional structured data. Codes never change meaning; code paths branch on codes, never on text.
 */

/** Stable error codes, shared by the daemon, the RPC contract and kportctl. */
export type ErrorCode =
  // Control-plane (RPC) errors.
  | 'NOT_FOUND' // no session with that name
  | 'CONFLICT' // name or local address already taken
  | 'INVALID_CONFIG' // kport.yaml or a session entry did not validate
  | 'INVALID_PARAMS' // RPC params of the wrong shape
  | 'DECLARED_IN_CONFIG' // the session belongs to kport.yaml; edit the file instead
  | 'TIMEOUT' // a wait ran out
  | 'SHUTTING_DOWN' // the daemon is stopping
  | 'LIMIT_EXCEEDED' // one connection asked for more than kportd does for one client at a time
  | 'CANCELLED' // the caller went away before the answer
  | 'INTERNAL' // a bug: should never be seen
  // Session errors: why a forward, proxy or gateway cannot serve right now.
  | 'PORT_IN_USE' // local address:port taken by another process
  | 'BIND_FAILED' // any other listen() failure (address not available, permission)
  | 'KUBECONFIG' // kubeconfig missing or unreadable
  | 'CONTEXT_NOT_FOUND' // the context is not in the kubeconfig
  | 'NAMESPACE_NOT_FOUND'
  | 'TARGET_NOT_FOUND' // pod/service/workload does not exist
  | 'NO_READY_PODS' // target exists but nothing is ready to serve
  | 'PORT_NOT_FOUND' // service port or named container port unknown
  | 'UNAUTHORIZED' // 401 from the API server
  | 'FORBIDDEN' // 403 from the API server
  | 'API_UNREACHABLE' // network error talking to the API server
  | 'API_ERROR' // the API server answered with an unexpected error
  | 'TLS_ERROR' // certificate verification failed
  | 'POD_NOT_RUNNING' // port-forward refused because the pod is not running (400)
  | 'STREAM_REFUSED' // the port-forward upgrade was refused
  | 'STREAM_ERROR' // text on a port-forward error channel
  | 'CONNECT_TIMEOUT' // a held connection waited connectTimeout without a ready pod
  | 'UPSTREAM_ERROR' // proxy could not reach the API server
  | 'BAD_REQUEST'; // a gateway's client spoke neither SOCKS5 nor HTTP proxy as it must (malformed, origin-form)

/** A failure with a stable code; `data` is structured detail safe to show and to send over RPC. */
export class KportError extends Error {
  override readonly name = 'KportError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }

  /** The JSON shape sent over RPC and stored as a session's last error. */
  toJSON(): { code: ErrorCode; message: string; data?: unknown } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

/** Codes whose cause the user has to fix; the daemon still retries them, but slowly (state `failed`). */
const NEEDS_USER: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'PORT_IN_USE',
  'BIND_FAILED',
  'KUBECONFIG',
  'CONTEXT_NOT_FOUND',
  'NAMESPACE_NOT_FOUND',
  'TARGET_NOT_FOUND',
  'PORT_NOT_FOUND',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'TLS_ERROR',
  'INVALID_CONFIG',
]);

/** True when retrying soon (exponential backoff) can help; false when the user must act first. */
export function isRetryable(code: ErrorCode): boolean {
  return !NEEDS_USER.has(code);
}

/** Wraps anything thrown into a KportError, keeping KportErrors as they are. */
export function toKportError(err: unknown, fallback: ErrorCode = 'INTERNAL'): KportError {
  if (err instanceof KportError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new KportError(fallback, message);
}

/** API server answers and network failures, turned into KportErrors a user can act on. */
import { KportError, type ErrorCode } from '../api/errors.js';

/** An error answer from the API server, keeping its HTTP status for callers that branch on it (410, 404). */
export class ApiStatusError extends KportError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly httpStatus: number,
  ) {
    super(code, message, { httpStatus });
  }
}

/** What a request ended with when its caller cancelled it (its signal aborted). */
export const requestCancelled = (): KportError => new KportError('API_UNREACHABLE', 'request cancelled');

/** The message of a Kubernetes `Status` body, or the body itself trimmed. */
export function statusMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { kind?: string; message?: string };
    if (status.message) return status.message;
  } catch {
    // not JSON: use the text
  }
  return body.trim().slice(0, 500) || '(empty answer)';
}

/** Maps an HTTP error answer; `notFound` and `badRequest` let callers name what 404/400 mean for them. */
export function statusError(
  httpStatus: number,
  body: string,
  server: string,
  codes: { notFound?: ErrorCode; badRequest?: ErrorCode } = {},
): ApiStatusError {
  const message = statusMessage(body);
  switch (httpStatus) {
    case 401:
      return new ApiStatusError('UNAUTHORIZED', `the API server ${server} rejected the credentials (401 ${message}); refresh them (e.g. log in again) or check the kubeconfig user`, httpStatus);
    case 403:
      return new ApiStatusError('FORBIDDEN', `forbidden (403): ${message}`, httpStatus);
    case 404:
      return new ApiStatusError(codes.notFound ?? 'TARGET_NOT_FOUND', message, httpStatus);
    case 400:
      return new ApiStatusError(codes.badRequest ?? 'API_ERROR', message, httpStatus);
    default:
      return new ApiStatusError('API_ERROR', `the API server answered ${httpStatus}: ${message}`, httpStatus);
  }
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

/** Maps a socket/TLS failure talking to the API server. */
export function networkError(err: unknown, server: string): KportError {
  if (err instanceof KportError) return err;
  const e = err as NodeJS.ErrnoException;
  const detail = `${e.code ? `${e.code}: ` : ''}${e.message}`;
  if (e.code && TLS_CODES.test(e.code)) {
    return new KportError('TLS_ERROR', `TLS verification of ${server} failed (${detail}); the kubeconfig's certificate-authority does not match the server`);
  }
  return new KportError('API_UNREACHABLE', `cannot reach the API server ${server} (${detail})`);
}

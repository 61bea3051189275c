/** Kubernetes `Status` errors: the body every failed API call answers with. */

/** An API failure carrying its HTTP code and Status reason; the server renders it as a Status body. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string },
  ) {
    super(message);
  }

  /** The `Status` object sent on the wire (and inside watch ERROR events). */
  toStatus(): object {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

/** 404 for a named object, worded as the API server words it: `pods "web-0" not found`. */
export function notFound(plural: string, name: string, group = ''): ApiError {
  return new ApiError(404, 'NotFound', `${group ? `${plural}.${group}` : plural} "${name}" not found`, {
    name,
    group: group || undefined,
    kind: plural,
  });
}

/** 400 Bad Request. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

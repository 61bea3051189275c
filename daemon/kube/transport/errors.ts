/**
 * Upgrade answers, mapped: a refusal of the upgrade itself (the server or something in between
 * does not speak this transport) is told apart from an answer about the pod, so that the fallback
 * tries the next transport only for the first kind.
 */
import { ApiStatusError, statusError } from '../errors.js';
import type { KubeClient } from '../client.js';
import type { PodPort } from './types.js';

/** The upgrade was refused for reasons of the transport (400/403/404/426 not about the pod): another may work. */
export class UpgradeRefusedError extends ApiStatusError {}

/** Statuses with which servers and proxies refuse an upgrade they do not speak (or RBAC refuses one verb). */
const REFUSALS = new Set([400, 403, 404, 426]);

/** Whether a Status body says the pod itself is missing (a real 404, not a path a proxy does not know). */
function podNotFound(body: string): boolean {
  try {
    const s = JSON.parse(body) as { reason?: string; details?: { kind?: string } };
    return s.reason === 'NotFound' && s.details?.kind === 'pods';
  } catch {
    return false;
  }
}

/** Maps a failed upgrade's HTTP answer for `target` (forgetting credentials of `renewal` on 401). */
export function upgradeError(client: KubeClient, renewal: number, target: PodPort, status: number, body: string): ApiStatusError {
  if (status === 401) client.invalidateCredentials(renewal);
  const server = client.server.origin;
  const err = statusError(status, body, server, { notFound: 'TARGET_NOT_FOUND', badRequest: 'POD_NOT_RUNNING' });
  if (status === 404 && podNotFound(body)) return err;
  if (REFUSALS.has(status)) return new UpgradeRefusedError(err.code, err.message, status);
  if (status >= 500) return new ApiStatusError('STREAM_REFUSED', `port-forward to pod ${target.pod} refused: ${err.message}`, status);
  return err;
}

/** The path of a pod's portforward subresource. */
export function portForwardPath(target: Pick<PodPort, 'namespace' | 'pod'>): string {
  return `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/portforward`;
}

/** Reads at most 64 KiB of an error answer's body. */
export function readBody(res: NodeJS.ReadableStream, done: (body: string) => void): void {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (body = (body + c).slice(0, 65_536)));
  res.on('end', () => done(body));
  res.on('error', () => done(body));
}

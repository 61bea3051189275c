/**
 * Naming what is missing: an object the cache does not hold may be absent itself, or its whole namespace may be.
 * One GET of the namespace tells which, so the user reads `namespace "y" not found` rather than a misleading
 * `service "x" not found in namespace "y"`.
 */
import { KportError } from '../api/errors.js';
import type { KubeClient } from './client.js';
import { ApiStatusError } from './errors.js';

/** TARGET_NOT_FOUND for `what` (`service "web"`) in `namespace`, or NAMESPACE_NOT_FOUND when the namespace does not exist. */
export async function notFoundIn(client: KubeClient, namespace: string, what: string, signal?: AbortSignal): Promise<KportError> {
  try {
    await client.request(`/api/v1/namespaces/${encodeURIComponent(namespace)}`, { signal, codes: { notFound: 'NAMESPACE_NOT_FOUND' } });
  } catch (err) {
    if (err instanceof ApiStatusError && err.code === 'NAMESPACE_NOT_FOUND') return new KportError('NAMESPACE_NOT_FOUND', `namespace "${namespace}" not found`);
  }
  return new KportError('TARGET_NOT_FOUND', `${what} not found in namespace "${namespace}"`);
}

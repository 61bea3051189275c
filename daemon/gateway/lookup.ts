/**
 * Who has an IP: a service (its ClusterIP) or a pod (its pod IP). The namespaces the gateway already watches are
 * searched first; otherwise the API server is asked once, with a field selector (`spec.clusterIP=`,
 * `status.podIP=`; a server that does not support it for services gets a plain list, filtered here), across the
 * cluster or, when the gateway has a `namespaces:` list, in those namespaces only.
 */
import { KportError, toKportError } from '../api/errors.js';
import type { KubeClient } from '../kube/client.js';
import { ApiStatusError } from '../kube/errors.js';
import type { NamespaceCache } from '../kube/namespace-cache.js';
import type { Pod, Service } from '../kube/objects.js';
import type { Named } from './route.js';

const hasClusterIp = (ip: string) => (s: Service) => s.spec?.clusterIP === ip || (s.spec?.clusterIPs ?? []).includes(ip);
const hasPodIp = (ip: string) => (p: Pod) => !p.metadata.deletionTimestamp && (p.status?.podIP === ip || (p.status?.podIPs ?? []).some((x) => x.ip === ip));

/** The service or pod with `ip` among the watched namespaces, or null. */
export function findInCaches(ip: string, caches: readonly NamespaceCache[]): Named | null {
  for (const cache of caches) {
    const svc = cache.services.values().find(hasClusterIp(ip));
    if (svc) return { kind: 'service', service: svc.metadata.name, namespace: cache.namespace };
  }
  for (const cache of caches) {
    const pod = cache.pods.values().find(hasPodIp(ip));
    if (pod) return { kind: 'pod', pod: pod.metadata.name, namespace: cache.namespace };
  }
  return null;
}

interface List<T> {
  items: T[];
}

/** Lists `plural` (in `namespace`, or everywhere) filtered to `match`, using `field` server-side when it can. */
async function listMatching<T extends Service | Pod>(
  client: KubeClient,
  plural: 'services' | 'pods',
  namespace: string | null,
  field: string,
  match: (o: T) => boolean,
  signal: AbortSignal,
): Promise<T | undefined> {
  const path = namespace === null ? `/api/v1/${plural}` : `/api/v1/namespaces/${encodeURIComponent(namespace)}/${plural}`;
  try {
    const list = await client.request<List<T>>(path, { signal, query: { fieldSelector: field } });
    return list.items.find(match);
  } catch (err) {
    // Older servers know no spec.clusterIP field selector for services: list them and look here.
    if (!(err instanceof ApiStatusError && err.httpStatus === 400)) throw err;
    return (await client.request<List<T>>(path, { signal })).items.find(match);
  }
}

/** Asks the API server who has `ip`; TARGET_NOT_FOUND when nobody does, the API's error (403, unreachable) as it is. */
export async function findByApi(ip: string, client: KubeClient, namespaces: readonly string[] | null, signal: AbortSignal): Promise<Named | KportError> {
  const scopes = namespaces ?? [null];
  try {
    for (const ns of scopes) {
      const svc = await listMatching<Service>(client, 'services', ns, `spec.clusterIP=${ip}`, hasClusterIp(ip), signal);
      if (svc) return { kind: 'service', service: svc.metadata.name, namespace: svc.metadata.namespace ?? ns ?? '' };
    }
    for (const ns of scopes) {
      const pod = await listMatching<Pod>(client, 'pods', ns, `status.podIP=${ip}`, hasPodIp(ip), signal);
      if (pod) return { kind: 'pod', pod: pod.metadata.name, namespace: pod.metadata.namespace ?? ns ?? '' };
    }
  } catch (err) {
    const e = toKportError(err, 'API_ERROR');
    return new KportError(e.code, `cannot look up who has the IP ${ip} (${e.message}); name the service instead`);
  }
  const where = namespaces ? ` in namespaces ${namespaces.join(', ')}` : '';
  return new KportError('TARGET_NOT_FOUND', `no service or pod has the IP ${ip}${where}`);
}

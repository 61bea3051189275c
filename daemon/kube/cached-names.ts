/**
 * What shell completion offers after `svc/`, `pod/`, `deploy/`, `sts/`, `rs/`: names the watch caches already hold,
 * so a keystroke never costs an API request. Pods and services are watched as they are; workloads are not watched,
 * so they are named by their pods' owners (a statefulset owns its pods; a deployment owns the replicaset that owns
 * them, named `DEPLOYMENT-HASH` with the hash in the pod's pod-template-hash label).
 */
import type { CachedKind } from '../api/rpc.js';
import type { NamespaceCache } from './namespace-cache.js';
import type { Pod } from './objects.js';

/** An owner reference, as pods carry them (kport's Pod view leaves them out). */
interface OwnerReference {
  kind?: string;
  name?: string;
  controller?: boolean;
}

/** The controller that owns `pod`, if any. */
function controllerOf(pod: Pod): OwnerReference | undefined {
  const owners = (pod.metadata as { ownerReferences?: OwnerReference[] }).ownerReferences ?? [];
  return owners.find((o) => o.controller) ?? owners[0];
}

/** The name of `kind` that `pod` belongs to, or null. */
function ownerName(pod: Pod, kind: 'deployment' | 'statefulset' | 'replicaset'): string | null {
  const owner = controllerOf(pod);
  if (!owner?.name) return null;
  if (kind === 'statefulset') return owner.kind === 'StatefulSet' ? owner.name : null;
  if (owner.kind !== 'ReplicaSet') return null;
  if (kind === 'replicaset') return owner.name;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  return hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : null;
}

/** The names of `kind` in `caches` on `context` and `namespace` (every one when not given), sorted, each once. */
export function cachedNames(caches: readonly NamespaceCache[], query: { kind: CachedKind; context?: string | undefined; namespace?: string | undefined }): string[] {
  const { kind, context, namespace } = query;
  const names = new Set<string>();
  for (const cache of caches) {
    if ((context !== undefined && cache.client.context !== context) || (namespace !== undefined && cache.namespace !== namespace)) continue;
    if (kind === 'service') for (const s of cache.services.values()) names.add(s.metadata.name);
    else if (kind === 'pod') for (const p of cache.pods.values()) names.add(p.metadata.name);
    else {
      for (const p of cache.pods.values()) {
        const name = ownerName(p, kind);
        if (name !== null) names.add(name);
      }
    }
  }
  return [...names].sort();
}

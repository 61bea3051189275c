/** Reading a pod's status the way controllers and the kubelet do. */
import type { KubeObject } from './store.js';

/** True when the pod's Ready condition is True (terminating or not). */
export function readyCondition(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** True when the pod is Ready and not terminating: it may receive traffic. */
export function isPodReady(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && readyCondition(pod);
}

/** The pod's IP once running. */
export function podIp(pod: KubeObject): string | undefined {
  return (pod.status as { podIP?: string } | undefined)?.podIP;
}

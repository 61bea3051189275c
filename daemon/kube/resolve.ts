/**
 * Target resolution as kubectl port-forward does it, over the watch cache (never the API):
 * a pod is itself; a service is the ready pods its selector matches (its endpoints' pods when it
 * has none); workloads and selectors are their ready, non-terminating matching pods. Ports: a
 * service port maps to its targetPort, and a named port to the chosen pod's container port.
 */
import type { Target } from '../../config/types.js';
import { KportError } from '../api/errors.js';
import type { EndpointPods } from './namespace-cache.js';
import type { LabelSelector, Pod, Service, ServicePort } from './objects.js';

/** What resolution reads: the namespace's cached pods and services. */
export interface TargetView {
  namespace: string;
  pods: readonly Pod[];
  service(name: string): Service | undefined;
  endpointPods(service: string): EndpointPods | undefined;
}

/** The ready pods a target resolves to now (sorted by name), or why there are none. */
export type Candidates =
  | { ok: true; pods: Pod[] }
  /** `missing`: the target object itself does not exist (as opposed to existing with nothing ready). */
  | { ok: false; error: KportError; missing: boolean };

/** True when a pod may take traffic: Running, Ready, and not being deleted. */
export function isPodReady(pod: Pod): boolean {
  return (
    !pod.metadata.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** Evaluates a workload's structured selector against labels (an empty selector matches nothing here). */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  const exprs = selector.matchExpressions ?? [];
  const eq = Object.entries(selector.matchLabels ?? {});
  if (eq.length === 0 && exprs.length === 0) return false;
  return (
    eq.every(([k, v]) => l[k] === v) &&
    exprs.every((e) => {
      const has = Object.hasOwn(l, e.key);
      switch (e.operator) {
        case 'In':
          return has && (e.values ?? []).includes(l[e.key]!);
        case 'NotIn':
          return !has || !(e.values ?? []).includes(l[e.key]!);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          return false;
      }
    })
  );
}

/** Shows a target as kubectl writes it: `service/web`, or `selector app=web`. */
export function describeTarget(target: Target): string {
  return target.kind === 'selector' ? `selector ${labelText(target.labels)}` : `${target.kind}/${target.name}`;
}

const labelText = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');

function readySorted(pods: Iterable<Pod>): Pod[] {
  return [...pods].filter(isPodReady).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

function none(target: Target, why: string): Candidates {
  return { ok: false, missing: false, error: new KportError('NO_READY_PODS', `no ready pod for ${describeTarget(target)}: ${why}`) };
}

function missing(kind: string, name: string, namespace: string): Candidates {
  return { ok: false, missing: true, error: new KportError('TARGET_NOT_FOUND', `${kind} "${name}" not found in namespace "${namespace}"`) };
}

/**
 * The ready pods behind `target`. Workload targets need their selector, fetched once by the
 * caller (`workloadSelector`; null while unknown).
 */
export function candidates(target: Target, view: TargetView, workloadSelector: LabelSelector | null): Candidates {
  switch (target.kind) {
    case 'pod': {
      const pod = view.pods.find((p) => p.metadata.name === target.name);
      if (!pod) return missing('pod', target.name, view.namespace);
      if (isPodReady(pod)) return { ok: true, pods: [pod] };
      const phase = pod.metadata.deletionTimestamp ? 'Terminating' : pod.status?.phase ?? 'Unknown';
      return none(target, `the pod is not ready (${phase})`);
    }
    case 'service': {
      const svc = view.service(target.name);
      if (!svc) return missing('service', target.name, view.namespace);
      const selector = svc.spec?.selector ?? {};
      if (Object.keys(selector).length > 0) {
        const pods = readySorted(view.pods.filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v)));
        return pods.length ? { ok: true, pods } : none(target, `no ready pod matches its selector ${labelText(selector)}`);
      }
      const endpoints = view.endpointPods(target.name);
      if (!endpoints) return none(target, 'the service has no selector; waiting for its endpoints');
      const names = new Set(endpoints.ready);
      const pods = readySorted(view.pods.filter((p) => names.has(p.metadata.name)));
      return pods.length ? { ok: true, pods } : none(target, 'the service has no selector and no ready pod among its endpoints');
    }
    case 'selector': {
      const pods = readySorted(view.pods.filter((p) => Object.entries(target.labels).every(([k, v]) => p.metadata.labels?.[k] === v)));
      return pods.length ? { ok: true, pods } : none(target, 'no ready pod has these labels');
    }
    default: {
      if (!workloadSelector) return none(target, `looking up the ${target.kind}`);
      const pods = readySorted(view.pods.filter((p) => selectorMatches(workloadSelector, p.metadata.labels)));
      return pods.length ? { ok: true, pods } : none(target, 'none of its pods is ready');
    }
  }
}

/** The container port named `name` in a pod, if any. */
function namedPort(pod: Pod, name: string): number | undefined {
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === name) return p.containerPort;
  return undefined;
}

/** The port of service `name` that `remote` names (its number or its name), or PORT_NOT_FOUND listing its ports. */
export function servicePort(name: string, svc: Service | undefined, remote: number | string): ServicePort | KportError {
  const ports = svc?.spec?.ports ?? [];
  const sp = ports.find((p) => (typeof remote === 'number' ? p.port === remote : p.name === remote));
  if (sp) return sp;
  const list = ports.map((p) => (p.name ? `${p.port}/${p.name}` : String(p.port))).join(', ') || 'none';
  return new KportError('PORT_NOT_FOUND', `service/${name} has no port ${JSON.stringify(remote)} (its ports: ${list})`);
}

/** The pod port to dial for a forward's `remote` (service port → targetPort → named container port). */
export function remotePort(target: Target, remote: number | string, pod: Pod, view: Pick<TargetView, 'service'>): number | KportError {
  let wanted: number | string = remote;
  let via = '';
  if (target.kind === 'service') {
    const sp = servicePort(target.name, view.service(target.name), remote);
    if (sp instanceof KportError) return sp;
    wanted = sp.targetPort ?? sp.port;
    if (typeof wanted === 'string' && /^\d+$/.test(wanted)) wanted = Number(wanted);
    via = ` (targetPort of service/${target.name} port ${sp.port})`;
  }
  if (typeof wanted === 'number') return wanted;
  const port = namedPort(pod, wanted);
  return port ?? new KportError('PORT_NOT_FOUND', `pod ${pod.metadata.name} has no container port named ${JSON.stringify(wanted)}${via}`);
}

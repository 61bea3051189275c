/**
 * Where a gateway connection goes, read from its namespace's cache (pure: the view in, a route out). A service
 * resolves as a forward's `service/NAME` does: its port maps to the targetPort (a named one to the chosen pod's
 * container port), and a port it does not have is refused. A pod named through a headless service, or found by
 * its IP, is dialled on the port as asked, as its DNS name or IP would be.
 */
import { KportError } from '../api/errors.js';
import type { Pod } from '../kube/objects.js';
import { candidates, remotePort, servicePort, type TargetView } from '../kube/resolve.js';

/** A destination whose namespace is known. */
export type Named =
  | { kind: 'service'; service: string; namespace: string }
  /** The pod whose spec.hostname and spec.subdomain these are (`db-0.db.default.svc`). */
  | { kind: 'hostname'; hostname: string; service: string; namespace: string }
  /** A pod by name (found by its IP). */
  | { kind: 'pod'; pod: string; namespace: string };

/** Ready pods for a connection, and the port each is dialled on. */
export interface Route {
  /** Ready pods, by name. */
  pods: Pod[];
  podPort(pod: Pod): number | KportError;
}

/**
 * A route, or why there is none: `absent` (the object is not in the cache; its namespace may be missing too, and
 * `what` names it), `unready` (it exists with no ready pod: waiting may help), `refused` (waiting cannot help).
 */
export type Resolution = { ok: true; route: Route } | { ok: false; why: 'absent' | 'unready' | 'refused'; error: KportError; what: string };

/** How a destination is shown (`kportctl list --wide`) and keyed for balancing: `svc/web.default:80`. */
export function destinationLabel(named: Named, port: number): string {
  switch (named.kind) {
    case 'service':
      return `svc/${named.service}.${named.namespace}:${port}`;
    case 'hostname':
      return `pod/${named.hostname}.${named.service}.${named.namespace}:${port}`;
    case 'pod':
      return `pod/${named.pod}.${named.namespace}:${port}`;
  }
}

const absent = (what: string, namespace: string): Resolution => ({
  ok: false,
  why: 'absent',
  what,
  error: new KportError('TARGET_NOT_FOUND', `${what} not found in namespace "${namespace}"`),
});
const refused = (error: KportError): Resolution => ({ ok: false, why: 'refused', what: '', error });

/** The route to `named` on `port` in the namespace `view` holds. */
export function resolveRoute(named: Named, port: number, view: TargetView): Resolution {
  switch (named.kind) {
    case 'service':
      return serviceRoute(named.service, port, view);
    case 'hostname':
      return hostnameRoute(named, port, view);
    case 'pod':
      return podRoute(named.pod, `pod "${named.pod}"`, port, view);
  }
}

/** As cluster DNS names pods: only under a headless service, by their spec.hostname and spec.subdomain. */
function hostnameRoute(named: Extract<Named, { kind: 'hostname' }>, port: number, view: TargetView): Resolution {
  const svc = view.service(named.service);
  if (!svc) return absent(`service "${named.service}"`, view.namespace);
  if (svc.spec?.clusterIP !== 'None') {
    const name = `${named.hostname}.${named.service}.${named.namespace}.svc`;
    return refused(new KportError('TARGET_NOT_FOUND', `service/${named.service} is not headless (clusterIP ${svc.spec?.clusterIP ?? 'unset'}): only a headless service names its pods (${name})`));
  }
  const pod = view.pods.find((p) => p.spec?.hostname === named.hostname && p.spec.subdomain === named.service);
  const what = `a pod with hostname "${named.hostname}" under service "${named.service}"`;
  return pod ? podRoute(pod.metadata.name, what, port, view) : absent(what, view.namespace);
}

function podRoute(name: string, what: string, port: number, view: TargetView): Resolution {
  const found = candidates({ kind: 'pod', name }, view, null);
  if (found.ok) return { ok: true, route: { pods: found.pods, podPort: () => port } };
  return found.missing ? absent(what, view.namespace) : { ok: false, why: 'unready', what, error: found.error };
}

function serviceRoute(name: string, port: number, view: TargetView): Resolution {
  const svc = view.service(name);
  if (!svc) return absent(`service "${name}"`, view.namespace);
  if (svc.spec?.type === 'ExternalName') {
    return refused(new KportError('TARGET_NOT_FOUND', `service/${name} is an ExternalName service (${svc.spec.externalName ?? '?'}): a host outside the cluster, which the gateway does not reach`));
  }
  const sp = servicePort(name, svc, port);
  if (sp instanceof KportError) return refused(sp);
  const target = { kind: 'service', name } as const;
  const found = candidates(target, view, null);
  if (!found.ok) return { ok: false, why: 'unready', what: `service "${name}"`, error: found.error };
  return { ok: true, route: { pods: found.pods, podPort: (pod) => remotePort(target, port, pod, view) } };
}

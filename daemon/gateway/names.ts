/**
 * Cluster names as the gateway reads them, as cluster DNS would answer them (pure: text in, a destination out).
 * `SVC.NS.svc.DOMAIN`, `SVC.NS.svc`, `SVC.NS` and `SVC` (the gateway's namespace) name a service;
 * `POD.SVC.NS.svc.DOMAIN` (and `POD.SVC.NS.svc`) a pod by its hostname under a headless service, as a
 * StatefulSet's pods are named; an IP literal is a ClusterIP or a pod IP, looked up elsewhere.
 */
import { isIP } from 'node:net';
import { checkName, DNS1035_LABEL, DNS1123_LABEL } from '../../config/names.js';
import { KportError } from '../api/errors.js';

/** What a name stands for, before the cluster is asked. */
export type Destination =
  | { kind: 'service'; service: string; namespace: string }
  /** `hostname.subdomain.namespace`: the pod whose spec.hostname and spec.subdomain these are. */
  | { kind: 'hostname'; hostname: string; service: string; namespace: string }
  | { kind: 'ip'; ip: string };

/** What names are resolved against. */
export interface NameRules {
  /** e.g. `cluster.local`. */
  clusterDomain: string;
  /** Where bare names (`web`) live. */
  namespace: string;
}

const FORMS = 'SVC, SVC.NS, SVC.NS.svc, SVC.NS.svc.DOMAIN or POD.SVC.NS.svc.DOMAIN, a ClusterIP or a pod IP';

/** Parses `host` (any case, one trailing dot allowed); TARGET_NOT_FOUND says why it is no cluster name. */
export function parseDestination(host: string, rules: NameRules): Destination | KportError {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) return { kind: 'ip', ip: bare.toLowerCase() };
  const name = host.toLowerCase().replace(/\.$/, '');
  const notOurs = (why: string) => new KportError('TARGET_NOT_FOUND', `${JSON.stringify(host)} is not a cluster name (${why}; the gateway resolves ${FORMS})`);
  if (name === '' || name.length > 253) return notOurs('a name has 1 to 253 characters');
  const labels = name.split('.');
  const domain = ['svc', ...rules.clusterDomain.toLowerCase().split('.')];
  const inDomain = endsWith(labels, domain);
  const head = inDomain ? labels.slice(0, -domain.length) : endsWith(labels, ['svc']) ? labels.slice(0, -1) : null;
  // Without a .svc suffix only SVC and SVC.NS are cluster names; anything longer is a name from elsewhere.
  const parts = head ?? (labels.length <= 2 ? labels : null);
  if (parts === null) return notOurs(`it does not end in .svc or .svc.${rules.clusterDomain}`);
  if (parts.length === 1 && head === null) return service(parts[0]!, rules.namespace, notOurs);
  if (parts.length === 2) return service(parts[0]!, parts[1]!, notOurs);
  if (parts.length === 3) {
    const [hostname, svc, namespace] = parts as [string, string, string];
    const bad = invalid(hostname, DNS1123_LABEL, 'pod hostname') ?? invalid(svc, DNS1035_LABEL, 'service name') ?? invalid(namespace, DNS1123_LABEL, 'namespace');
    return bad ? notOurs(bad) : { kind: 'hostname', hostname, service: svc, namespace };
  }
  return notOurs(`${parts.length} names before .svc`);
}

function service(name: string, namespace: string, notOurs: (why: string) => KportError): Destination | KportError {
  const bad = invalid(name, DNS1035_LABEL, 'service name') ?? invalid(namespace, DNS1123_LABEL, 'namespace');
  return bad ? notOurs(bad) : { kind: 'service', service: name, namespace };
}

function invalid(value: string, rule: typeof DNS1123_LABEL, noun: string): string | null {
  const checked = checkName(rule, noun, value);
  return checked.ok ? null : checked.message;
}

function endsWith(labels: readonly string[], suffix: readonly string[]): boolean {
  return labels.length > suffix.length && suffix.every((s, i) => labels[labels.length - suffix.length + i] === s);
}

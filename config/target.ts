/**
 * Forward targets as kubectl port-forward writes them: `KIND/NAME`, with kubectl's short and plural kind names.
 * Selectors are the other kind of target; their labels are checked in the schema.
 */
import { didYouMean, fail, pass, quote, type Checked } from './issues.js';
import { checkName, DNS1035_LABEL, DNS1123_SUBDOMAIN, type NameRule } from './names.js';
import type { Target } from './types.js';

type NamedKind = Exclude<Target['kind'], 'selector'>;

/** Every kind word kubectl accepts for the kinds kport forwards to, mapped to the kind. */
export const TARGET_KINDS: Readonly<Record<string, NamedKind>> = {
  pod: 'pod',
  pods: 'pod',
  po: 'pod',
  service: 'service',
  services: 'service',
  svc: 'service',
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  replicaset: 'replicaset',
  replicasets: 'replicaset',
  rs: 'replicaset',
};

// Services are RFC 1035 labels; the other kinds are DNS subdomains (as the API server validates them).
const NAME_RULES: Readonly<Record<NamedKind, NameRule>> = {
  pod: DNS1123_SUBDOMAIN,
  service: DNS1035_LABEL,
  deployment: DNS1123_SUBDOMAIN,
  statefulset: DNS1123_SUBDOMAIN,
  replicaset: DNS1123_SUBDOMAIN,
};

/** The shape of a target; the JSON Schema uses it too. */
export const TARGET_PATTERN = new RegExp(`^(?:${Object.keys(TARGET_KINDS).join('|')})/.+$`);

const FORMS = 'write KIND/NAME with KIND one of pod, service (svc), deployment (deploy), statefulset (sts), replicaset (rs)';

/** Parses `KIND/NAME` into a target whose kind is the long name. */
export function parseTarget(text: string): Checked<Target> {
  const slash = text.indexOf('/');
  if (slash === -1) return fail(`${quote(text)} is not a target: ${FORMS}`);
  const word = text.slice(0, slash);
  const name = text.slice(slash + 1);
  const kind = Object.hasOwn(TARGET_KINDS, word) ? TARGET_KINDS[word] : undefined;
  if (kind === undefined) {
    const hint = didYouMean(word, Object.keys(TARGET_KINDS));
    return fail(`${quote(text)}: unknown kind ${quote(word)}${hint || `; ${FORMS}`}`);
  }
  const checked = checkName(NAME_RULES[kind], `${kind} name`, name);
  if (!checked.ok) return fail(`${quote(text)}: ${checked.message}`);
  return pass({ kind, name });
}

/**
 * Name rules as Kubernetes validates them (k8s.io/apimachinery/pkg/util/validation), plus kport's session names.
 * Each rule is data, so the same pattern checks the file and goes into the JSON Schema for editors.
 */
import { fail, pass, quote, type Checked } from './issues.js';

/** A length limit, a pattern and how to say what the pattern wants. */
export interface NameRule {
  max: number;
  pattern: RegExp;
  shape: string;
}

/** kport session names: what kportctl addresses. */
export const SESSION_NAME: NameRule = {
  max: 63,
  pattern: /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/,
  shape: "use lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
};

/** RFC 1123 label: namespaces. */
export const DNS1123_LABEL: NameRule = {
  max: 63,
  pattern: /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/,
  shape: "use lowercase letters, digits and '-', starting and ending with a letter or digit",
};

/** RFC 1123 subdomain: pods, deployments, statefulsets, replicasets, label key prefixes. */
export const DNS1123_SUBDOMAIN: NameRule = {
  max: 253,
  pattern: /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/,
  shape: "use lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit",
};

/** RFC 1035 label: services. */
export const DNS1035_LABEL: NameRule = {
  max: 63,
  pattern: /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/,
  shape: "use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
};

/** The name part of a label key, and a non-empty label value. */
export const LABEL_NAME: NameRule = {
  max: 63,
  pattern: /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
  shape: "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
};

/** Checks `value` against `rule`; `noun` names what it is in the message ("namespace", "service name"). */
export function checkName(rule: NameRule, noun: string, value: string): Checked<string> {
  if (value === '') return fail(`${noun} cannot be empty`);
  // Length first: it also keeps the patterns' backtracking bounded.
  if (value.length > rule.max) {
    return fail(`${quote(value)} is not a valid ${noun}: it has ${value.length} characters, at most ${rule.max} are allowed`);
  }
  if (!rule.pattern.test(value)) return fail(`${quote(value)} is not a valid ${noun}: ${rule.shape}`);
  return pass(value);
}

const PORT_NAME_CHARS = /^[-a-z0-9]+$/;

const PORT_NAME_MAX = 15;

/** IANA_SVC_NAME, as Kubernetes validates container and service port names. */
export function checkPortName(value: string): Checked<string> {
  const bad = (why: string): Checked<string> => fail(`${quote(value)} is not a valid port name: ${why}`);
  if (value.length > PORT_NAME_MAX) {
    return bad(`it has ${value.length} characters, at most ${PORT_NAME_MAX} are allowed`);
  }
  if (!PORT_NAME_CHARS.test(value)) return bad("use lowercase letters, digits and '-'");
  if (!/[a-z]/.test(value)) return bad('it needs at least one letter');
  if (value.startsWith('-') || value.endsWith('-')) return bad("it cannot start or end with '-'");
  if (value.includes('--')) return bad("it cannot contain '--'");
  return pass(value);
}

/** A label key: `name` or `prefix/name`, the prefix a DNS subdomain. */
export function checkLabelKey(key: string): Checked<string> {
  const slash = key.indexOf('/');
  if (slash !== -1) {
    const prefix = checkName(DNS1123_SUBDOMAIN, 'label key prefix', key.slice(0, slash));
    if (!prefix.ok) return prefix;
  }
  const name = checkName(LABEL_NAME, 'label key', key.slice(slash + 1));
  return name.ok ? pass(key) : name;
}

/** A label value: empty, or a label name. */
export function checkLabelValue(value: string): Checked<string> {
  return value === '' ? pass(value) : checkName(LABEL_NAME, 'label value', value);
}

// Control characters never appear in a context name, and are the usual sign of a pasting accident.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A kubeconfig context name. Kubernetes does not restrict these (EKS names them after ARNs, with ':' and '/';
 * GKE uses '_'), so only empty names and control characters are refused; existence is checked against the kubeconfig.
 */
export function checkContextName(value: string): Checked<string> {
  if (value === '') return fail('context cannot be empty');
  if (CONTROL.test(value)) return fail(`${quote(value)} is not a valid context name: it contains control characters`);
  return pass(value);
}

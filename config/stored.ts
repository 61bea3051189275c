/**
 * Sessions as kportd stores them (resolved specs, in sessions.json) turned back into the kport.yaml entries they
 * resolve from, every setting written out, so that kport.yaml's own schema checks them. A value without the
 * stored shape is passed on as it is, for the schema to report; `null` (what a resolved spec holds for a setting
 * not set) leaves the key out.
 */
import { isMapping } from './source.js';

type Pair = [string, unknown];

function target(value: unknown): Pair[] {
  if (!isMapping(value)) return [['target', value]];
  if (value.kind === 'selector') return [['selector', value.labels]];
  if (typeof value.kind === 'string' && typeof value.name === 'string') return [['target', `${value.kind}/${value.name}`]];
  return [['target', value]];
}

const ports = (value: unknown): Pair[] => [
  ['ports', Array.isArray(value) ? value.map((p) => (isMapping(p) && typeof p.spec === 'string' ? p.spec : p)) : value],
];

/** A stored path is already expanded: in kport.yaml a `$` it holds is written `$$`, or it would be expanded again. */
const literal = (value: unknown): unknown => (typeof value === 'string' ? value.replaceAll('$', () => '$$') : Array.isArray(value) ? value.map(literal) : value);
const path =
  (key: string) =>
  (value: unknown): Pair[] => [[key, literal(value)]];

/** Stored keys that are written differently in kport.yaml, or not at all (derived). */
const RENAMED: Readonly<Record<string, (value: unknown) => Pair[]>> = {
  kind: () => [],
  exposed: () => [],
  target,
  ports,
  addresses: (v) => [['address', v]],
  kubeconfig: path('kubeconfig'),
  www: path('www'),
  unixSocket: path('unixSocket'),
  connectTimeoutMs: (v) => [['connectTimeout', typeof v === 'number' ? `${v}ms` : v]],
  namespaceIdleMs: (v) => [['namespaceIdle', typeof v === 'number' ? `${v}ms` : v]],
};

/** The kport.yaml entry for a stored session (a mapping; its `kind` says which section it belongs to). */
export function entryOf(stored: Record<string, unknown>): Record<string, unknown> {
  const onSocket = typeof stored.unixSocket === 'string';
  const pairs = Object.entries(stored).flatMap(([key, value]): Pair[] => {
    if (value === null) return [];
    // A proxy on a Unix socket is stored with port 0 and no addresses: what resolving it gives, not what is written.
    if (onSocket && ((key === 'port' && value === 0) || (key === 'addresses' && Array.isArray(value) && value.length === 0))) return [];
    return Object.hasOwn(RENAMED, key) ? RENAMED[key]!(value) : [[key, value]];
  });
  // fromEntries defines own keys: a stored "__proto__" stays a key for the schema to refuse.
  return Object.fromEntries(pairs);
}

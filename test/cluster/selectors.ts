/**
 * Label and field selectors with the API server's query syntax
 * (`app=web,tier!=db,env in (a,b),!legacy`) and the structured LabelSelector of workloads.
 */

type Labels = Record<string, string> | undefined;

/** One parsed requirement; a selector matches when all of its requirements do. */
interface Requirement {
  key: string;
  op: 'eq' | 'ne' | 'in' | 'notin' | 'exists' | '!exists';
  values: string[];
}

/** A compiled selector: a predicate over a label map. */
export type LabelPredicate = (labels: Labels) => boolean;

/** Thrown for a malformed selector; the server answers 400 with its message. */
export class SelectorError extends Error {}

/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseRequirement(text: string): Requirement {
  const set = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (set) {
    const values = set[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '');
    return { key: set[1]!, op: set[2] as 'in' | 'notin', values };
  }
  const cmp = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(text);
  if (cmp) return { key: cmp[1]!, op: cmp[2] === '!=' ? 'ne' : 'eq', values: [cmp[3]!] };
  const exists = /^(!?)([^\s!=(),]+)$/.exec(text);
  if (exists) return { key: exists[2]!, op: exists[1] ? '!exists' : 'exists', values: [] };
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(text)}`);
}

function matches(req: Requirement, value: string | undefined): boolean {
  switch (req.op) {
    case 'eq':
      return value === req.values[0];
    case 'ne':
      return value !== req.values[0];
    case 'in':
      return value !== undefined && req.values.includes(value);
    case 'notin':
      return value === undefined || !req.values.includes(value);
    case 'exists':
      return value !== undefined;
    case '!exists':
      return value === undefined;
  }
}

function compile(requirements: Requirement[]): LabelPredicate {
  return (labels) => requirements.every((r) => matches(r, labels?.[r.key]));
}

/** Parses a `labelSelector` query value; an empty or missing one matches everything. */
export function parseLabelSelector(text: string | null): LabelPredicate {
  return compile(splitTop(text ?? '').map(parseRequirement));
}

/** Parses a `fieldSelector` into a predicate over an object (dotted paths, =, ==, !=). */
export function parseFieldSelector(text: string | null): (obj: object) => boolean {
  const reqs = splitTop(text ?? '').map((part) => {
    const r = parseRequirement(part);
    if (r.op !== 'eq' && r.op !== 'ne') throw new SelectorError(`field selectors support =, == and != only: ${part}`);
    return r;
  });
  return (obj) =>
    reqs.every((r) => {
      let v: unknown = obj;
      for (const k of r.key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
      return matches(r, v === undefined || v === null ? '' : String(v));
    });
}

/** A workload's structured selector (`matchLabels` + `matchExpressions`). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

const OPS = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const;

/** Compiles a structured LabelSelector; an empty selector matches everything (as Kubernetes has it). */
export function compileLabelSelector(sel: LabelSelector | undefined): LabelPredicate {
  const reqs: Requirement[] = Object.entries(sel?.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'eq', values: [v] }));
  for (const e of sel?.matchExpressions ?? []) reqs.push({ key: e.key, op: OPS[e.operator], values: e.values ?? [] });
  return compile(reqs);
}

/** True when every key of a Service-style selector map equals the label (a nil or empty map matches nothing). */
export function matchesServiceSelector(selector: Labels, labels: Labels): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/**
 * Runs a zod schema over parsed YAML and words its issues for people: one problem per unknown key (with "did you
 * mean"), type errors that show the value found, unions reported by the branch the value was meant for.
 */
import * as z from 'zod';
import { didYouMean, quote, type PathSegment, type Problem } from './issues.js';

type Issue = z.core.$ZodIssue;

/** The outcome of validating one value. */
export type Validated<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/** Validates `value` against `schema`, collecting every issue. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): Validated<z.output<S>> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: result.error.issues.flatMap((i) => toProblems(i, schema)) };
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/** How a found value is shown in "expected X, got Y". */
function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

function toProblems(iss: Issue, root: z.ZodType): Problem[] {
  const problem = (message: string, path: PathSegment[] = iss.path as PathSegment[]): Problem => ({
    severity: 'error',
    path,
    message,
  });
  switch (iss.code) {
    case 'unrecognized_keys': {
      const known = keysAt(root, iss.path as PathSegment[]);
      return iss.keys.map((key) => {
        const hint = didYouMean(key, known) || (known.length > 0 ? ` (keys here: ${known.join(', ')})` : '');
        return { ...problem(`unknown key ${quote(key)}${hint}`, [...(iss.path as PathSegment[]), key]), atKey: true };
      });
    }
    case 'invalid_type':
      if (iss.input === undefined) return [problem('is required')];
      return [problem(expected([iss.expected], iss.input))];
    case 'invalid_union': {
      // A value meant for one branch (a list where "string or list" is allowed) is judged by that branch alone.
      const meant = iss.errors.filter((branch) => !branch.some(isTopTypeMismatch));
      if (meant.length === 1) {
        return meant[0]!.flatMap((i) => toProblems({ ...i, path: [...iss.path, ...i.path] } as Issue, root));
      }
      const types = iss.errors.flatMap((branch) => branch.filter(isTopTypeMismatch).map((i) => i.expected));
      return [problem(iss.input === undefined ? 'is required' : expected(types, iss.input))];
    }
    case 'invalid_key':
      return [{ ...problem(iss.issues[0]?.message ?? 'invalid key'), atKey: true }];
    case 'invalid_value': {
      const choices = iss.values.map((v) => (typeof v === 'string' ? quote(v) : String(v)));
      const hint = typeof iss.input === 'string' ? didYouMean(iss.input, iss.values.map(String)) : '';
      return [problem(`expected one of ${choices.join(', ')}, got ${describeValue(iss.input)}${hint}`)];
    }
    case 'too_small':
      return [problem(iss.origin === 'array' ? `needs at least ${plural(Number(iss.minimum), 'item')}` : iss.message)];
    default:
      return [problem(iss.message)];
  }
}

function isTopTypeMismatch(i: Issue): i is Extract<Issue, { code: 'invalid_type' }> {
  return i.code === 'invalid_type' && i.path.length === 0;
}

function expected(types: readonly string[], input: unknown): string {
  const names = [...new Set(types.map((t) => TYPE_NAMES[t] ?? t))];
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? 'something else');
  // YAML reads 8080 as a number and "8080" as a string; say which way to write it.
  const numeric = names.includes('a number') || names.includes('a whole number');
  const hint =
    names.includes('a string') && (typeof input === 'number' || typeof input === 'boolean')
      ? ` (write it in quotes: "${String(input)}")`
      : numeric && typeof input === 'string' && /^\d+$/.test(input)
        ? ` (write it without quotes: ${input})`
        : '';
  return `expected ${list}, got ${describeValue(input)}${hint}`;
}

function plural(n: number, word: string): string {
  return n === 1 ? `one ${word}` : `${n} ${word}s`;
}

/** The part of a zod schema's internals walked here to find which keys an object allows. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

function defOf(schema: z.ZodType): Def {
  let def = schema._zod.def as unknown as Def;
  while (WRAPPERS.has(def.type) || def.type === 'pipe') {
    const inner = def.type === 'pipe' ? def.in : def.innerType;
    if (!inner) break;
    def = inner._zod.def as unknown as Def;
  }
  return def;
}

/** The keys the object at `path` in `schema` allows, for "did you mean"; empty when there is no such object. */
function keysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  const def = defOf(schema);
  if (def.type === 'union') {
    for (const option of def.options ?? []) {
      const keys = keysAt(option, path);
      if (keys.length > 0) return keys;
    }
    return [];
  }
  if (path.length === 0) return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
  const [head, ...rest] = path;
  const shape = def.shape ?? {};
  const next =
    typeof head === 'number'
      ? def.element
      : def.type === 'object'
        ? Object.hasOwn(shape, head!) ? shape[head!] : undefined
        : def.valueType;
  return next ? keysAt(next, rest) : [];
}

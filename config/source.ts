/**
 * Text to a YAML value, safely and with positions. Hostile input is refused before it can cost much: size first,
 * then text-ness, then nesting depth on the iterative CST (yaml's composer recurses, and a 100k-deep `[[[` or
 * `- - -` would overflow the stack or exhaust memory there), then alias expansion during toJS.
 */
import { Composer, isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, Parser, visit, type CST, type Document, type Node } from 'yaml';
import { fail, pass, quote, type Checked, type PathSegment, type Position, type Problem } from './issues.js';

/** What a parsed file may be: at most `maxBytes`, named `label` in the size message. */
export interface TextLimits {
  maxBytes: number;
  label: string;
}

/** kport.yaml's limits. */
export const KPORT_YAML_LIMITS: TextLimits = { maxBytes: 1024 * 1024, label: 'kport.yaml' };

/** Deepest nesting of collections accepted; kport.yaml needs 4. */
export const MAX_DEPTH = 64;

// yaml counts the nodes each alias expands to against this; a handful of shared anchors stays far below it.
const MAX_ALIAS_COUNT = 100;

/** Where a key path points in the parsed text, or null when nothing there was written. */
export type Locate = (path: readonly PathSegment[], atKey: boolean) => Position | null;

/** A parsed document: its plain value, how to find positions in it, and yaml's warnings. */
export type ParsedYaml =
  | { ok: true; value: unknown; locate: Locate; warnings: Problem[] }
  | { ok: false; problems: Problem[] };

/** True for what a YAML mapping parses to (not a list, not null). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MiB = 1024 * 1024;

function formatSize(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** The size check, shared by text and by files refused before they are read. */
export function checkSize(bytes: number, limits: TextLimits): Checked<number> {
  if (bytes <= limits.maxBytes) return pass(bytes);
  return fail(`file is ${formatSize(bytes)}; ${limits.label} is limited to ${formatSize(limits.maxBytes).replace('.0 ', ' ')}`);
}

/** Bytes to text: refuses invalid UTF-8 (binary files) with a message. */
export function decodeText(bytes: Uint8Array): Checked<string> {
  try {
    return pass(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return fail('not a text file: it is not valid UTF-8');
  }
}

/** Parses one YAML document under `limits`, collecting every syntax error. */
export function parseYaml(text: string, limits: TextLimits): ParsedYaml {
  const refuse = (message: string, pos: Position | null = null): ParsedYaml => ({
    ok: false,
    problems: [{ severity: 'error', path: [], message, pos }],
  });
  const size = checkSize(Buffer.byteLength(text), limits);
  if (!size.ok) return refuse(size.message);
  if (text.includes('\u0000')) return refuse('not a text file: it contains NUL bytes');

  const lines = lineStarts(text);
  const tokens = Array.from(new Parser().parse(text));
  const deep = firstTooDeep(tokens);
  if (deep !== null) return refuse(`nesting is deeper than ${MAX_DEPTH} levels`, lines.linePos(deep));

  const composer = new Composer({ prettyErrors: false, merge: true });
  const docs = composer.compose(tokens, true, text.length);
  const doc = docs.next().value as Document.Parsed;
  // Duplicate keys are independent of one another; any other syntax error sets off a cascade of errors further
  // down that are only its echoes (a missing "]" makes every later line look wrong): only the first is reported.
  const duplicates = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY');
  const syntax = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
  const problems: Problem[] = duplicates.map((e) => ({
    severity: 'error',
    path: [],
    message: `duplicate key ${quote(keyAt(text, e.pos[0]))}`,
    pos: lines.linePos(e.pos[0]),
  }));
  if (syntax) {
    // yaml notices an unclosed bracket or quote only where the text stops making sense: point at its opening.
    const opened = lastUnclosed(tokens, syntax.pos[0]);
    problems.push({
      severity: 'error',
      path: [],
      message: opened ? opened.message : syntax.message,
      pos: lines.linePos(opened ? opened.offset : syntax.pos[0]),
    });
    problems.sort((a, b) => (a.pos!.line - b.pos!.line) || (a.pos!.col - b.pos!.col));
  }
  const warnings: Problem[] = doc.warnings.map((e) => ({
    severity: 'warning',
    path: [],
    message: e.message,
    pos: lines.linePos(e.pos[0]),
  }));
  const second = docs.next();
  if (!second.done) {
    problems.push({
      severity: 'error',
      path: [],
      message: `${limits.label} holds one YAML document; a second one starts here`,
      pos: lines.linePos(second.value.range[0]),
    });
  }
  if (problems.length > 0) return { ok: false, problems: [...problems, ...warnings] };

  // yaml's toJS throws, unplaced, on an alias without an anchor and on a merge of a non-mapping: find them first.
  const unresolvable = firstUnresolvable(doc);
  if (unresolvable !== null) {
    const { message, offset } = unresolvable;
    return { ok: false, problems: [{ severity: 'error', path: [], message, pos: lines.linePos(offset) }, ...warnings] };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // What is left is yaml's ReferenceError for an excessive alias count; anything else is passed on as it is.
    const message =
      e instanceof ReferenceError
        ? 'aliases expand to too much data (an alias bomb?): use anchors to share small values only'
        : `cannot read this YAML: ${(e as Error).message}`;
    return { ok: false, problems: [{ severity: 'error', path: [], message, pos: null }, ...warnings] };
  }
  return { ok: true, value, warnings, locate: (path, atKey) => lines.linePos(offsetOf(doc, path, atKey)) };
}

/** Where each line of `text` starts. Not from the parser: it misses line breaks while it recovers from some syntax errors. */
function lineStarts(text: string): LineCounter {
  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) lines.addNewLine(nl + 1);
  return lines;
}

/** What a YAML node is, for messages. */
function kindOf(node: unknown): string {
  if (isMap(node)) return 'mapping';
  if (isSeq(node)) return 'list';
  if (!isScalar(node)) return 'value';
  const v = node.value;
  if (v === null) return 'empty value';
  return typeof v === 'boolean' ? 'true/false value' : typeof v === 'bigint' ? 'number' : typeof v;
}

const withArticle = (kind: string) => `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;

/**
 * The first alias with no anchor before it, or merge key (`<<`) whose source is neither a mapping nor a list of
 * mappings: where it is written and what is wrong. Anchors are collected in one pass in document order, the order
 * in which yaml resolves them (its own Alias.resolve walks the whole document per alias).
 */
function firstUnresolvable(doc: Document.Parsed): { offset: number; message: string } | null {
  const anchors = new Map<string, Node>();
  const resolved = (n: unknown) => (isAlias(n) ? anchors.get(n.source) : n);
  const named = (n: unknown) => (isAlias(n) ? `*${n.source}` : 'this');
  const at = (node: unknown, message: string) => ({ offset: startOf(node) ?? 0, message });
  const merge = (node: unknown, what: string) => at(node, `a merge (<<) needs a mapping, or a list of mappings: ${named(node)} is ${what}`);
  let found: { offset: number; message: string } | null = null;
  visit(doc, (_key, node) => {
    if (isAlias(node) && !anchors.has(node.source)) {
      found = at(node, `alias *${node.source} has no anchor &${node.source} before it`);
      return visit.BREAK;
    }
    if (isNode(node) && node.anchor) anchors.set(node.anchor, node);
    if (!isPair(node) || !isScalar(node.key) || typeof node.key.value !== 'symbol') return undefined;
    const source = resolved(node.value);
    // An alias with no anchor is reported when the walk reaches it.
    if (source === undefined || isMap(source)) return undefined;
    if (!isSeq(source)) {
      found = merge(node.value, withArticle(kindOf(source)));
      return visit.BREAK;
    }
    const item = source.items.find((i) => resolved(i) !== undefined && !isMap(resolved(i)));
    if (item === undefined) return undefined;
    // An aliased list is reported at the alias; a list written here, at its item.
    found = isAlias(node.value)
      ? merge(node.value, `a list of ${kindOf(resolved(item))}s`)
      : merge(item, withArticle(kindOf(resolved(item))));
    return visit.BREAK;
  });
  return found;
}

/** The key written at `offset` (yaml's duplicate-key error points there but does not name it). */
function keyAt(text: string, offset: number): string {
  return /^(.*?)\s*:(?:[ \t\r\n]|$)/.exec(text.slice(offset, offset + 1024))?.[1] ?? text.slice(offset, offset + 1);
}

const CLOSERS: Readonly<Record<string, { end: string; what: string }>> = {
  '[': { end: 'flow-seq-end', what: 'the list opened here with "[" is not closed: it needs a "]" (and lines inside it indented past its key)' },
  '{': { end: 'flow-map-end', what: 'the mapping opened here with "{" is not closed: it needs a "}" (and lines inside it indented past its key)' },
};

/** The last flow collection or quoted scalar opened before `offset` and never closed, walking the CST without recursion. */
function lastUnclosed(tokens: readonly CST.Token[], offset: number): { offset: number; message: string } | null {
  let found: { offset: number; message: string } | null = null;
  const consider = (at: number, message: string) => {
    if (at <= offset && (found === null || at > found.offset)) found = { offset: at, message };
  };
  const stack: Array<CST.Token | null | undefined> = [...tokens];
  while (stack.length > 0) {
    const token = stack.pop();
    if (!token) continue;
    if (token.type === 'document') stack.push(token.value);
    else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (token.type === 'flow-collection') {
        const closer = CLOSERS[token.start.source];
        if (closer && !token.end.some((t) => t.type === closer.end)) consider(token.offset, closer.what);
      }
      for (const item of token.items) {
        if ('key' in item) stack.push(item.key);
        stack.push(item.value);
      }
    } else if (token.type === 'double-quoted-scalar' || token.type === 'single-quoted-scalar') {
      const q = token.source[0]!;
      // A closing quote that is not itself escaped ('' inside single quotes and \" inside double ones are).
      const closed = token.source.length > 1 && token.source.endsWith(q) && (q === "'" || !/(^|[^\\])(\\\\)*\\"$/.test(token.source));
      if (!closed) consider(token.offset, `the text quoted here with ${q} is not closed: it needs a closing ${q}`);
    }
  }
  return found;
}

/** Offset of the first collection nested deeper than MAX_DEPTH, walking the CST without recursion. */
function firstTooDeep(tokens: readonly CST.Token[]): number | null {
  const stack: Array<{ token: CST.Token | null | undefined; depth: number }> = tokens.map((t) => ({ token: t, depth: 0 }));
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (!token) continue;
    if (token.type === 'document') {
      stack.push({ token: token.value, depth });
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > MAX_DEPTH) return token.offset;
      for (const item of token.items) {
        if ('key' in item) stack.push({ token: item.key, depth: depth + 1 });
        stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return null;
}

function startOf(node: unknown): number | null {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : null;
}

/** Offset of the node at `path` (of its key when `atKey`), else of the deepest ancestor that was written. */
function offsetOf(doc: Document.Parsed, path: readonly PathSegment[], atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const [i, seg] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (atKey && i === path.length - 1) return startOf(pair.key) ?? offset;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
    } else {
      break;
    }
    offset = startOf(node) ?? offset;
  }
  return offset;
}

/**
 * Issues as values: checks return problems addressed by key path; the loader turns them into ConfigIssues with
 * file positions. Also the shared wording helpers (quoting, "did you mean").
 */
import type { ConfigIssue } from './types.js';

/** One step of a key path: an object key or a list index. */
export type PathSegment = string | number;

/** A 1-based line and column. */
export interface Position {
  line: number;
  col: number;
}

/** A finding before it is placed in a file. */
export interface Problem {
  severity: 'error' | 'warning';
  /** Key path from the root of what is being checked (the file, or one entry). */
  path: PathSegment[];
  message: string;
  /** Point at the key itself rather than its value (an unknown key). */
  atKey?: boolean;
  /** A position already known (a YAML syntax error); null when the problem has none (file too large). */
  pos?: Position | null;
  /** Not about any place in the file checked (no kubeconfig found): reported with no file, position or path. */
  detached?: boolean;
}

/** The result of a check that either produces a value or says, in one sentence, what is wrong. */
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** Shorthand for a passing check. */
export function pass<T>(value: T): Checked<T> {
  return { ok: true, value };
}

/** Shorthand for a failing check. */
export function fail<T = never>(message: string): Checked<T> {
  return { ok: false, message };
}

/** Shorthand for an error problem. */
export function error(path: PathSegment[], message: string): Problem {
  return { severity: 'error', path, message };
}

/** Shorthand for a warning problem. */
export function warning(path: PathSegment[], message: string): Problem {
  return { severity: 'warning', path, message };
}

const MAX_QUOTED = 60;

/** A value quoted for a message, cut short so a megabyte string cannot flood the terminal. */
export function quote(text: string): string {
  const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
  return JSON.stringify(cut);
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['forwards', 1, 'ports', 0]` → `forwards[1].ports[0]`; odd keys (label keys with dots) are bracket-quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${quote(seg)}]`;
  }
  return out;
}

/** `FILE:LINE:COL: path: message`, leaving out what is null; warnings carry `warning:` after the location. */
export function formatIssue(i: ConfigIssue): string {
  const where = [i.file, i.line, i.col].filter((p) => p !== null).join(':');
  const parts = [where, i.severity === 'warning' ? 'warning' : '', i.path, i.message].filter((p) => p !== '');
  return parts.join(': ');
}

/** Edit distance (insert, delete, substitute, swap adjacent) between two short words. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

const MAX_SUGGESTED_LENGTH = 128;

/** `; did you mean "x"?` for the closest candidate within a third of the word's length, else an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  if (word.length > MAX_SUGGESTED_LENGTH) return '';
  const lower = word.toLowerCase();
  let best: string | null = null;
  let bestScore = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    if (c.length > MAX_SUGGESTED_LENGTH) continue;
    // Case alone never counts as a typo: "apiprefix" is one step from "apiPrefix".
    const score = c.toLowerCase() === lower ? 0.5 : distance(lower, c.toLowerCase());
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best === null ? '' : `; did you mean ${quote(best)}?`;
}

/**
 * Flag values checked on the client before anything is sent: mistakes here are usage errors (exit 2).
 * The daemon still validates every entry authoritatively; these only catch what cannot be sent at all.
 */
import { isAbsolute, resolve } from 'node:path';
import { parseDuration } from '../config/duration.js';
import { UsageError } from './command.js';

const NUMBER = /^\d+(?:\.\d+)?$/;

/** A duration flag: seconds (`45`, `0.5`) or text (`30s`, `2m`, `1m30s`), in milliseconds. */
export function durationMs(text: string, flag: string): number {
  const parsed = parseDuration(NUMBER.test(text) ? Number(text) : text);
  if (!parsed.ok) throw new UsageError(`--${flag}: ${parsed.message}`);
  return parsed.value;
}

/** A duration as kport.yaml takes it: a number of seconds stays a number, text stays text (checked first). */
export function durationEntry(text: string, flag: string): string | number {
  durationMs(text, flag);
  return NUMBER.test(text) ? Number(text) : text;
}

/** A whole number within [min, max]. */
export function integer(text: string, flag: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${flag}: ${JSON.stringify(text)} is not a whole number from ${min} to ${max}`);
  return n;
}

/** `app=web,tier=db` as labels (the daemon checks the label syntax). */
export function labels(text: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag}: ${JSON.stringify(pair)} is not KEY=VALUE (write app=web or app=web,tier=db)`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** A path made absolute against the caller's folder (kportd runs elsewhere); `~` and `$VAR` are left for kportd to expand. */
export function localPath(path: string, cwd: string): string {
  return isAbsolute(path) || path.startsWith('~') || path.startsWith('$') ? path : resolve(cwd, path);
}

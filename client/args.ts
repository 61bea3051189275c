/**
 * Flag values checked on the client before anything is sent: mistakes here are usage errors (exit 2).
 * The daemon still validates every entry authoritatively; these only catch what cannot be sent at all.
 */
import { delimiter, isAbsolute, resolve } from 'node:path';
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

/**
 * Addresses as kubectl's `--address` takes them: repeated, or comma-separated (`127.0.0.1,::1`); kportd checks each
 * (`localhost` is both loopbacks).
 */
export function addressList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = values.flatMap((v) => v.split(',')).map((a) => a.trim());
  if (list.some((a) => a === '')) throw new UsageError(`--address: ${JSON.stringify(values.join(','))} has an empty address`);
  return list;
}

/**
 * The kubeconfig a session is added with, as kubectl would read it: `--kubeconfig FILE`, else the caller's
 * $KUBECONFIG (a list), made absolute here since kportd runs elsewhere; undefined when neither is set, and the session
 * then uses kportd's (kport.yaml's `kubeconfig:`, else kportd's own environment).
 */
export function kubeconfigOf(flag: string | undefined, env: Record<string, string | undefined>, cwd: string): string[] | undefined {
  if (flag !== undefined) {
    if (flag === '') throw new UsageError('--kubeconfig: the path is empty');
    return [localPath(flag, cwd)];
  }
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  return list.length === 0 ? undefined : [...new Set(list.map((p) => localPath(p, cwd)))];
}

/** A path made absolute against the caller's folder (kportd runs elsewhere); `~` and `$VAR` are left for kportd to expand. */
export function localPath(path: string, cwd: string): string {
  return isAbsolute(path) || path.startsWith('~') || path.startsWith('$') ? path : resolve(cwd, path);
}

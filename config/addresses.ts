/**
 * Local bind addresses: IP literals (and `localhost`), which are loopback, and which overlap when bound to the same
 * port. Node listens on `::` dual-stack, so `::` overlaps every address, IPv4 too.
 */
import { isIP } from 'node:net';
import { fail, pass, quote, type Checked } from './issues.js';

/** The address used when none is written. */
export const LOOPBACK = '127.0.0.1';

/** Both loopbacks, as kubectl's `--address localhost` binds them. */
export const LOCALHOST: readonly string[] = [LOOPBACK, '::1'];

/**
 * Parses an IP literal into the canonical text used for comparisons and binding; `localhost` is both loopbacks,
 * 127.0.0.1 and ::1, as kubectl port-forward's `--address localhost`.
 */
export function parseAddress(text: string): Checked<string[]> {
  if (text === 'localhost') return pass([...LOCALHOST]);
  const family = isIP(text);
  if (family === 4) return pass([text]);
  // The URL parser prints IPv6 in its canonical compressed form, so "0:0:0:0:0:0:0:1" and "::1" compare equal;
  // it refuses zone ids (fe80::1%eth0), which are kept as written.
  if (family === 6 && text.includes('%')) return pass([text.toLowerCase()]);
  if (family === 6) return pass([new URL(`http://[${text}]/`).hostname.slice(1, -1)]);
  const hint = /^\[.*\]$/.test(text) ? ': write IPv6 addresses without brackets' : ' (or localhost)';
  return fail(`${quote(text)} is not an IP address${hint}`);
}

/** One address where only one is taken (the metrics server): an IP literal, or localhost as 127.0.0.1. */
export function parseOneAddress(text: string): Checked<string> {
  const parsed = parseAddress(text);
  return parsed.ok ? pass(parsed.value[0]!) : parsed;
}

/** True for 127.0.0.0/8 and ::1: reachable from this machine only. */
export function isLoopback(address: string): boolean {
  return address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}

/** True when binding `a` and `b` to the same port would collide. */
export function overlaps(a: string, b: string): boolean {
  if (a === b || a === '::' || b === '::') return true;
  return (a === '0.0.0.0' && isIP(b) === 4) || (b === '0.0.0.0' && isIP(a) === 4);
}

/** `host:port` as a user reads it, IPv6 in brackets. */
export function formatHostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Small, fixed-width renderings of numbers, times and addresses for tables and one-line messages. */
import type { SessionSpec } from '../../config/types.js';

export { clock, oneLine } from '../../daemon/api/terminal-text.js';

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes in SI units, at most 3 significant digits: `0 B`, `950 B`, `1.2 kB`, `34 MB`. */
export function bytes(n: number): string {
  let value = n;
  let unit = 0;
  // Round first so 999_960 B becomes "1.0 MB", not "1000 kB".
  while (unit < BYTE_UNITS.length - 1 && Number(value.toFixed(value < 10 ? 1 : 0)) >= 1000) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

const SPANS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** A span as its largest unit(s), rounded down: `45s`, `5m`, `3h`, `2d`; with `parts = 2`, `3h12m`. */
export function age(ms: number, parts = 1): string {
  let rest = Math.max(0, ms);
  const out: string[] = [];
  for (const [unit, size] of SPANS) {
    if (out.length === parts) break;
    const n = Math.floor(rest / size);
    if (n === 0 && out.length === 0 && unit !== 's') continue;
    // Within a multi-part span a zero unit still counts ("2h0m" would be noise): stop there.
    if (n === 0 && out.length > 0) break;
    out.push(`${n}${unit}`);
    rest -= n * size;
  }
  return out.join('');
}

/** The time since an ISO timestamp, as `age` renders it. */
export function since(iso: string, now: number): string {
  return age(now - Date.parse(iso));
}

/** `127.0.0.1:8080`, `[::1]:8080`, `127.0.0.1,[::1]:8080`, or the path of a Unix socket. */
export function endpoint(address: string | readonly string[], port: number | string): string {
  const list = typeof address === 'string' ? [address] : address;
  if (list.length === 1 && list[0]!.startsWith('/')) return list[0]!;
  return `${list.map((a) => (a.includes(':') ? `[${a}]` : a)).join(',')}:${port}`;
}

const SHORT_KIND = { pod: 'pod', service: 'svc', deployment: 'deploy', statefulset: 'sts', replicaset: 'rs' } as const;

/** What a session sends to, short: `svc/web`, `[app=web]` for a selector, `API (dev)` for a proxy, `cluster (dev)` for a gateway. */
export function target(spec: SessionSpec): string {
  if (spec.kind === 'proxy') return spec.context ? `API (${spec.context})` : 'API';
  if (spec.kind === 'gateway') return spec.context ? `cluster (${spec.context})` : 'cluster';
  const t = spec.target;
  if (t.kind === 'selector') return `[${Object.entries(t.labels).map(([k, v]) => `${k}=${v}`).join(',')}]`;
  return `${SHORT_KIND[t.kind]}/${t.name}`;
}

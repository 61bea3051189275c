/**
 * Checks across sessions: names are unique over forwards, proxies and gateways together (kportctl addresses sessions by
 * name), and no two enabled sessions bind the same local address and port or the same Unix socket.
 */
import { formatHostPort, overlaps } from './addresses.js';
import { error, formatPath, quote, type PathSegment, type Problem } from './issues.js';
import type { SessionSpec } from './types.js';

/**
 * A session taking part in the checks. `at` is its path in what is being checked; null for a session that already
 * exists elsewhere (the daemon's), which is only ever the earlier party and is named by `label`.
 */
export interface Claim {
  spec: SessionSpec;
  at: PathSegment[] | null;
  label: string;
}

/** A name as written in an entry, before or without full validation. */
export interface NameClaim {
  name: string;
  at: PathSegment[] | null;
  label: string;
}

/** One problem per name already used by an earlier claim; reported at the later one's `name`. */
export function duplicateNames(claims: readonly NameClaim[]): Problem[] {
  const seen = new Map<string, string>();
  const problems: Problem[] = [];
  for (const c of claims) {
    const first = seen.get(c.name);
    if (first === undefined) seen.set(c.name, c.label);
    else if (c.at !== null) problems.push(error([...c.at, 'name'], `${quote(c.name)} is already used by ${first}`));
  }
  return problems;
}

/** One local bind of a session: a port on some addresses (one per forward port spec), or a Unix socket. */
interface Bind {
  owner: Claim;
  path: PathSegment[] | null;
  /** How the bind is named when it is the earlier party. */
  label: string;
  port: number;
  addresses: string[];
  socket: string | null;
}

function bindsOf(c: Claim): Bind[] {
  const bind = (key: PathSegment[], port: number, addresses: string[], socket: string | null): Bind => {
    const path = c.at === null ? null : [...c.at, ...key];
    return { owner: c, path, label: path === null ? c.label : formatPath(path), port, addresses, socket };
  };
  const s = c.spec;
  if (s.kind === 'forward') return s.ports.map((p, i) => bind(['ports', i], p.local, s.addresses, null));
  if (s.kind === 'proxy' && s.unixSocket !== null) return [bind(['unixSocket'], 0, [], s.unixSocket)];
  return [bind(['port'], s.port, s.addresses, null)];
}

/**
 * One problem per bind that collides with an earlier one. Port 0 never collides; a wildcard collides with the
 * addresses it covers; disabled sessions bind nothing, so they take no part.
 */
export function clashingBinds(claims: readonly Claim[]): Problem[] {
  const byPort = new Map<number, Array<{ bind: Bind; address: string }>>();
  const bySocket = new Map<string, Bind>();
  const problems: Problem[] = [];
  for (const claim of claims) {
    if (!claim.spec.enabled) continue;
    for (const bind of bindsOf(claim)) {
      if (bind.socket !== null) {
        const earlier = bySocket.get(bind.socket);
        if (earlier === undefined) bySocket.set(bind.socket, bind);
        else if (bind.path) problems.push(error(bind.path, `${quote(bind.socket)} is already used by ${earlier.label}`));
        continue;
      }
      if (bind.port === 0) continue;
      let taken = byPort.get(bind.port);
      if (taken === undefined) byPort.set(bind.port, (taken = []));
      const message = clash(bind, taken);
      if (message !== null && bind.path) problems.push(error(bind.path, message));
      taken.push(...bind.addresses.map((address) => ({ bind, address })));
    }
  }
  return problems;
}

function clash(bind: Bind, taken: ReadonlyArray<{ bind: Bind; address: string }>): string | null {
  for (const address of bind.addresses) {
    const hit = taken.find((t) => overlaps(address, t.address));
    if (!hit) continue;
    // Within one forward, name the other port spec the way it reads in that forward.
    if (hit.bind.owner === bind.owner) {
      return `local port ${bind.port} is already used by ${formatPath(hit.bind.path?.slice(-2) ?? [])}`;
    }
    const mine = formatHostPort(address, bind.port);
    const theirs = formatHostPort(hit.address, bind.port);
    return mine === theirs
      ? `${mine} is already bound by ${hit.bind.label}`
      : `${mine} overlaps ${theirs}, bound by ${hit.bind.label}`;
  }
  return null;
}

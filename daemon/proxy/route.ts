/**
 * Where a request goes, decided the way kubectl proxy's Go handlers decide it: the request target is parsed
 * as Go's server parses it (an absolute-form URL's host wins over the Host header), the path is routed as
 * `http.ServeMux` routes it (unclean paths and a prefix without its slash are redirected, longest prefix
 * wins, anything else is 404), and the API prefix is stripped as kubectl's `stripLeaveSlash` strips it.
 * Pure: no I/O.
 */
import { posix } from 'node:path';

/** A parsed request target. */
export interface RequestTarget {
  /** The host the filter sees: from an absolute-form target, else the Host header ("" when none). */
  host: string;
  /** The path as sent (still percent-encoded). */
  rawPath: string;
  /** The decoded path, which rules and routing match. */
  path: string;
  /** The query with its "?", or "". */
  search: string;
}

/** Where a request is handled. */
export type Route =
  /** Relay to the API server: `rawPath` is what to append to the server URL; `filterPath` is what the filter matches. */
  | { kind: 'api'; filterPath: string; rawPath: string }
  /** Serve a file: `path` is relative to the www folder and starts with "/". */
  | { kind: 'static'; path: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'notFound' };

/** The prefixes a proxy serves, each ending with "/" (kubectl appends the slash when missing). */
export interface Prefixes {
  api: string;
  /** null when there is no www folder. */
  www: string | null;
}

/** Adds the trailing slash kubectl adds to --api-prefix and --www-prefix. */
export function withSlash(prefix: string): string {
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** Go's url.PathUnescape for a path: null on a malformed escape (Go's server answers 400). */
export function unescapePath(raw: string): string | null {
  if (!raw.includes('%')) return raw;
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) return null;
  // Node hands the request line over as latin1; decode the escaped bytes together with it, then read UTF-8.
  const bytes = raw.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)(.*)$/;

/** Parses `req.url` (origin-form or absolute-form) with the Host header; null when Go would answer 400. */
export function parseTarget(url: string, hostHeader: string | undefined): RequestTarget | null {
  let host = hostHeader ?? '';
  let rest = url;
  const absolute = ABSOLUTE.exec(url);
  if (absolute) {
    host = absolute[1]!.replace(/^.*@/, '');
    rest = absolute[2] || '/';
  }
  if (!rest.startsWith('/')) return null;
  const q = rest.indexOf('?');
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  const search = q < 0 ? '' : rest.slice(q);
  const path = unescapePath(rawPath);
  return path === null ? null : { host, rawPath, path, search };
}

/** Go's ServeMux cleanPath: path.Clean, keeping a trailing slash. */
export function cleanPath(path: string): string {
  if (path === '') return '/';
  const rooted = path.startsWith('/') ? path : `/${path}`;
  const clean = posix.normalize(rooted);
  return clean !== '/' && rooted.endsWith('/') && !clean.endsWith('/') ? `${clean}/` : clean;
}

/** Escapes a decoded path for a Location header or an upstream request line (keeping `:` and `@`, as Go does). */
export function escapePath(path: string): string {
  return encodeURI(path).replace(/[?#]/g, encodeURIComponent);
}

/** Routes one request target; mirrors ServeMux (redirects, longest prefix) and kubectl's prefix stripping. */
export function route(target: RequestTarget, prefixes: Prefixes): Route {
  const { path, rawPath, search } = target;
  const clean = cleanPath(path);
  if (clean !== path) return { kind: 'redirect', location: escapePath(clean) + search };
  const candidates = [prefixes.api, prefixes.www].filter((p): p is string => p !== null);
  // A subtree requested without its slash is redirected to it, before any matching, as ServeMux does.
  if (candidates.includes(`${path}/`)) return { kind: 'redirect', location: escapePath(`${path}/`) + search };
  const best = candidates.filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
  if (best === undefined) return { kind: 'notFound' };
  if (best === prefixes.www && best !== prefixes.api) return { kind: 'static', path: path.slice(best.length - 1) };
  // kubectl leaves prefixes starting with /api in place: /api/ and /apis/ are real API paths.
  if (best.startsWith('/api')) return { kind: 'api', filterPath: path, rawPath };
  const filterPath = leaveSlash(path.slice(best.length));
  const strippedRaw = rawPath.startsWith(best) ? rawPath.slice(best.length) : escapePath(path.slice(best.length));
  return { kind: 'api', filterPath, rawPath: leaveSlash(strippedRaw) || '/' };
}

/** kubectl's stripLeaveSlash: the stripped path keeps (or regains) its leading slash, except when empty. */
function leaveSlash(p: string): string {
  return p === '' || p.startsWith('/') ? p : `/${p}`;
}

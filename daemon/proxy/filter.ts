/**
 * The request filter of a proxy session, with the semantics of kubectl proxy's `FilterServer`
 * (staging/src/k8s.io/kubectl/pkg/proxy/proxy_server.go): a request is refused when its path matches a
 * rejectPaths rule or its method a rejectMethods rule; otherwise it passes only when its path matches an
 * acceptPaths rule and its host an acceptHosts rule. Rules are unanchored regular expressions, as Go's
 * `MatchString` applies them. Pure: no I/O, no state.
 */

/** The four rule lists of a ProxySpec, as regular-expression sources. */
export interface FilterRules {
  acceptPaths: readonly string[];
  rejectPaths: readonly string[];
  acceptHosts: readonly string[];
  rejectMethods: readonly string[];
}

/** A compiled filter: `accept` decides, `rejection` says why not (for the debug log). */
export interface RequestFilter {
  /** True when kubectl proxy would pass this request on. */
  accept(method: string, path: string, host: string): boolean;
  /** Why the request is refused, or null when it is accepted. */
  rejection(method: string, path: string, host: string): string | null;
}

interface Compiled {
  source: string;
  test(value: string): boolean;
}

/**
 * A rule of literal text joined by `.*`, either end anchored or not (every default is one), as a linear-time test
 * with Go's meaning of `.`: anything but a newline. JavaScript's backtracking engine takes quadratic time on such
 * rules (`^/api/.*\/pods/.*\/exec` against a 16 KB path of `/pods/` segments: 0.1 s of the event loop per
 * request), where kubectl's RE2 is linear. Null for any other rule.
 */
function literalRule(source: string): ((value: string) => boolean) | null {
  const shape = /^(\^?)((?:[^\\^$.|?*+()[\]{}\n\r]|\\[^A-Za-z0-9\n\r]|\.\*)*)(\$?)$/.exec(source);
  if (!shape) return null;
  const [, start, body, end] = shape;
  const parts: string[] = [];
  let part = '';
  for (let i = 0; i < body!.length; i++) {
    if (body!.startsWith('.*', i)) {
      parts.push(part);
      part = '';
      i++;
    } else part += body![i] === '\\' ? body![++i] : body![i];
  }
  parts.push(part);
  const [first, last] = [parts[0]!, parts[parts.length - 1]!];
  // Each part at its earliest place after the one before leaves the most room for the rest.
  const inLine = (line: string): boolean => {
    if (parts.length === 1) return start && end ? line === first : start ? line.startsWith(first) : end ? line.endsWith(first) : line.includes(first);
    let at = start ? (line.startsWith(first) ? first.length : -1) : line.indexOf(first);
    if (at < 0) return false;
    if (!start) at += first.length;
    for (let i = 1; i < parts.length - 1 && at >= 0; i++) {
      const found = line.indexOf(parts[i]!, at);
      at = found < 0 ? -1 : found + parts[i]!.length;
    }
    if (at < 0) return false;
    return end ? line.length - last.length >= at && line.endsWith(last) : line.includes(last, at);
  };
  // `^` is the value's start and `$` its end: a match lies within one line, the first or the last.
  return (value) => {
    if (!value.includes('\n')) return inLine(value);
    const lines = value.split('\n');
    if (start && end) return false;
    if (start) return inLine(lines[0]!);
    if (end) return inLine(lines[lines.length - 1]!);
    return lines.some(inLine);
  };
}

function compile(sources: readonly string[]): Compiled[] {
  return sources.map((source) => {
    const literal = literalRule(source);
    if (literal) return { source, test: literal };
    const re = new RegExp(source);
    return { source, test: (value) => re.test(value) };
  });
}

function firstMatch(value: string, rules: readonly Compiled[]): string | null {
  for (const r of rules) if (r.test(value)) return r.source;
  return null;
}

/** Compiles the rules once; the sources were validated by the config loader, so this does not throw for them. */
export function compileFilter(rules: FilterRules): RequestFilter {
  const rejectPaths = compile(rules.rejectPaths);
  const rejectMethods = compile(rules.rejectMethods);
  const acceptPaths = compile(rules.acceptPaths);
  const acceptHosts = compile(rules.acceptHosts);
  // The order is kubectl's: rejections first, then both accept lists must match.
  const rejection = (method: string, path: string, host: string): string | null => {
    const rejectedPath = firstMatch(path, rejectPaths);
    if (rejectedPath !== null) return `path ${JSON.stringify(path)} matches rejectPaths ${JSON.stringify(rejectedPath)}`;
    const rejectedMethod = firstMatch(method, rejectMethods);
    if (rejectedMethod !== null) return `method ${method} matches rejectMethods ${JSON.stringify(rejectedMethod)}`;
    if (firstMatch(path, acceptPaths) === null) return `path ${JSON.stringify(path)} matches no acceptPaths rule`;
    if (firstMatch(host, acceptHosts) === null) return `host ${JSON.stringify(host)} matches no acceptHosts rule`;
    return null;
  };
  return { rejection, accept: (method, path, host) => rejection(method, path, host) === null };
}

/**
 * Go's `net.SplitHostPort`: splits `host:port` and `[v6]:port`; null where Go returns an error
 * (no colon, a bare IPv6 address, a bracketed host without a port, stray brackets).
 */
export function splitHostPort(hostport: string): { host: string; port: string } | null {
  const colon = hostport.lastIndexOf(':');
  if (colon < 0) return null;
  let host: string;
  let from = 0;
  let to = 0;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0 || end + 1 !== colon) return null;
    host = hostport.slice(1, end);
    from = 1;
    to = end + 1;
  } else {
    host = hostport.slice(0, colon);
    if (host.includes(':')) return null;
  }
  if (hostport.indexOf('[', from) >= 0 || hostport.indexOf(']', to) >= 0) return null;
  return { host, port: hostport.slice(colon + 1) };
}

/**
 * The host the filter matches, as kubectl's `extractHost` derives it from the request's Host: the host part
 * when Go's SplitHostPort succeeds, else the whole value. So `localhost` stays `localhost`, `[::1]` stays
 * `[::1]`, but `[::1]:8001` becomes `::1` — which the default `^\[::1\]$` rule does not accept, in kubectl too.
 */
export function filterHost(hostHeader: string): string {
  return splitHostPort(hostHeader)?.host ?? hostHeader;
}

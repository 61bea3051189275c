/**
 * Validated entries to resolved specs: the one place defaults are merged (from DEFAULTS, the defaults section and
 * the kubeconfig), contexts are checked against the kubeconfig, paths are expanded and exposure is flagged.
 */
import { Buffer } from 'node:buffer';
import { isLoopback } from './addresses.js';
import { DEFAULTS } from './defaults.js';
import { didYouMean, error, fail, pass, quote, warning, type Checked, type PathSegment, type Problem } from './issues.js';
import type { KubeconfigView } from './kubeconfig.js';
import { expandPath } from './paths.js';
import type { RawDefaults, RawForward, RawGateway, RawMetrics, RawProxy } from './schema.js';
import type { ConfigDefaults, ConfigEnv, ForwardSpec, GatewaySpec, MetricsSpec, ProxySpec } from './types.js';

/** What every entry resolves against. */
export interface ResolveBase {
  defaults: ConfigDefaults;
  /** The merged kubeconfig, or null when it could not be read (contexts are then not checked). */
  kube: KubeconfigView | null;
  /** Folder that relative paths are relative to: the config file's, else the working directory. */
  baseDir: string;
  env: ConfigEnv;
}

/** A resolved value and what was found on the way. */
export interface Resolved<T> {
  value: T;
  problems: Problem[];
}

const DEFAULTS_PATH = ['defaults'];

/** Linux truncates longer Unix socket paths silently (sun_path is 108 bytes with the terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

const MAX_LISTED_CONTEXTS = 10;

/** Whether the kubeconfig has `name`, and its namespace. */
function lookUpContext(kube: KubeconfigView, name: string): Checked<string | null> {
  const found = kube.contexts.get(name);
  if (found) return pass(found.namespace);
  const names = [...kube.contexts.keys()];
  const more = names.length > MAX_LISTED_CONTEXTS ? `, … (${names.length} in all)` : '';
  const listed = names.length === 0 ? 'it has no contexts' : `contexts: ${names.slice(0, MAX_LISTED_CONTEXTS).join(', ')}${more}`;
  return fail(`context ${quote(name)} is not in the kubeconfig (${listed})${didYouMean(name, names)}`);
}

/** The defaults section with the built-in defaults merged in. */
export function defaultsFrom(raw: RawDefaults | null | undefined): ConfigDefaults {
  return {
    context: raw?.context ?? null,
    namespace: raw?.namespace ?? null,
    addresses: raw?.address ?? [...DEFAULTS.addresses],
    connectTimeoutMs: raw?.connectTimeout ?? DEFAULTS.connectTimeoutMs,
    transport: raw?.transport ?? DEFAULTS.transport,
  };
}

/** Checks defaults.context against the kubeconfig: once, not again for every entry inheriting it. */
export function checkDefaults(defaults: ConfigDefaults, kube: KubeconfigView | null): Problem[] {
  if (kube === null || defaults.context === null) return [];
  const found = lookUpContext(kube, defaults.context);
  return found.ok ? [] : [error([...DEFAULTS_PATH, 'context'], found.message)];
}

type ContextUse = { context: string | null; namespace: string | null };

/**
 * The context an entry uses and the namespace that context brings, with problems reported at the entry. An entry with
 * its own kubeconfig (`ownKubeconfig`) defaults to that kubeconfig's current-context, as kubectl would, not to
 * defaults.context (a context of the file's kubeconfig).
 */
function resolveContext(written: string | undefined, at: PathSegment[], base: ResolveBase, ownKubeconfig: boolean): Resolved<ContextUse> {
  const here = [...at, 'context'];
  const { kube } = base;
  const inherited = ownKubeconfig ? null : base.defaults.context;
  const name = written ?? inherited ?? kube?.currentContext ?? null;
  const unchecked = { value: { context: name, namespace: null }, problems: [] };
  if (kube === null) return unchecked;
  if (name === null) {
    const message = 'no context: set one here or in defaults, or set current-context in the kubeconfig';
    return { ...unchecked, problems: [error(here, message)] };
  }
  const found = lookUpContext(kube, name);
  if (found.ok) return { value: { context: name, namespace: found.value }, problems: [] };
  // A bad defaults.context was reported once, at defaults.
  if (written === undefined && inherited !== null) return unchecked;
  const message = written === undefined ? `the kubeconfig's current-context: ${found.message}` : found.message;
  return { ...unchecked, problems: [error(here, message)] };
}

type Binding = { addresses: string[]; exposed: boolean };

/** Bind addresses with the defaults applied, and a warning when any of them reaches beyond this machine. */
function resolveAddresses(
  written: string[] | undefined,
  at: PathSegment[],
  who: { kind: string; name: string },
  base: ResolveBase,
): Resolved<Binding> {
  const addresses = written ?? [...base.defaults.addresses];
  const open = addresses.filter((a) => !isLoopback(a));
  if (open.length === 0) return { value: { addresses, exposed: false }, problems: [] };
  const problem = written
    ? exposure([...at, 'address'], open, `this ${who.kind}`)
    : exposure([...DEFAULTS_PATH, 'address'], open, `${who.kind} ${quote(who.name)}`);
  return { value: { addresses, exposed: true }, problems: [problem] };
}

/** The warning for `open` (non-loopback addresses) letting the network reach `what`. */
function exposure(at: PathSegment[], open: string[], what: string): Problem {
  return warning(at, `${open.map(quote).join(', ')} ${open.length === 1 ? 'exposes' : 'expose'} ${what} beyond this machine`);
}

/** The metrics section with its default address; absent or empty means no metrics server. */
export function resolveMetrics(raw: RawMetrics | null | undefined): Resolved<MetricsSpec | null> {
  if (!raw) return { value: null, problems: [] };
  const address = raw.address ?? DEFAULTS.metrics.address;
  const problems = isLoopback(address) ? [] : [exposure(['metrics', 'address'], [address], "kportd's metrics")];
  return { value: { address, port: raw.port }, problems };
}

/** An optional path key, expanded; a problem at the key when it cannot be. */
function resolvePath(written: string | undefined, path: PathSegment[], base: ResolveBase): Resolved<string | null> {
  if (written === undefined) return { value: null, problems: [] };
  const expanded = expandPath(written, base.env, base.baseDir);
  if (expanded.ok) return { value: expanded.value, problems: [] };
  return { value: null, problems: [error(path, expanded.message)] };
}

/** A Unix socket path, expanded, and refused when Linux would truncate it. */
function resolveSocket(written: string | undefined, path: PathSegment[], base: ResolveBase): Resolved<string | null> {
  const socket = resolvePath(written, path, base);
  const bytes = socket.value === null ? 0 : Buffer.byteLength(socket.value);
  if (bytes <= MAX_SOCKET_PATH_BYTES) return socket;
  const message = `${quote(socket.value!)} is ${bytes} bytes; Unix socket paths are limited to ${MAX_SOCKET_PATH_BYTES}`;
  return { value: socket.value, problems: [error(path, message)] };
}

/**
 * An entry's own `kubeconfig:` expanded into absolute paths; null when it names none (the file's kubeconfig applies).
 * Its contexts are checked when `base.kube` is its view: callers read it first (see load.ts).
 */
export function entryKubeconfig(
  written: string | string[] | undefined,
  at: PathSegment[],
  base: Pick<ResolveBase, 'env' | 'baseDir'>,
): Resolved<string[] | null> {
  if (written === undefined) return { value: null, problems: [] };
  const list = typeof written === 'string' ? [{ text: written, at: [...at, 'kubeconfig'] }] : written.map((text, i) => ({ text, at: [...at, 'kubeconfig', i] }));
  const files: string[] = [];
  const problems: Problem[] = [];
  for (const item of list) {
    const expanded = expandPath(item.text, base.env, base.baseDir);
    if (expanded.ok) files.push(expanded.value);
    else problems.push(error(item.at, expanded.message));
  }
  return { value: [...new Set(files)], problems };
}

/** An entry's namespace: its own, else defaults.namespace, else its context's, else "default". */
function namespaceOf(written: string | undefined, ctx: ContextUse, base: ResolveBase): string {
  return written ?? base.defaults.namespace ?? ctx.namespace ?? DEFAULTS.namespace;
}

/** Resolves one forward at `at` (its path in the file, or [] for an entry on its own). */
export function resolveForward(raw: RawForward, at: PathSegment[], base: ResolveBase): Resolved<ForwardSpec> {
  const ctx = resolveContext(raw.context, at, base, raw.kubeconfig !== undefined);
  const kubeconfig = entryKubeconfig(raw.kubeconfig, at, base);
  const bind = resolveAddresses(raw.address, at, { kind: 'forward', name: raw.name }, base);
  const value: ForwardSpec = {
    kind: 'forward',
    name: raw.name,
    context: ctx.value.context,
    kubeconfig: kubeconfig.value,
    namespace: namespaceOf(raw.namespace, ctx.value, base),
    // The schema lets exactly one of the two through.
    target: raw.target ?? { kind: 'selector', labels: { ...raw.selector } },
    ports: raw.ports,
    addresses: bind.value.addresses,
    exposed: bind.value.exposed,
    balance: raw.balance ?? DEFAULTS.balance,
    connectTimeoutMs: raw.connectTimeout ?? base.defaults.connectTimeoutMs,
    transport: raw.transport ?? base.defaults.transport,
    enabled: raw.enabled ?? DEFAULTS.enabled,
  };
  return { value, problems: [...ctx.problems, ...kubeconfig.problems, ...bind.problems] };
}

const FILTER_OFF = 'the request filter is off: any local process or web page can reach the API server with your credentials';

/** Resolves one proxy at `at`. */
export function resolveProxy(raw: RawProxy, at: PathSegment[], base: ResolveBase): Resolved<ProxySpec> {
  const ctx = resolveContext(raw.context, at, base, raw.kubeconfig !== undefined);
  const kubeconfig = entryKubeconfig(raw.kubeconfig, at, base);
  const socket = resolveSocket(raw.unixSocket, [...at, 'unixSocket'], base);
  const www = resolvePath(raw.www, [...at, 'www'], base);
  const onSocket = raw.unixSocket !== undefined;
  const bind: Resolved<Binding> = onSocket
    ? { value: { addresses: [], exposed: false }, problems: [] }
    : resolveAddresses(raw.address, at, { kind: 'proxy', name: raw.name }, base);
  const disableFilter = raw.disableFilter ?? DEFAULTS.proxy.disableFilter;
  const value: ProxySpec = {
    kind: 'proxy',
    name: raw.name,
    context: ctx.value.context,
    kubeconfig: kubeconfig.value,
    port: onSocket ? 0 : (raw.port ?? DEFAULTS.proxy.port),
    addresses: bind.value.addresses,
    exposed: bind.value.exposed,
    unixSocket: socket.value,
    apiPrefix: raw.apiPrefix ?? DEFAULTS.proxy.apiPrefix,
    acceptPaths: raw.acceptPaths ?? [...DEFAULTS.proxy.acceptPaths],
    rejectPaths: raw.rejectPaths ?? [...DEFAULTS.proxy.rejectPaths],
    acceptHosts: raw.acceptHosts ?? [...DEFAULTS.proxy.acceptHosts],
    rejectMethods: raw.rejectMethods ?? [...DEFAULTS.proxy.rejectMethods],
    disableFilter,
    www: www.value,
    wwwPrefix: raw.wwwPrefix ?? DEFAULTS.proxy.wwwPrefix,
    enabled: raw.enabled ?? DEFAULTS.enabled,
  };
  const filterOff = disableFilter ? [warning([...at, 'disableFilter'], FILTER_OFF)] : [];
  return { value, problems: [...ctx.problems, ...kubeconfig.problems, ...socket.problems, ...bind.problems, ...filterOff, ...www.problems] };
}

/** Resolves one gateway at `at`. Its namespace must be one it may reach: bare names resolve there. */
export function resolveGateway(raw: RawGateway, at: PathSegment[], base: ResolveBase): Resolved<GatewaySpec> {
  const ctx = resolveContext(raw.context, at, base, raw.kubeconfig !== undefined);
  const kubeconfig = entryKubeconfig(raw.kubeconfig, at, base);
  const bind = resolveAddresses(raw.address, at, { kind: 'gateway', name: raw.name }, base);
  const namespace = namespaceOf(raw.namespace, ctx.value, base);
  const namespaces = raw.namespaces ?? null;
  const value: GatewaySpec = {
    kind: 'gateway',
    name: raw.name,
    context: ctx.value.context,
    kubeconfig: kubeconfig.value,
    namespace,
    port: raw.port ?? DEFAULTS.gateway.port,
    addresses: bind.value.addresses,
    exposed: bind.value.exposed,
    clusterDomain: raw.clusterDomain ?? DEFAULTS.gateway.clusterDomain,
    namespaces,
    connectTimeoutMs: raw.connectTimeout ?? base.defaults.connectTimeoutMs,
    transport: raw.transport ?? base.defaults.transport,
    namespaceIdleMs: raw.namespaceIdle ?? DEFAULTS.gateway.namespaceIdleMs,
    enabled: raw.enabled ?? DEFAULTS.enabled,
  };
  const outside =
    namespaces !== null && !namespaces.includes(namespace)
      ? [error([...at, 'namespaces'], `the gateway's namespace ${quote(namespace)} is not in this list: bare names (\`web\`) resolve there and would always be refused`)]
      : [];
  return { value, problems: [...ctx.problems, ...kubeconfig.problems, ...bind.problems, ...outside] };
}

/**
 * The resolved desired state: what kport.yaml asks for once every default is applied. Every value is plain JSON
 * (no RegExp, no Map, no undefined) because specs cross the RPC socket and are compared by value.
 */

/** One finding about a configuration: an error stops the load, a warning does not. */
export interface ConfigIssue {
  severity: 'error' | 'warning';
  /** The file the issue is in, as the caller named it; null for an entry checked on its own. */
  file: string | null;
  /** 1-based position of the offending key or value; null when there is none. */
  line: number | null;
  col: number | null;
  /** Key path such as `forwards[1].ports[0]`; empty when the issue is about the whole file. */
  path: string;
  message: string;
}

/** What a forward connects to: one named object, or any ready pod matching labels. */
export type Target =
  | { kind: 'pod' | 'service' | 'deployment' | 'statefulset' | 'replicaset'; name: string }
  | { kind: 'selector'; labels: Record<string, string> };

/** One `LOCAL:REMOTE` pair of a forward. */
export interface PortMapping {
  /** Local port; 0 means any free port. */
  local: number;
  /** Remote port number, or a port name resolved against the service or pod. */
  remote: number | string;
  /** The spec as written, for messages and listings. */
  spec: string;
}

/**
 * How a forward reaches its pods: `auto` tries kubectl's order (SPDY, SPDY tunnelled in a WebSocket,
 * then one v4 WebSocket per connection) and remembers what worked per cluster; the others pin one.
 */
export const TRANSPORT_CHOICES = ['auto', 'spdy', 'spdy-websocket', 'websocket'] as const;
export type TransportChoice = (typeof TRANSPORT_CHOICES)[number];

/** A resolved `forwards[]` entry. */
export interface ForwardSpec {
  kind: 'forward';
  name: string;
  /** null only when the kubeconfig could not be read: then it means the current-context. */
  context: string | null;
  /** This forward's own kubeconfig files (absolute, merged in order), or null: the file's (DesiredState.kubeconfig). */
  kubeconfig: string[] | null;
  namespace: string;
  target: Target;
  ports: PortMapping[];
  /** Local bind addresses (IP literals; "localhost" becomes 127.0.0.1). */
  addresses: string[];
  /** True when any bind address is not loopback. */
  exposed: boolean;
  balance: 'round-robin' | 'first';
  connectTimeoutMs: number;
  transport: TransportChoice;
  enabled: boolean;
}

/** A resolved `proxies[]` entry, with kubectl proxy's options. */
export interface ProxySpec {
  kind: 'proxy';
  name: string;
  context: string | null;
  /** This proxy's own kubeconfig files, or null: the file's. */
  kubeconfig: string[] | null;
  /** Local port; 0 means any free port; 0 too when unixSocket is set. */
  port: number;
  /** Local bind addresses; empty when unixSocket is set. */
  addresses: string[];
  exposed: boolean;
  /** Absolute socket path; when set there is no TCP listener. */
  unixSocket: string | null;
  apiPrefix: string;
  acceptPaths: string[];
  rejectPaths: string[];
  acceptHosts: string[];
  rejectMethods: string[];
  disableFilter: boolean;
  /** Absolute folder served under wwwPrefix, or null. */
  www: string | null;
  wwwPrefix: string;
  enabled: boolean;
}

/**
 * A resolved `gateways[]` entry: one local port speaking SOCKS5 and HTTP proxy, reaching services and pods by their
 * cluster names (SVC.NS.svc.DOMAIN, …) through port-forward streams, as a forward's connections are carried.
 */
export interface GatewaySpec {
  kind: 'gateway';
  name: string;
  context: string | null;
  /** This gateway's own kubeconfig files, or null: the file's. */
  kubeconfig: string[] | null;
  /** Namespace of bare names (`web`). */
  namespace: string;
  /** Local port; 0 means any free port. */
  port: number;
  addresses: string[];
  exposed: boolean;
  /** The cluster's DNS domain: names end in `.svc.` + this. */
  clusterDomain: string;
  /** The only namespaces that may be reached; null: every namespace. */
  namespaces: string[] | null;
  connectTimeoutMs: number;
  transport: TransportChoice;
  /** How long a namespace's watches outlive its last connection. */
  namespaceIdleMs: number;
  enabled: boolean;
}

/** A forward, a proxy or a gateway: what kportctl lists and addresses by name. */
export type SessionSpec = ForwardSpec | ProxySpec | GatewaySpec;

/** The kinds of session, as kport.yaml's sections and session.add name them. */
export const SESSION_KINDS = ['forward', 'proxy', 'gateway'] as const satisfies readonly SessionSpec['kind'][];
export type SessionKind = SessionSpec['kind'];

/** The `defaults:` section as resolved: what a session added later (kportctl add) inherits. */
export interface ConfigDefaults {
  /** As written; null when not set (then the kubeconfig's current-context applies). */
  context: string | null;
  /** As written; null when not set (then the context's namespace, else "default"). */
  namespace: string | null;
  addresses: string[];
  connectTimeoutMs: number;
  transport: TransportChoice;
}

/** The resolved `metrics:` section: where kportd serves Prometheus metrics (`GET /metrics`). */
export interface MetricsSpec {
  /** One IP literal ("localhost" becomes 127.0.0.1). */
  address: string;
  /** 0 means any free port. */
  port: number;
}

/** Everything kport.yaml declares, fully defaulted. */
export interface DesiredState {
  /** Absolute path of the file loaded, or null for text loaded from elsewhere. */
  file: string | null;
  /** Absolute kubeconfig paths, merged in this order as kubectl merges them. */
  kubeconfig: string[];
  defaults: ConfigDefaults;
  forwards: ForwardSpec[];
  proxies: ProxySpec[];
  gateways: GatewaySpec[];
  /** null when the file has no `metrics:` section (or an empty one): then kportd serves no metrics at all. */
  metrics: MetricsSpec | null;
}

/** The parts of the process environment the loader reads, injected so tests never see the real machine. */
export interface ConfigEnv {
  env: Record<string, string | undefined>;
  home: string;
  cwd: string;
}

/** A session from outside the file (added with kportctl) that cannot run beside it, and why. */
export interface Displaced {
  name: string;
  /** What it clashes with, naming the file's line: `ports[0]: 127.0.0.1:8080 is already bound by forwards[1] at kport.yaml:7:5`. */
  message: string;
}

/**
 * The outcome of loading a file: the state, or every error found; warnings either way. Sessions from outside the
 * file never make it fail: those that clash with it (or with one another, later with earlier) are `displaced`.
 */
export type LoadResult =
  | {
      ok: true;
      state: DesiredState;
      warnings: ConfigIssue[];
      displaced: Displaced[];
      /** The text holds no YAML value (nothing, or only comments): it declares nothing, not even `forwards: []`. */
      empty: boolean;
    }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

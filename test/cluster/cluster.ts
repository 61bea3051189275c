/**
 * A whole simulated Kubernetes cluster for tests and the demo: API server, object store,
 * controllers, pod runtime, kubeconfig file — and the levers tests pull (delete a pod,
 * roll a deployment, restart the API server, drop streams, expire watches).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ApiServer, type Faults, type ForbidRule } from './api-server.js';
import { Controllers } from './controllers.js';
import { isPodReady } from './pod-status.js';
import { generatePki, type Pki } from './pki.js';
import { PodRuntime, type LifecycleDelays } from './pods.js';
import { findType, RESOURCE_TYPES, type ResourceType } from './resources.js';
import { parseLabelSelector } from './selectors.js';
import { ServiceProxy } from './service-proxy.js';
import { SpdyEndpoint, type SpdyCounts } from './spdy-endpoint.js';
import { ObjectStore, type KubeObject } from './store.js';
import { notFound } from './status.js';
import { StreamServer } from './streams.js';

/** How to start a cluster; everything is optional. */
export interface ClusterOptions {
  /** API server port; 0 (default) picks a free one. */
  port?: number;
  /** Where to write the kubeconfig; default: a temp folder removed by stop(). */
  kubeconfigPath?: string;
  delays?: Partial<LifecycleDelays>;
  /** Serve as Kubernetes 1.20 did: no discovery.k8s.io/v1 (no EndpointSlices). */
  legacy?: boolean;
  /** How many change events watches can resume from. */
  historySize?: number;
  /** BOOKMARK interval for watches that allow them. */
  bookmarkMs?: number;
  /** `demo` seeds the demo world; `empty` (default) only namespaces default and kube-system. */
  world?: 'demo' | 'empty';
  /** How long a port-forward stream waits for the other stream of its request (the kubelet's streamCreationTimeout, 30 s). */
  streamCreationTimeoutMs?: number;
}

/** Fast defaults for tests: a replaced pod is serving again within ~100 ms. */
export const TEST_DELAYS: LifecycleDelays = { podStartMs: 10, podReadyMs: 20, terminationMs: 0, replacementMs: 50 };
/** Human-visible delays for the demo. */
export const DEMO_DELAYS: LifecycleDelays = { podStartMs: 500, podReadyMs: 1000, terminationMs: 500, replacementMs: 1000 };

/** A container port of a simulated workload. */
export interface PortDecl {
  name?: string;
  containerPort: number;
}

/** Users the kubeconfig holds, one context each. */
export const USERS = { admin: 'sim-admin', viewer: 'sim-viewer', cert: 'sim-cert-user' } as const;

/** What the viewer (context `sim-viewer`) may not do: anything but get/list/watch. */
const VIEWER_RULES: ForbidRule[] = [
  ...['create', 'delete', 'update', 'patch'].map((verb) => ({ user: USERS.viewer, verb })),
  ...['portforward', 'exec', 'proxy'].map((subresource) => ({ user: USERS.viewer, subresource })),
];

/** A running simulated cluster. */
export class SimCluster {
  readonly faults: Faults = {
    latencyMs: 0,
    refusePortForward: null,
    forbid: [...VIEWER_RULES],
    watchTimeoutMs: null,
    refuseSpdy: false,
    refuseTunnel: false,
    swallowPings: false,
    refuseAccessReviews: false,
  };
  readonly store: ObjectStore;
  private readonly runtime: PodRuntime;
  private readonly controllers: Controllers;
  private readonly streams: StreamServer;
  private readonly spdyEndpoint: SpdyEndpoint;
  private readonly api: ApiServer;
  private readonly ownsKubeconfigDir: string | null;
  readonly kubeconfigPath: string;
  /** Hands out ClusterIPs from 10.96.0.0/16 in order, so no two services share one. */
  private nextClusterIp = 10;

  private constructor(
    opts: ClusterOptions,
    readonly pki: Pki,
    /** Bearer tokens by user. */
    readonly tokens: { admin: string; viewer: string },
    readonly types: readonly ResourceType[],
  ) {
    this.store = new ObjectStore(opts.historySize);
    this.runtime = new PodRuntime(this.store, this.type('pods'), { ...TEST_DELAYS, ...opts.delays });
    this.controllers = new Controllers(this.store, types, this.runtime);
    this.streams = new StreamServer(this.runtime);
    this.spdyEndpoint = new SpdyEndpoint(this.runtime, this.faults, !opts.legacy, opts.streamCreationTimeoutMs);
    const proxy = new ServiceProxy(this.store, types, this.runtime);
    const tokenMap = new Map([[tokens.admin, USERS.admin], [tokens.viewer, USERS.viewer]]);
    const gitVersion = opts.legacy ? 'v1.20.15-kport-sim' : 'v1.31.0-kport-sim';
    const version = { major: '1', minor: opts.legacy ? '20' : '31', gitVersion, gitCommit: 'kport-sim', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.22', compiler: 'gc', platform: 'linux/amd64' };
    this.api = new ApiServer(
      { store: this.store, types, runtime: this.runtime, streams: this.streams, spdy: this.spdyEndpoint, proxy, create: (t, o) => this.createObject(t, o), remove: (t, ns, n) => this.removeObject(t, ns, n) },
      pki,
      tokenMap,
      this.faults,
      version,
      opts.bookmarkMs ?? 1000,
    );
    if (opts.kubeconfigPath) {
      this.kubeconfigPath = opts.kubeconfigPath;
      this.ownsKubeconfigDir = null;
    } else {
      this.ownsKubeconfigDir = mkdtempSync(join(tmpdir(), 'kport-sim-'));
      this.kubeconfigPath = join(this.ownsKubeconfigDir, 'kubeconfig');
    }
  }

  /** Generates certificates, starts the API server, seeds the world and writes the kubeconfig. */
  static async start(opts: ClusterOptions = {}): Promise<SimCluster> {
    const types = opts.legacy ? RESOURCE_TYPES.filter((t) => t.group !== 'discovery.k8s.io') : RESOURCE_TYPES;
    const tokens = { admin: randomBytes(24).toString('hex'), viewer: randomBytes(24).toString('hex') };
    const cluster = new SimCluster(opts, generatePki(USERS.cert), tokens, types);
    for (const ns of ['default', 'kube-system']) cluster.namespace(ns);
    if (opts.world === 'demo') cluster.seedDemo();
    try {
      await cluster.api.listen(opts.port ?? 0);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    writeFileSync(cluster.kubeconfigPath, cluster.kubeconfig(), { mode: 0o600 });
    return cluster;
  }

  /** `https://127.0.0.1:PORT`. */
  get url(): string {
    return `https://127.0.0.1:${this.api.port}`;
  }

  /** The API server's port (the same across restarts). */
  get port(): number {
    return this.api.port;
  }

  /**
   * A kubeconfig with contexts `sim` (admin token, current), `sim-viewer` (read-only token) and
   * `sim-cert` (client certificate); `token` overrides the admin token (e.g. a wrong one for 401 tests).
   */
  kubeconfig(overrides: { token?: string; caCert?: string; server?: string } = {}): string {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const context = (name: string, user: string) => ({ name, context: { cluster: 'sim', user, namespace: 'default' } });
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      preferences: {},
      clusters: [{ name: 'sim', cluster: { server: overrides.server ?? this.url, 'certificate-authority-data': b64(overrides.caCert ?? this.pki.caCert) } }],
      users: [
        { name: USERS.admin, user: { token: overrides.token ?? this.tokens.admin } },
        { name: USERS.viewer, user: { token: this.tokens.viewer } },
        { name: USERS.cert, user: { 'client-certificate-data': b64(this.pki.clientCert), 'client-key-data': b64(this.pki.clientKey) } },
      ],
      contexts: [context('sim', USERS.admin), context('sim-viewer', USERS.viewer), context('sim-cert', USERS.cert)],
      'current-context': 'sim',
    });
  }

  private type(plural: string, group = ''): ResourceType {
    const t = findType(this.types, group, plural);
    if (!t) throw new Error(`this cluster does not serve ${group ? `${plural}.${group}` : plural}`);
    return t;
  }

  private createObject(t: ResourceType, obj: KubeObject): KubeObject {
    if (t.plural === 'services') {
      const spec = (obj.spec ?? {}) as { clusterIP?: string; type?: string };
      const n = this.nextClusterIp++;
      const clusterIP = spec.clusterIP ?? `10.96.${(n >> 8) & 255}.${n & 255}`;
      obj.spec = { type: 'ClusterIP', ...spec, clusterIP, clusterIPs: [clusterIP] };
    }
    if (t.plural === 'namespaces') obj.status = { phase: 'Active' };
    return t.plural === 'pods' ? this.runtime.create(obj) : this.store.create(t, obj);
  }

  private removeObject(t: ResourceType, ns: string | undefined, name: string): KubeObject {
    if (t.plural === 'pods') {
      const pod = this.runtime.terminate(ns, name);
      if (!pod) throw notFound('pods', name);
      return pod;
    }
    if (t.plural === 'namespaces') {
      for (const nt of this.types.filter((x) => x.namespaced)) {
        for (const o of this.store.list(nt, name)) this.removeObject(nt, name, o.metadata.name);
      }
    }
    return this.store.remove(t, ns, name);
  }

  // ---- building the world -------------------------------------------------------------------

  /** Creates any object, as `kubectl create` would (pods start their lifecycle). */
  create(plural: string, obj: { metadata: { name: string; namespace?: string } & Record<string, unknown> } & Record<string, unknown>, group = ''): KubeObject {
    const t = this.type(plural, group);
    return this.createObject(t, { apiVersion: '', kind: t.kind, ...obj } as unknown as KubeObject);
  }

  /** Creates a namespace. */
  namespace(name: string): KubeObject {
    return this.create('namespaces', { metadata: { name } });
  }

  private template(labels: Record<string, string>, ports: PortDecl[], annotations?: Record<string, string>) {
    return { metadata: { labels, annotations }, spec: { containers: [{ name: 'app', image: 'kport/sim', ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) }] } };
  }

  /** Creates a deployment whose pods carry `labels` and serve `ports`. */
  deployment(ns: string, name: string, o: { replicas?: number; labels: Record<string, string>; ports: PortDecl[]; annotations?: Record<string, string> }): KubeObject {
    return this.create('deployments', { metadata: { name, namespace: ns, labels: o.labels }, spec: { replicas: o.replicas ?? 1, selector: { matchLabels: o.labels }, template: this.template(o.labels, o.ports, o.annotations) } }, 'apps');
  }

  /**
   * Creates a statefulset (pods NAME-0, NAME-1, … that keep their names when replaced). Its pods get
   * `hostname` (their name) and `subdomain` (`serviceName`, default NAME), so with a headless service of that
   * name each has the DNS name POD.SERVICE.NS.svc.cluster.local, as on a real cluster.
   */
  statefulset(ns: string, name: string, o: { replicas?: number; labels: Record<string, string>; ports: PortDecl[]; annotations?: Record<string, string>; serviceName?: string }): KubeObject {
    return this.create('statefulsets', { metadata: { name, namespace: ns, labels: o.labels }, spec: { replicas: o.replicas ?? 1, serviceName: o.serviceName ?? name, selector: { matchLabels: o.labels }, template: this.template(o.labels, o.ports, o.annotations) } }, 'apps');
  }

  /** Creates a bare pod (no owner: nothing replaces it). */
  pod(ns: string, name: string, o: { labels?: Record<string, string>; ports: PortDecl[]; annotations?: Record<string, string> }): KubeObject {
    const t = this.template(o.labels ?? {}, o.ports, o.annotations);
    return this.create('pods', { metadata: { name, namespace: ns, labels: o.labels, annotations: o.annotations }, spec: t.spec });
  }

  /**
   * Creates a service; without `selector` it has no endpoints until some are created for it. It gets the next free
   * ClusterIP unless `clusterIP` says otherwise (`"None"`: a headless service).
   */
  service(ns: string, name: string, o: { selector?: Record<string, string>; ports: { name?: string; port: number; targetPort?: number | string }[]; clusterIP?: string }): KubeObject {
    const spec = { selector: o.selector, ports: o.ports.map((p) => ({ protocol: 'TCP', ...p, targetPort: p.targetPort ?? p.port })), ...(o.clusterIP ? { clusterIP: o.clusterIP } : {}) };
    return this.create('services', { metadata: { name, namespace: ns }, spec });
  }

  /** The demo world: deployment+service `web` (HTTP, 2 replicas) and statefulset+service `db` (echo on 5432). */
  seedDemo(): void {
    this.deployment('default', 'web', { replicas: 2, labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] });
    this.service('default', 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
    this.statefulset('default', 'db', { replicas: 1, labels: { app: 'db' }, ports: [{ name: 'postgres', containerPort: 5432 }] });
    this.service('default', 'db', { selector: { app: 'db' }, ports: [{ name: 'postgres', port: 5432, targetPort: 5432 }] });
  }

  // ---- levers ----------------------------------------------------------------------------------

  /** Deletes a pod as `kubectl delete pod` does (graceful; its owner replaces it). */
  deletePod(ns: string, name: string): KubeObject {
    return this.removeObject(this.type('pods'), ns, name);
  }

  /** Deletes any object by type. */
  delete(plural: string, ns: string | undefined, name: string, group = ''): KubeObject {
    return this.removeObject(this.type(plural, group), ns, name);
  }

  /** Flips a running pod's readiness, as a failing or recovering readiness probe does. */
  setPodReady(ns: string, name: string, ready: boolean): boolean {
    return this.runtime.setReady(ns, name, ready);
  }

  /** Sets a workload's replica count. */
  scale(plural: 'deployments' | 'statefulsets' | 'replicasets', ns: string, name: string, replicas: number): void {
    this.store.mutate(this.type(plural, 'apps'), ns, name, (o) => void ((o.spec as { replicas: number }).replicas = replicas));
  }

  /** Rolls a deployment (as `kubectl rollout restart`): a new replicaset replaces the old pods. */
  rollout(ns: string, name: string): void {
    this.store.mutate(this.type('deployments', 'apps'), ns, name, (o) => {
      const tpl = (o.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template;
      tpl.metadata.annotations = { ...tpl.metadata.annotations, 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() };
      o.metadata.generation = (o.metadata.generation ?? 1) + 1;
    });
  }

  /** One object by type, or undefined. */
  get(plural: string, ns: string | undefined, name: string, group = ''): KubeObject | undefined {
    return this.store.get(this.type(plural, group), ns, name);
  }

  /** The local TCP port really serving a pod's container port (for measuring against a direct connection). */
  backendPort(ns: string, pod: string, containerPort: number): number | undefined {
    const p = this.get('pods', ns, pod);
    return p && this.runtime.localPort(p.metadata.uid, containerPort);
  }

  /** Pods in `ns` matching a label selector (`app=web`), newest state. */
  pods(ns: string, selector = ''): KubeObject[] {
    const match = parseLabelSelector(selector);
    return this.store.list(this.type('pods'), ns).filter((p) => match(p.metadata.labels));
  }

  /** Ready, non-terminating pods matching a selector. */
  readyPods(ns: string, selector = ''): KubeObject[] {
    return this.pods(ns, selector).filter(isPodReady);
  }

  /** Resolves once `condition()` holds, re-checking on every store change; rejects after `timeoutMs`. */
  waitFor(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (unsubscribe(), reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
      const unsubscribe = this.store.subscribe(() => {
        if (!condition()) return;
        clearTimeout(timer);
        unsubscribe();
        resolve();
      });
    });
  }

  /** Stops the API server (every watch, stream and connection breaks); the pods keep running. */
  stopApi(): Promise<void> {
    return this.api.close();
  }

  /** Starts the API server again on the same port. */
  startApi(): Promise<void> {
    return this.api.listen(this.api.port);
  }

  /** Stops and starts the API server. */
  async restartApi(): Promise<void> {
    await this.stopApi();
    await this.startApi();
  }

  /**
   * Cuts every open port-forward/exec stream without a close handshake or GOAWAY (a network drop):
   * WebSockets and SPDY connections alike; returns how many connections were cut.
   */
  dropStreams(): number {
    return this.streams.dropAll() + this.spdyEndpoint.dropAll();
  }

  /** SPDY port-forward connections and streams of one pod (by name), of a namespace, or of all. */
  spdy(namespace?: string, pod?: string): SpdyCounts {
    return this.spdyEndpoint.counts(namespace, pod);
  }

  /** Watches open now: of a namespace's `plural` (e.g. `pods`), of a whole namespace, or of all. */
  watches(namespace?: string, plural?: string): number {
    return this.api.openWatches(namespace, plural);
  }

  /** Forgets watch history and ends every watch: resuming clients get 410 Gone and must relist. */
  expireWatches(): void {
    this.store.compact();
    this.api.endWatches();
  }

  /** Stops everything and removes the files this cluster wrote. */
  async stop(): Promise<void> {
    this.controllers.stop();
    await this.api.close();
    this.streams.close();
    this.spdyEndpoint.close();
    await this.runtime.stop();
    if (this.ownsKubeconfigDir) rmSync(this.ownsKubeconfigDir, { recursive: true, force: true });
  }
}

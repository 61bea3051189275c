/**
 * The cluster view of one namespace of one context: watch-backed pods and services (and, once a
 * selector-less service needs them, EndpointSlices — or Endpoints on servers without
 * discovery.k8s.io/v1, i.e. before Kubernetes 1.21). Shared by every session on that namespace;
 * target lookups read it, never the API.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KportError } from '../api/errors.js';
import { Backoff } from '../session/backoff.js';
import type { KubeClient } from './client.js';
import { ApiStatusError } from './errors.js';
import type { EndpointSlice, Endpoints, Pod, Service } from './objects.js';
import { Reflector } from './reflector.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Pod names behind a selector-less service, by readiness. */
export interface EndpointPods {
  ready: string[];
}

/** Emits `change` (coalesced per microtask) whenever anything it holds or its health changes. */
export class NamespaceCache extends EventEmitter {
  readonly pods: Reflector<Pod>;
  readonly services: Reflector<Service>;
  private slices: Reflector<EndpointSlice> | null = null;
  private endpoints: Reflector<Endpoints> | null = null;
  private endpointsWanted = false;
  private pending = false;
  private readonly stopped = new AbortController();

  constructor(
    readonly client: KubeClient,
    readonly namespace: string,
    private readonly log: Logger,
  ) {
    super();
    const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
    // One cache serves every session on its namespace: many listeners are the design, not a leak.
    this.setMaxListeners(0);
    this.pods = this.watch<Pod>(`${base}/pods`);
    this.services = this.watch<Service>(`${base}/services`);
  }

  private watch<T extends Pod | Service | EndpointSlice | Endpoints>(path: string): Reflector<T> {
    const r = new Reflector<T>(this.client, path, this.log);
    r.on('change', () => this.notify());
    r.on('health', () => this.notify());
    r.on('synced', () => this.notify());
    return r;
  }

  private notify(): void {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.emit('change');
    });
  }

  /** Starts the pod and service watches. */
  start(): void {
    this.pods.start();
    this.services.start();
  }

  /** Stops every watch. */
  stop(): void {
    this.stopped.abort();
    for (const r of [this.pods, this.services, this.slices, this.endpoints]) r?.stop();
  }

  /** True once pods and services have been listed. */
  get synced(): boolean {
    return this.pods.synced && this.services.synced;
  }

  /** Why the API server cannot be watched right now, or null while every watch is fine. */
  get problem(): KportError | null {
    const down = [this.pods, this.services, this.slices, this.endpoints].find((r) => r && !r.healthy && r.lastError);
    return down?.lastError ?? null;
  }

  /**
   * The pods behind a selector-less service, from its EndpointSlices (or Endpoints); undefined
   * until those are watched and listed (the first call starts watching them).
   */
  endpointPods(service: string): EndpointPods | undefined {
    if (!this.endpointsWanted) {
      this.endpointsWanted = true;
      void this.startEndpoints();
    }
    if (this.slices?.synced) {
      const ready = this.slices
        .values()
        .filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === service)
        .flatMap((s) => s.endpoints ?? [])
        .filter((e) => e.conditions?.ready !== false && !e.conditions?.terminating && e.targetRef?.kind === 'Pod' && e.targetRef.name)
        .map((e) => e.targetRef!.name!);
      return { ready: [...new Set(ready)].sort() };
    }
    if (this.endpoints?.synced) {
      const ep = this.endpoints.get(service);
      const ready = (ep?.subsets ?? []).flatMap((s) => s.addresses ?? []).filter((a) => a.targetRef?.kind === 'Pod' && a.targetRef.name).map((a) => a.targetRef!.name!);
      return { ready: [...new Set(ready)].sort() };
    }
    return undefined;
  }

  /** Picks EndpointSlices when the server has discovery.k8s.io/v1, else Endpoints (Kubernetes ≤ 1.20). */
  private async startEndpoints(): Promise<void> {
    const backoff = new Backoff();
    const ns = encodeURIComponent(this.namespace);
    while (!this.stopped.signal.aborted) {
      try {
        await this.client.request('/apis/discovery.k8s.io/v1', { signal: this.stopped.signal });
        this.slices = this.watch<EndpointSlice>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`);
        this.slices.start();
        return;
      } catch (err) {
        if (err instanceof ApiStatusError && err.httpStatus === 404) {
          this.log.info('discovery.k8s.io/v1 is not served (Kubernetes before 1.21): watching Endpoints instead');
          this.endpoints = this.watch<Endpoints>(`/api/v1/namespaces/${ns}/endpoints`);
          this.endpoints.start();
          return;
        }
        await sleep(backoff.next(), undefined, { signal: this.stopped.signal }).catch(() => {});
      }
    }
  }
}

/**
 * The controller manager's half of the simulation: deployments own replicasets, replicasets
 * and statefulsets keep their replica count (replacing lost pods after a delay), owners'
 * deletion cascades to dependents, and endpoints/endpointslices follow pod readiness.
 * Every pass reads the store and writes only what changed, so passes converge.
 */
import { createHash } from 'node:crypto';
import { isPodReady as isReady, podIp, readyCondition } from './pod-status.js';
import type { PodRuntime } from './pods.js';
import { findType, type ResourceType } from './resources.js';
import { compileLabelSelector, matchesServiceSelector, type LabelSelector } from './selectors.js';
import type { KubeObject, ObjectStore } from './store.js';

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: { name: string; ports?: { name?: string; containerPort: number }[] }[] };
}
interface WorkloadSpec {
  replicas?: number;
  selector: LabelSelector;
  template: Template;
}
interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

const SERVICE_LABEL = 'kubernetes.io/service-name';
const MANAGED_LABEL = 'endpointslice.kubernetes.io/managed-by';
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes-style short random or hashed suffixes ("7d9f8c6b5d", "x2k4p"). */
function suffix(seed: string | null, length: number): string {
  const bytes = createHash('sha256').update(seed ?? Math.random().toString()).digest();
  return Array.from(bytes.subarray(0, length), (b) => ALPHABET[b % ALPHABET.length]).join('');
}

const spec = <T>(o: KubeObject) => o.spec as T;

/** Runs controller passes after store changes, coalesced per event-loop turn. */
export class Controllers {
  private readonly t: Record<'pods' | 'services' | 'endpoints' | 'slices' | 'rs' | 'sts' | 'deploy', ResourceType | undefined>;
  /** Pods a workload has asked for that are not created yet, by owner uid (or sts pod name). */
  private readonly pending = new Map<string, number>();
  private readonly started = new Set<string>();
  private scheduled = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    types: readonly ResourceType[],
    private readonly runtime: PodRuntime,
  ) {
    this.t = {
      pods: findType(types, '', 'pods'),
      services: findType(types, '', 'services'),
      endpoints: findType(types, '', 'endpoints'),
      slices: findType(types, 'discovery.k8s.io', 'endpointslices'),
      rs: findType(types, 'apps', 'replicasets'),
      sts: findType(types, 'apps', 'statefulsets'),
      deploy: findType(types, 'apps', 'deployments'),
    };
    this.unsubscribe = store.subscribe(() => this.onChange());
  }

  /** Stops reacting to changes. */
  stop(): void {
    this.unsubscribe();
  }

  private onChange(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.reconcile();
    });
  }

  /** Runs one full pass now (also what tests call to settle the world). */
  reconcile(): void {
    this.collectGarbage();
    for (const d of this.all('deploy')) this.reconcileDeployment(d);
    for (const rs of this.all('rs')) this.reconcileReplicaSet(rs);
    for (const s of this.all('sts')) this.reconcileStatefulSet(s);
    for (const svc of this.all('services')) this.reconcileEndpoints(svc);
  }

  private all(kind: keyof Controllers['t']): KubeObject[] {
    const t = this.t[kind];
    return t ? this.store.list(t, null) : [];
  }

  private podsOf(owner: KubeObject): KubeObject[] {
    return this.all('pods').filter(
      (p) => p.metadata.namespace === owner.metadata.namespace && p.metadata.ownerReferences?.some((o) => o.uid === owner.metadata.uid),
    );
  }

  /** Background cascading deletion: dependents whose owner is gone go too. */
  private collectGarbage(): void {
    const owners = new Set(['deploy', 'rs', 'sts'].flatMap((k) => this.all(k as 'rs').map((o) => o.metadata.uid)));
    const orphaned = (o: KubeObject) => o.metadata.ownerReferences?.some((r) => r.controller && !owners.has(r.uid));
    for (const rs of this.all('rs').filter(orphaned)) this.store.remove(this.t.rs!, rs.metadata.namespace, rs.metadata.name);
    for (const p of this.all('pods').filter(orphaned)) this.runtime.terminate(p.metadata.namespace, p.metadata.name);
    const services = new Set(this.all('services').map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
    for (const kind of ['endpoints', 'slices'] as const) {
      for (const o of this.all(kind)) {
        const svc = o.metadata.labels?.[SERVICE_LABEL];
        if (o.metadata.labels?.[MANAGED_LABEL] && svc && !services.has(`${o.metadata.namespace}/${svc}`)) {
          this.store.remove(this.t[kind]!, o.metadata.namespace, o.metadata.name);
        }
      }
    }
  }

  /** Creates a pod from a template, owned by `owner`, and starts its lifecycle. */
  private createPod(owner: KubeObject, template: Template, name: string): void {
    const pods = this.t.pods!;
    if (this.store.get(pods, owner.metadata.namespace, name)) return;
    this.runtime.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: owner.metadata.namespace,
        labels: { ...template.metadata?.labels, ...(owner.kind === 'StatefulSet' ? { 'statefulset.kubernetes.io/pod-name': name } : {}) },
        annotations: template.metadata?.annotations,
        ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true }],
      },
      // A statefulset's pods are named in DNS through its (headless) service: POD.SERVICE.NS.svc.
      spec: owner.kind === 'StatefulSet' ? { ...structuredClone(template.spec), hostname: name, subdomain: spec<{ serviceName?: string }>(owner).serviceName } : structuredClone(template.spec),
    });
  }

  /** Schedules `create` for one missing pod: at once the first time, after replacementMs later on. */
  private schedule(key: string, ownerUid: string, create: () => void): void {
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    const delay = this.started.has(ownerUid) ? this.runtime.delays.replacementMs : 0;
    this.runtime.later(delay, () => {
      this.pending.set(key, (this.pending.get(key) ?? 1) - 1);
      create();
    });
  }

  private reconcileReplicaSet(rs: KubeObject): void {
    const s = spec<WorkloadSpec>(rs);
    const want = s.replicas ?? 1;
    const pods = this.podsOf(rs);
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const uid = rs.metadata.uid;
    const missing = want - live.length - (this.pending.get(uid) ?? 0);
    for (let i = 0; i < missing; i++) {
      this.schedule(uid, uid, () => {
        const current = this.store.get(this.t.rs!, rs.metadata.namespace, rs.metadata.name);
        if (current?.metadata.uid === uid) this.createPod(current, s.template, `${rs.metadata.name}-${suffix(null, 5)}`);
      });
    }
    if (missing > 0 || live.length > 0) this.started.add(uid);
    for (const extra of live.slice(want)) this.runtime.terminate(extra.metadata.namespace, extra.metadata.name);
    const ready = live.filter(isReady).length;
    this.setStatus(this.t.rs!, rs, { replicas: live.length, fullyLabeledReplicas: live.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.metadata.generation });
  }

  private reconcileStatefulSet(sts: KubeObject): void {
    const s = spec<WorkloadSpec>(sts);
    const want = s.replicas ?? 1;
    const pods = this.podsOf(sts);
    const uid = sts.metadata.uid;
    for (let i = 0; i < want; i++) {
      const name = `${sts.metadata.name}-${i}`;
      const key = `${uid}/${name}`;
      // A statefulset pod keeps its name: its replacement waits until the old one is fully gone.
      if (pods.some((p) => p.metadata.name === name) || (this.pending.get(key) ?? 0) > 0) continue;
      this.schedule(key, uid, () => {
        const current = this.store.get(this.t.sts!, sts.metadata.namespace, sts.metadata.name);
        if (current?.metadata.uid === uid) this.createPod(current, s.template, name);
      });
    }
    this.started.add(uid);
    for (const p of pods) {
      const ordinal = Number(p.metadata.name.slice(sts.metadata.name.length + 1));
      if (ordinal >= want && !p.metadata.deletionTimestamp) this.runtime.terminate(p.metadata.namespace, p.metadata.name);
    }
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const ready = live.filter(isReady).length;
    this.setStatus(this.t.sts!, sts, { replicas: live.length, readyReplicas: ready, currentReplicas: live.length, availableReplicas: ready, observedGeneration: sts.metadata.generation });
  }

  private reconcileDeployment(d: KubeObject): void {
    const s = spec<WorkloadSpec>(d);
    const want = s.replicas ?? 1;
    const hash = suffix(JSON.stringify(s.template), 10);
    const owned = this.all('rs').filter(
      (rs) => rs.metadata.namespace === d.metadata.namespace && rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid),
    );
    let current = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    if (!current) {
      const labels = { ...s.template.metadata?.labels, 'pod-template-hash': hash };
      current = this.store.create(this.t.rs!, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          labels,
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid, controller: true }],
        },
        spec: {
          replicas: want,
          selector: { matchLabels: { ...s.selector.matchLabels, 'pod-template-hash': hash } },
          template: { ...s.template, metadata: { ...s.template.metadata, labels } },
        },
      });
    } else if (spec<WorkloadSpec>(current).replicas !== want) {
      this.store.mutate(this.t.rs!, current.metadata.namespace, current.metadata.name, (rs) => void (spec<WorkloadSpec>(rs).replicas = want));
    }
    // Rolling update, simplified: old replicasets scale to zero once the new one is fully ready.
    const currentReady = (current.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
    for (const old of owned) {
      if (old.metadata.uid === current.metadata.uid || currentReady < want || spec<WorkloadSpec>(old).replicas === 0) continue;
      this.store.mutate(this.t.rs!, old.metadata.namespace, old.metadata.name, (rs) => void (spec<WorkloadSpec>(rs).replicas = 0));
    }
    const pods = owned.flatMap((rs) => this.podsOf(rs)).filter((p) => !p.metadata.deletionTimestamp);
    const ready = pods.filter(isReady).length;
    const updated = this.podsOf(current).filter((p) => !p.metadata.deletionTimestamp).length;
    this.setStatus(this.t.deploy!, d, { replicas: pods.length, updatedReplicas: updated, readyReplicas: ready, availableReplicas: ready, observedGeneration: d.metadata.generation });
  }

  private setStatus(t: ResourceType, o: KubeObject, status: Record<string, unknown>): void {
    if (JSON.stringify(o.status ?? {}) === JSON.stringify(status)) return;
    this.store.mutate(t, o.metadata.namespace, o.metadata.name, (x) => void (x.status = status));
  }

  /** Endpoints and one EndpointSlice for a service with a selector; selector-less services are left to their owners. */
  private reconcileEndpoints(svc: KubeObject): void {
    const { selector, ports } = spec<{ selector?: Record<string, string>; ports?: ServicePort[] }>(svc);
    if (!selector || Object.keys(selector).length === 0) return;
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    const pods = this.all('pods').filter((p) => p.metadata.namespace === ns && podIp(p) && matchesServiceSelector(selector, p.metadata.labels));
    const resolved = (pod: KubeObject | undefined) =>
      (ports ?? []).map((p) => ({ name: p.name, port: targetPortNumber(p, pod), protocol: p.protocol ?? 'TCP' }));
    const ref = (p: KubeObject) => ({ kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid });
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const address = (p: KubeObject) => ({ ip: podIp(p), nodeName: 'sim-node', targetRef: ref(p) });
    const readyPods = live.filter(isReady);
    const notReady = live.filter((p) => !isReady(p));
    const subset = { addresses: readyPods.map(address), notReadyAddresses: notReady.map(address), ports: resolved(live[0]) };
    const subsets = live.length > 0 ? [Object.fromEntries(Object.entries(subset).filter(([, v]) => v.length > 0))] : [];
    this.upsert(this.t.endpoints, ns, name, { subsets }, { metadata: { labels: { ...svc.metadata.labels, [SERVICE_LABEL]: name, [MANAGED_LABEL]: 'endpoint-controller' } } });
    const endpoints = pods.map((p) => {
      const terminating = Boolean(p.metadata.deletionTimestamp);
      return {
        addresses: [podIp(p)],
        conditions: { ready: isReady(p), serving: isReady(p) || (terminating && readyCondition(p)), terminating },
        nodeName: 'sim-node',
        targetRef: ref(p),
      };
    });
    this.upsert(this.t.slices, ns, `${name}-${suffix(svc.metadata.uid, 5)}`, { addressType: 'IPv4', endpoints, ports: resolved(pods[0]) }, {
      metadata: { labels: { [SERVICE_LABEL]: name, [MANAGED_LABEL]: 'endpointslice-controller.k8s.io' } },
    });
  }

  /** Creates or updates an object whose top-level fields are `fields`, writing only on change. */
  private upsert(t: ResourceType | undefined, ns: string | undefined, name: string, fields: Record<string, unknown>, extra: { metadata: object }): void {
    if (!t) return;
    const existing = this.store.get(t, ns, name);
    if (!existing) {
      this.store.create(t, { apiVersion: '', kind: t.kind, ...fields, metadata: { name, namespace: ns, ...extra.metadata } });
      return;
    }
    if (Object.entries(fields).every(([k, v]) => JSON.stringify(existing[k]) === JSON.stringify(v))) return;
    this.store.mutate(t, ns, name, (o) => void Object.assign(o, fields));
  }

}

/** A service port's targetPort as a number for `pod` (named ports looked up in its containers). */
export function targetPortNumber(port: ServicePort, pod: KubeObject | undefined): number {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const containers = (pod?.spec as Template['spec'] | undefined)?.containers ?? [];
  for (const c of containers) for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  return 0;
}

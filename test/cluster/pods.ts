/**
 * The kubelet's half of the simulation: takes each pod Pending → Running → Ready on timers,
 * starts its backing servers, and on deletion marks it terminating, kills its servers and
 * streams, then removes it.
 */
import { EventEmitter } from 'node:events';
import { BACKENDS_ANNOTATION, PodBackends, type ContainerPort } from './backends.js';
import type { ResourceType } from './resources.js';
import { timestamp, type KubeObject, type ObjectStore } from './store.js';

/** Delays of the simulated lifecycle, in milliseconds. */
export interface LifecycleDelays {
  /** Pending → Running (containers started). */
  podStartMs: number;
  /** Running → Ready. */
  podReadyMs: number;
  /** Deletion requested → object removed (graceful termination). */
  terminationMs: number;
  /** A workload's pod removed → its replacement created. */
  replacementMs: number;
}

interface PodSpec {
  containers: { name: string; image?: string; ports?: ContainerPort[] }[];
  nodeName?: string;
}

/** Events: `terminated` (pod uid) when a pod's containers stop — its streams must close. */
export class PodRuntime extends EventEmitter {
  private readonly backends = new Map<string, PodBackends>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextIp = 10;
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly pods: ResourceType,
    readonly delays: LifecycleDelays,
  ) {
    super();
  }

  /** Runs `fn` after `ms`, unless the cluster stops first. */
  later(ms: number, fn: () => void | Promise<void>): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) void fn();
    }, ms);
    this.timers.add(t);
  }

  /** Stores a new pod (phase Pending, as the API server defaults it) and begins its lifecycle. */
  create(input: Parameters<ObjectStore['create']>[1]): KubeObject {
    const pod = this.store.create(this.pods, { ...input, status: { phase: 'Pending', qosClass: 'BestEffort' } });
    const { namespace, name, uid } = pod.metadata;
    this.store.mutate(this.pods, namespace, name, (p) => {
      p.spec = { nodeName: 'sim-node', ...(p.spec as object) };
      p.status = {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: timestamp() }],
        qosClass: 'BestEffort',
      };
    });
    this.later(this.delays.podStartMs, () => this.start(namespace, name, uid));
    return this.store.get(this.pods, namespace, name)!;
  }

  private current(ns: string | undefined, name: string, uid: string): KubeObject | undefined {
    const p = this.store.get(this.pods, ns, name);
    return p && p.metadata.uid === uid && !p.metadata.deletionTimestamp ? p : undefined;
  }

  private async start(ns: string | undefined, name: string, uid: string): Promise<void> {
    const pod = this.current(ns, name, uid);
    if (!pod) return;
    const spec = pod.spec as PodSpec;
    const ports = spec.containers.flatMap((c) => c.ports ?? []);
    const backends = await PodBackends.start(name, ports, pod.metadata.annotations?.[BACKENDS_ANNOTATION]);
    if (this.stopped || !this.current(ns, name, uid)) return void backends.stop();
    this.backends.set(uid, backends);
    // Unique for the cluster's life (a /16 of pod IPs), as the gateway's IP lookups need.
    const n = this.nextIp++;
    const ip = `10.244.${(n >> 8) & 255}.${n & 255}`;
    const now = timestamp();
    this.store.mutate(this.pods, ns, name, (p) => {
      p.status = {
        phase: 'Running',
        hostIP: '10.0.0.1',
        podIP: ip,
        podIPs: [{ ip }],
        startTime: now,
        qosClass: 'BestEffort',
        conditions: conditions(false, now),
        containerStatuses: spec.containers.map((c) => ({
          name: c.name,
          image: c.image ?? 'sim',
          imageID: '',
          ready: false,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now } },
        })),
      };
    });
    this.later(this.delays.podReadyMs, () => void this.setReady(ns, name, true));
  }

  /** Flips a running pod's readiness (as a readiness probe would); false when it is not running. */
  setReady(ns: string | undefined, name: string, ready: boolean): boolean {
    const pod = this.store.get(this.pods, ns, name);
    if (!pod || pod.metadata.deletionTimestamp || !this.backends.has(pod.metadata.uid)) return false;
    this.store.mutate(this.pods, ns, name, (p) => {
      const status = p.status as { conditions: object[]; containerStatuses: { ready: boolean }[] };
      status.conditions = conditions(ready, timestamp());
      for (const c of status.containerStatuses) c.ready = ready;
    });
    return true;
  }

  /** Graceful deletion: mark terminating, stop containers and streams, remove after terminationMs. */
  terminate(ns: string | undefined, name: string): KubeObject | undefined {
    const pod = this.store.get(this.pods, ns, name);
    if (!pod) return undefined;
    if (pod.metadata.deletionTimestamp) return pod;
    const uid = pod.metadata.uid;
    const marked = this.store.mutate(this.pods, ns, name, (p) => {
      p.metadata.deletionTimestamp = timestamp();
      p.metadata.deletionGracePeriodSeconds = Math.ceil(this.delays.terminationMs / 1000);
    });
    this.kill(uid);
    const remove = () => {
      const still = this.store.get(this.pods, ns, name);
      if (still?.metadata.uid === uid) this.store.remove(this.pods, ns, name);
    };
    if (this.delays.terminationMs > 0) this.later(this.delays.terminationMs, remove);
    else remove();
    return marked;
  }

  private kill(uid: string): void {
    const b = this.backends.get(uid);
    this.backends.delete(uid);
    this.emit('terminated', uid);
    void b?.stop();
  }

  /** Where a pod's container port really listens, or undefined (not running / nothing there). */
  localPort(uid: string, containerPort: number): number | undefined {
    return this.backends.get(uid)?.localPort(containerPort);
  }

  /** True when the pod's containers are up (port-forward can reach them). */
  isRunning(uid: string): boolean {
    return this.backends.has(uid);
  }

  /** Stops every timer and every backend. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const all = [...this.backends.values()];
    this.backends.clear();
    await Promise.all(all.map((b) => b.stop()));
  }
}

function conditions(ready: boolean, now: string): object[] {
  const s = ready ? 'True' : 'False';
  const why = ready ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status' };
  return [
    { type: 'Initialized', status: 'True', lastTransitionTime: now },
    { type: 'Ready', status: s, lastTransitionTime: now, ...why },
    { type: 'ContainersReady', status: s, lastTransitionTime: now, ...why },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
  ];
}

/**
 * The simulator's etcd: objects by type, one global resourceVersion counter, a bounded
 * history of change events (so watches can resume, and answer 410 Gone once their
 * resourceVersion has been compacted away), and synchronous change listeners.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceType } from './resources.js';
import { apiVersionOf } from './resources.js';
import { ApiError, notFound } from './status.js';

/** Object metadata, as much of it as the simulator keeps. */
export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
}

/** Any stored object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** One change, as watches see it; `object` is an immutable snapshot at `rv`. */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: ResourceType;
  object: KubeObject;
  /** The object before a MODIFIED change (for selector transitions). */
  previous?: KubeObject;
  rv: number;
}

/** Listener for every change; must not mutate the event. */
export type StoreListener = (event: StoreEvent) => void;

/** RFC 3339 at second precision, as the API server writes timestamps. */
export function timestamp(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

const key = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

/** In-memory object store with watch history. */
export class ObjectStore {
  private rv = 1000;
  private readonly objects = new Map<ResourceType, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  /** Events at or below this resourceVersion are no longer kept. */
  private compactedRv = this.rv;
  private readonly listeners = new Set<StoreListener>();

  constructor(private readonly historySize = 10_000) {}

  /** The newest resourceVersion (what a list returns). */
  currentRv(): number {
    return this.rv;
  }

  private bucket(t: ResourceType): Map<string, KubeObject> {
    let b = this.objects.get(t);
    if (!b) this.objects.set(t, (b = new Map()));
    return b;
  }

  /** A copy of one object, or undefined. */
  get(t: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.bucket(t).get(key(ns, name));
    return o && structuredClone(o);
  }

  /** Copies of all objects of a type, in one namespace or (ns null) all. */
  list(t: ResourceType, ns: string | null): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.bucket(t).values()) if (ns === null || o.metadata.namespace === ns) out.push(structuredClone(o));
    return out.sort((a, b) => key(a.metadata.namespace, a.metadata.name).localeCompare(key(b.metadata.namespace, b.metadata.name)));
  }

  /** Stores a new object, filling uid, resourceVersion, timestamps and a generated name. */
  create(t: ResourceType, input: Omit<KubeObject, 'metadata'> & { metadata: Partial<ObjectMeta> }): KubeObject {
    const meta = input.metadata;
    let name = meta.name;
    if (!name && meta.generateName) name = meta.generateName + randomUUID().replace(/-/g, '').slice(0, 5);
    if (!name) throw new ApiError(422, 'Invalid', `${t.kind} is invalid: metadata.name: Required value: name or generateName is required`);
    const ns = t.namespaced ? meta.namespace ?? 'default' : undefined;
    if (this.bucket(t).has(key(ns, name))) {
      throw new ApiError(409, 'AlreadyExists', `${t.plural} "${name}" already exists`, { name, kind: t.plural });
    }
    const obj: KubeObject = {
      ...structuredClone(input),
      apiVersion: apiVersionOf(t),
      kind: t.kind,
      metadata: {
        ...structuredClone(meta),
        name,
        namespace: ns,
        uid: randomUUID(),
        resourceVersion: '',
        creationTimestamp: timestamp(),
        generation: meta.generation ?? 1,
      },
    };
    return this.commit('ADDED', t, obj);
  }

  /** Applies `change` to a stored object and records a MODIFIED event; undefined when absent. */
  mutate(t: ResourceType, ns: string | undefined, name: string, change: (obj: KubeObject) => void): KubeObject | undefined {
    const current = this.bucket(t).get(key(ns, name));
    if (!current) return undefined;
    const next = structuredClone(current);
    change(next);
    return this.commit('MODIFIED', t, next, current);
  }

  /** Removes an object for good (the DELETED event); throws 404 when absent. */
  remove(t: ResourceType, ns: string | undefined, name: string): KubeObject {
    const current = this.bucket(t).get(key(ns, name));
    if (!current) throw notFound(t.plural, name, t.group);
    return this.commit('DELETED', t, structuredClone(current));
  }

  private commit(type: StoreEvent['type'], t: ResourceType, obj: KubeObject, previous?: KubeObject): KubeObject {
    const rv = ++this.rv;
    obj.metadata.resourceVersion = String(rv);
    const k = key(obj.metadata.namespace, obj.metadata.name);
    if (type === 'DELETED') this.bucket(t).delete(k);
    else this.bucket(t).set(k, obj);
    const event: StoreEvent = { type, resource: t, object: structuredClone(obj), previous, rv };
    this.history.push(event);
    if (this.history.length > this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const l of this.listeners) l(event);
    return structuredClone(obj);
  }

  /** Events of type `t` after `rv`, or 'expired' when history no longer reaches back that far. */
  since(t: ResourceType, rv: number): StoreEvent[] | 'expired' {
    if (rv < this.compactedRv) return 'expired';
    return this.history.filter((e) => e.rv > rv && e.resource === t);
  }

  /** The oldest resourceVersion a watch can still resume from. */
  oldestRv(): number {
    return this.compactedRv;
  }

  /** Forgets all history, so every watch resuming from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  /** Adds a change listener; returns its removal. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

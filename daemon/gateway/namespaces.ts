/**
 * The namespaces a gateway watches, on demand: a namespace's cache (its pod and service watches, shared with any
 * forward on it through NamespaceCaches) is acquired by its first connection, kept while connections use it and
 * for `idleMs` after the last one, then released. At most `max` are held; a new one first displaces the namespace
 * unused the longest, and is refused (LIMIT_EXCEEDED) while every held namespace is in use.
 */
import { KportError } from '../api/errors.js';
import type { NamespaceCaches } from '../kube/caches.js';
import type { KubeClient } from '../kube/client.js';
import type { NamespaceCache } from '../kube/namespace-cache.js';

/** A connection's hold on a namespace; `release` once, when the connection is done with it. */
export interface NamespaceUse {
  readonly cache: NamespaceCache;
  release(): void;
}

interface Entry {
  cache: NamespaceCache;
  users: number;
  /** When the last user let go (for choosing whom to displace). */
  idleSince: number;
  idleTimer: NodeJS.Timeout | null;
  onChange: () => void;
}

/** Namespaces held for one gateway. */
export class NamespacePool {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly caches: NamespaceCaches,
    private readonly client: KubeClient,
    private readonly limits: { idleMs: number; max: number },
    /** Called on every change in a held namespace (pods, services, the API server's health). */
    private readonly onChange: (namespace: string) => void,
  ) {}

  /** Holds `namespace`, starting its watches if none run; LIMIT_EXCEEDED when `max` namespaces are all in use. */
  use(namespace: string): NamespaceUse | KportError {
    let entry = this.entries.get(namespace);
    if (!entry) {
      if (this.entries.size >= this.limits.max && !this.displaceOne()) {
        return new KportError('LIMIT_EXCEEDED', `${this.limits.max} namespaces are in use through this gateway at once, its limit; namespace "${namespace}" has to wait until one is free`);
      }
      const cache = this.caches.acquire(this.client, namespace);
      const onChange = () => this.onChange(namespace);
      cache.on('change', onChange);
      entry = { cache, users: 0, idleSince: 0, idleTimer: null, onChange };
      this.entries.set(namespace, entry);
    }
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    entry.users++;
    const held = entry;
    let released = false;
    return {
      cache: held.cache,
      release: () => {
        if (released) return;
        released = true;
        this.letGo(namespace, held);
      },
    };
  }

  /** The caches held now (for IP lookups: the namespaces already watched are searched first). */
  watched(): NamespaceCache[] {
    return [...this.entries.values()].map((e) => e.cache);
  }

  /** Releases every namespace at once (the gateway stops). */
  close(): void {
    for (const namespace of [...this.entries.keys()]) this.drop(namespace);
  }

  private letGo(namespace: string, entry: Entry): void {
    if (this.entries.get(namespace) !== entry || --entry.users > 0) return;
    entry.idleSince = Date.now();
    entry.idleTimer = setTimeout(() => this.drop(namespace), this.limits.idleMs);
  }

  /** Drops the namespace unused the longest; false when every held namespace is in use. */
  private displaceOne(): boolean {
    let oldest: [string, Entry] | null = null;
    for (const pair of this.entries) if (pair[1].users === 0 && (!oldest || pair[1].idleSince < oldest[1].idleSince)) oldest = pair;
    if (!oldest) return false;
    this.drop(oldest[0]);
    return true;
  }

  private drop(namespace: string): void {
    const entry = this.entries.get(namespace);
    if (!entry) return;
    this.entries.delete(namespace);
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.cache.off('change', entry.onChange);
    this.caches.release(entry.cache);
  }
}

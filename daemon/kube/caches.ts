/** The registry of namespace caches: one per (client, namespace), shared, stopped with its last user. */
import type { Logger } from 'pino';
import type { KubeClient } from './client.js';
import { NamespaceCache } from './namespace-cache.js';

interface Entry {
  cache: NamespaceCache;
  users: number;
}

/** Hands out shared, started NamespaceCaches; the supervisor owns one. */
export class NamespaceCaches {
  private readonly entries = new Map<KubeClient, Map<string, Entry>>();

  constructor(private readonly log: Logger) {}

  /** The started cache of `namespace` on `client`. */
  acquire(client: KubeClient, namespace: string): NamespaceCache {
    let byNs = this.entries.get(client);
    if (!byNs) this.entries.set(client, (byNs = new Map()));
    let entry = byNs.get(namespace);
    if (!entry) {
      const cache = new NamespaceCache(client, namespace, this.log.child({ context: client.context, namespace }));
      cache.start();
      byNs.set(namespace, (entry = { cache, users: 0 }));
    }
    entry.users++;
    return entry.cache;
  }

  /** Gives a cache back; the last user stops its watches. */
  release(cache: NamespaceCache): void {
    const byNs = this.entries.get(cache.client);
    const entry = byNs?.get(cache.namespace);
    if (!byNs || !entry || entry.cache !== cache) return;
    if (--entry.users > 0) return;
    cache.stop();
    byNs.delete(cache.namespace);
    if (byNs.size === 0) this.entries.delete(cache.client);
  }

  /** Every cache held now (read-only use: shell completion lists what they hold). */
  held(): NamespaceCache[] {
    return [...this.entries.values()].flatMap((byNs) => [...byNs.values()].map((e) => e.cache));
  }

  /** Stops every cache. */
  stopAll(): void {
    for (const byNs of this.entries.values()) for (const e of byNs.values()) e.cache.stop();
    this.entries.clear();
  }
}

/**
 * The registry of API clients: one KubeClient per (kubeconfig files, context), shared by every
 * session on that context and closed when the last one lets go.
 */
import { KubeClient } from './client.js';
import { loadContext } from './kubeconfig.js';

interface Entry {
  client: KubeClient;
  users: number;
}

/** Hands out shared clients; the supervisor owns one. */
export class KubeClients {
  private readonly entries = new Map<string, Entry>();

  /** The client for `context` (null: current-context) of `kubeconfig`; throws KportError KUBECONFIG / CONTEXT_NOT_FOUND. */
  acquire(kubeconfig: readonly string[], context: string | null): KubeClient {
    const resolved = loadContext(kubeconfig, context);
    const key = `${kubeconfig.join(':')}#${resolved.context}`;
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { client: new KubeClient(resolved, () => loadContext(kubeconfig, resolved.context)), users: 0 }));
    entry.users++;
    return entry.client;
  }

  /** Gives a client back; the last user closes it. */
  release(client: KubeClient): void {
    for (const [key, entry] of this.entries) {
      if (entry.client !== client) continue;
      if (--entry.users === 0) {
        client.close();
        this.entries.delete(key);
      }
      return;
    }
  }

  /** Closes every client. */
  closeAll(): void {
    for (const e of this.entries.values()) e.client.close();
    this.entries.clear();
  }
}

/**
 * Kubeconfig files merged as kubectl merges them (for each name, the first file that defines
 * it wins; current-context from the first file that sets one), narrowed to one context.
 */
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { KportError } from '../api/errors.js';

/** One context, ready for client-node: `kc` has it as current-context. */
export interface ContextConfig {
  kc: KubeConfig;
  context: string;
  /** The context's namespace, when it sets one. */
  namespace: string | undefined;
  /** The API server URL. */
  server: string;
}

function firstByName<T extends { name: string }>(lists: T[][]): T[] {
  const seen = new Map<string, T>();
  for (const list of lists) for (const item of list) if (!seen.has(item.name)) seen.set(item.name, item);
  return [...seen.values()];
}

/** Loads `files` (missing ones skipped, as kubectl does) and selects `context` (null: the current-context). */
export function loadContext(files: readonly string[], context: string | null): ContextConfig {
  const loaded: KubeConfig[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file, { onInvalidEntry: 'filter' });
    } catch (err) {
      throw new KportError('KUBECONFIG', `cannot read kubeconfig ${file}: ${(err as Error).message}`);
    }
    loaded.push(kc);
  }
  if (loaded.length === 0) {
    throw new KportError('KUBECONFIG', `no kubeconfig found (looked for ${files.join(', ') || 'nothing'})`);
  }
  const contexts = firstByName<Context>(loaded.map((k) => k.getContexts()));
  const name = context ?? loaded.map((k) => k.getCurrentContext()).find((c) => c) ?? null;
  if (name === null) throw new KportError('CONTEXT_NOT_FOUND', 'the kubeconfig sets no current-context and none was given');
  const ctx = contexts.find((c) => c.name === name);
  if (!ctx) {
    const known = contexts.map((c) => c.name).join(', ') || 'none';
    throw new KportError('CONTEXT_NOT_FOUND', `context "${name}" is not in the kubeconfig (contexts: ${known})`);
  }
  const clusters = firstByName<Cluster>(loaded.map((k) => k.getClusters()));
  const users = firstByName<User>(loaded.map((k) => k.getUsers()));
  const cluster = clusters.find((c) => c.name === ctx.cluster);
  if (!cluster) throw new KportError('KUBECONFIG', `context "${name}" names cluster "${ctx.cluster}", which the kubeconfig does not define`);
  if (!users.some((u) => u.name === ctx.user)) throw new KportError('KUBECONFIG', `context "${name}" names user "${ctx.user}", which the kubeconfig does not define`);
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters, users, contexts, currentContext: name });
  return { kc, context: name, namespace: ctx.namespace, server: cluster.server };
}

/**
 * Kubeconfig files merged as kubectl merges them (for each name, the first file that defines it
 * wins; current-context from the first file that sets one), narrowed to one context.
 *
 * Entries are parsed by @kubernetes/client-node's own config_types, but not through its
 * `KubeConfig` class: that class imports the whole generated API (~65 MB of RSS), which a daemon
 * that only needs credentials and TLS settings cannot afford.
 */
import { newClusters, newContexts, newUsers, type Cluster, type Context, type User } from '@kubernetes/client-node/dist/config_types.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { KportError } from '../api/errors.js';

/** A kubeconfig user, with the token file kubectl reads (`tokenFile`, or the older `token-file`) as an absolute path. */
export type KubeUser = User & { tokenFile?: string };

/** One context with its cluster and user, ready to build a client from. */
export interface ContextConfig {
  context: string;
  /** The context's namespace, when it sets one. */
  namespace: string | undefined;
  /** The API server URL. */
  server: string;
  cluster: Cluster;
  user: KubeUser;
}

interface KubeconfigFile {
  clusters: Cluster[];
  users: KubeUser[];
  contexts: Context[];
  currentContext: string | undefined;
}

const absolute = (dir: string, file: string | undefined) => (file && !isAbsolute(file) ? join(dir, file) : file);

/** Reads one file; relative certificate paths are relative to the file's folder (as kubectl has it). */
function readFile(file: string): KubeconfigFile {
  let doc: Record<string, unknown>;
  try {
    doc = (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new KportError('KUBECONFIG', `cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
  const dir = dirname(file);
  const opts = { onInvalidEntry: 'filter' as const };
  // client-node knows only `token-file`, reads it once relative to the working folder and keeps its newline
  // (and drops the user if it is missing); kubectl's key is `tokenFile`, relative to the kubeconfig's folder,
  // trimmed and read again as credentials are renewed. So kport takes the path and reads it (credentials.ts).
  const tokenFiles = new Map<unknown, string>();
  const users = (Array.isArray(doc.users) ? doc.users : []).map((entry: unknown) => {
    const { user, name } = (entry ?? {}) as { user?: Record<string, unknown>; name?: unknown };
    if (!user || typeof user !== 'object') return entry;
    const { 'token-file': older, ...rest } = user;
    const path = typeof user.tokenFile === 'string' && user.tokenFile ? user.tokenFile : older;
    if (typeof path === 'string' && path && !tokenFiles.has(name)) tokenFiles.set(name, path); // the first entry of a name wins, as in firstByName
    return { ...(entry as object), user: rest };
  });
  return {
    clusters: newClusters(doc.clusters, opts).map((c) => ({ ...c, caFile: absolute(dir, c.caFile) })),
    users: newUsers(users, opts).map((u) => ({ ...u, certFile: absolute(dir, u.certFile), keyFile: absolute(dir, u.keyFile), tokenFile: absolute(dir, tokenFiles.get(u.name)) })),
    contexts: newContexts(doc.contexts, opts),
    currentContext: typeof doc['current-context'] === 'string' && doc['current-context'] ? doc['current-context'] : undefined,
  };
}

function firstByName<T extends { name: string }>(lists: T[][]): T[] {
  const seen = new Map<string, T>();
  for (const list of lists) for (const item of list) if (!seen.has(item.name)) seen.set(item.name, item);
  return [...seen.values()];
}

/** Loads `files` (missing ones skipped, as kubectl does) and selects `context` (null: the current-context). */
export function loadContext(files: readonly string[], context: string | null): ContextConfig {
  const loaded = files.filter((f) => existsSync(f)).map(readFile);
  if (loaded.length === 0) {
    throw new KportError('KUBECONFIG', `no kubeconfig found (looked for ${files.join(', ') || 'nothing'})`);
  }
  const contexts = firstByName(loaded.map((k) => k.contexts));
  const name = context ?? loaded.map((k) => k.currentContext).find((c) => c) ?? null;
  if (name === null) throw new KportError('CONTEXT_NOT_FOUND', 'the kubeconfig sets no current-context and none was given');
  const ctx = contexts.find((c) => c.name === name);
  if (!ctx) {
    const known = contexts.map((c) => c.name).join(', ') || 'none';
    throw new KportError('CONTEXT_NOT_FOUND', `context "${name}" is not in the kubeconfig (contexts: ${known})`);
  }
  const cluster = firstByName(loaded.map((k) => k.clusters)).find((c) => c.name === ctx.cluster);
  if (!cluster) throw new KportError('KUBECONFIG', `context "${name}" names cluster "${ctx.cluster}", which the kubeconfig does not define`);
  const user = firstByName(loaded.map((k) => k.users)).find((u) => u.name === ctx.user);
  if (!user) throw new KportError('KUBECONFIG', `context "${name}" names user "${ctx.user}", which the kubeconfig does not define`);
  return { context: name, namespace: ctx.namespace, server: cluster.server, cluster, user };
}

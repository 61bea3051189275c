/**
 * What kport.yaml's checks need from the kubeconfig: its contexts, their namespaces and the current-context,
 * merged over several files as kubectl merges them (the first file to define a context wins; the current-context
 * comes from the first file that sets one; missing files are skipped).
 */
import { quote } from './issues.js';
import { readText } from './read.js';
import { isMapping, parseYaml, type TextLimits } from './source.js';

/** The merged kubeconfig view. */
export interface KubeconfigView {
  contexts: ReadonlyMap<string, { namespace: string | null }>;
  currentContext: string | null;
}

// Kubeconfigs embed certificates, so they are allowed to be larger than kport.yaml.
const KUBECONFIG_LIMITS: TextLimits = { maxBytes: 16 * 1024 * 1024, label: 'a kubeconfig' };

/**
 * Reads and merges `files`. The view is null when it cannot be trusted (no file exists, or one cannot be read or
 * parsed): contexts are then not checked, and `unchecked` says why, for a warning.
 */
export async function readKubeconfig(
  files: readonly string[],
): Promise<{ view: KubeconfigView; unchecked: null } | { view: null; unchecked: string }> {
  const contexts = new Map<string, { namespace: string | null }>();
  let currentContext: string | null = null;
  let found = 0;
  for (const file of files) {
    const text = await readText(file, KUBECONFIG_LIMITS);
    if (!text.ok && text.missing) continue;
    const untrusted = (why: string) => ({ view: null, unchecked: `kubeconfig ${why}; contexts are not checked` }) as const;
    if (!text.ok) return untrusted(`${file}: ${text.message}`);
    const parsed = parseYaml(text.value, KUBECONFIG_LIMITS);
    if (!parsed.ok) {
      const first = parsed.problems[0]!;
      return untrusted(`${file}${first.pos ? `:${first.pos.line}:${first.pos.col}` : ''}: ${first.message}`);
    }
    // An empty file is an empty kubeconfig, as kubectl reads it.
    const doc = parsed.value ?? {};
    if (!isMapping(doc)) return untrusted(`${file}: not a kubeconfig (no mapping at the top)`);
    found++;
    for (const entry of Array.isArray(doc.contexts) ? doc.contexts : []) {
      if (!isMapping(entry) || typeof entry.name !== 'string' || contexts.has(entry.name)) continue;
      const ns = isMapping(entry.context) && typeof entry.context.namespace === 'string' ? entry.context.namespace : '';
      contexts.set(entry.name, { namespace: ns === '' ? null : ns });
    }
    const current = doc['current-context'];
    if (currentContext === null && typeof current === 'string' && current !== '') currentContext = current;
  }
  if (found === 0) {
    const names = files.map((f) => quote(f)).join(', ');
    return { view: null, unchecked: `no kubeconfig found (looked for ${names}); contexts are not checked` };
  }
  return { view: { contexts, currentContext }, unchecked: null };
}

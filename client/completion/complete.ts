/**
 * Shell completion's brain, shared by the bash, zsh and fish scripts: the words typed so far in, the candidates for
 * the last one out. Verbs and flags come from the verbs' own declarations; session names and the names after
 * `svc/`, `pod/`, `deploy/`, `sts/`, `rs/` from kportd (what its watch caches already hold: no API request per
 * keystroke); contexts from the kubeconfig kubectl would read. Nothing here fails: what cannot be had is left out.
 */
import { kubeconfigFromEnv } from '../../config/paths.js';
import { TARGET_KINDS } from '../../config/target.js';
import type { CachedKind } from '../../daemon/api/rpc.js';
import { localPath } from '../args.js';
import { findCommand } from '../cli.js';
import type { Command, Completes, Flag } from '../command.js';
import { HELP_FLAG } from '../help.js';
import type { RpcClient } from '../rpc.js';

/** What completing needs from around it. */
export interface CompletionSources {
  commands: readonly Command[];
  env: Record<string, string | undefined>;
  cwd: string;
  home: string;
  /** kportd, opened on first use; a rejection means no names from it. */
  connect(): Promise<RpcClient>;
}

/** The short kind words offered before a `/`; any of kubectl's (config/target.ts) is understood after one. */
const KIND_PREFIXES = ['svc/', 'pod/', 'deploy/', 'sts/', 'rs/'];

/** A verb's flags, help included, by `--long` and `-s`. */
function flagsOf(c: Command): Map<string, Flag & { name: string }> {
  const byWord = new Map<string, Flag & { name: string }>();
  for (const [name, f] of Object.entries({ ...c.flags, help: HELP_FLAG })) {
    byWord.set(`--${name}`, { ...f, name });
    if (f.short) byWord.set(`-${f.short}`, { ...f, name });
  }
  return byWord;
}

/** The words after the verb read as kportctl parses them: positionals, flag values, and a flag still waiting for one. */
function readWords(words: readonly string[], flags: Map<string, Flag & { name: string }>) {
  const positionals: string[] = [];
  const values = new Map<string, string>();
  let waiting: (Flag & { name: string }) | null = null;
  let onlyPositionals = false;
  for (const w of words) {
    if (waiting) {
      values.set(waiting.name, w);
      waiting = null;
    } else if (onlyPositionals || w === '-' || !w.startsWith('-')) positionals.push(w);
    else if (w === '--') onlyPositionals = true;
    else if (w.startsWith('--') && w.includes('=')) {
      const f = flags.get(w.slice(0, w.indexOf('=')));
      if (f) values.set(f.name, w.slice(w.indexOf('=') + 1));
    } else if (w.startsWith('--')) {
      const f = flags.get(w);
      if (f?.type === 'string') waiting = f;
    } else {
      // -abc: booleans, the last of which may take the next word as its value.
      const last = flags.get(`-${w.at(-1)}`);
      if (w.length === 2 && last?.type === 'string') waiting = last;
    }
  }
  return { positionals, values, waiting };
}

/** kportd's answer, or nothing when it is not there. */
async function fromDaemon<T>(src: CompletionSources, ask: (rpc: RpcClient) => Promise<T[]>): Promise<T[]> {
  try {
    return await ask(await src.connect());
  } catch {
    return [];
  }
}

/** The contexts of the kubeconfig kubectl would read: --kubeconfig, else $KUBECONFIG, else ~/.kube/config. */
async function contexts(src: CompletionSources, kubeconfig: string | undefined): Promise<string[]> {
  const files = kubeconfig ? [localPath(kubeconfig, src.cwd)] : kubeconfigFromEnv({ env: src.env, home: src.home, cwd: src.cwd });
  // The kubeconfig reader (and yaml with it) is loaded when a completion needs contexts, not by every verb.
  const { readKubeconfig } = await import('../../config/kubeconfig.js');
  const read = await readKubeconfig(files.map((f) => (f.startsWith('~/') ? `${src.home}${f.slice(1)}` : f)));
  return read.view ? [...read.view.contexts.keys()] : [];
}

/** `svc/`, `pod/`… before the slash; after it, the names kportd's caches hold for that kind there. */
async function targets(src: CompletionSources, cur: string, values: Map<string, string>): Promise<string[]> {
  const slash = cur.indexOf('/');
  if (slash === -1) return KIND_PREFIXES;
  const word = cur.slice(0, slash);
  const kind = Object.hasOwn(TARGET_KINDS, word) ? (TARGET_KINDS[word] as CachedKind) : null;
  if (kind === null) return [];
  const query = { kind, ...(values.has('context') ? { context: values.get('context') } : {}), ...(values.has('namespace') ? { namespace: values.get('namespace') } : {}) };
  const names = await fromDaemon(src, async (rpc) => (await rpc.call('cluster.names', query)).names);
  return names.map((n) => `${word}/${n}`);
}

/** The candidates for a positional argument of kind `what`. */
async function positional(what: Completes, src: CompletionSources, cur: string, values: Map<string, string>): Promise<string[]> {
  if (what === null) return [];
  if (what === 'session') return fromDaemon(src, async (rpc) => (await rpc.call('session.list', {})).map((s) => s.name));
  if (what === 'target') return targets(src, cur, values);
  return [...what];
}

/** The candidates for the last of `words` (the words after `kportctl`; the last is the one being typed, maybe ''). */
export async function complete(words: readonly string[], src: CompletionSources): Promise<string[]> {
  const typed = words.length === 0 ? [''] : words;
  const cur = typed.at(-1)!;
  const before = typed.slice(0, -1);
  const shown = src.commands.filter((c) => !c.hidden);
  const matching = (candidates: readonly string[]) => [...new Set(candidates)].filter((c) => c.startsWith(cur));
  if (before.length === 0) return matching(cur.startsWith('-') ? ['--help', '--version'] : [...shown.flatMap((c) => [c.name, ...(c.aliases ?? [])]), 'help']);
  if (before[0] === 'help') return before.length === 1 ? matching(shown.map((c) => c.name)) : [];
  const c = findCommand(src.commands, before[0]!);
  if (!c || c.hidden) return [];
  const flags = flagsOf(c);
  const { positionals, values, waiting } = readWords(before.slice(1), flags);
  if (waiting) {
    if (waiting.completes === 'context') return matching(await contexts(src, values.get('kubeconfig')));
    return matching(waiting.completes ?? []);
  }
  if (cur.startsWith('-')) return matching([...flags.keys()].filter((w) => w.startsWith('--')));
  const completes = c.completes ?? [];
  const what = completes[Math.min(positionals.length, completes.length - 1)] ?? null;
  // A forward given --selector has no TARGET: its second argument is a port.
  if (what === 'target' && values.has('selector')) return [];
  return matching(await positional(what, src, cur, values));
}

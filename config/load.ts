/**
 * Loading kport.yaml: text → YAML → schema → resolution → cross-session checks, collecting every problem on the
 * way and placing it in the file. Also the check of one entry on its own, for sessions added over RPC.
 */
import { dirname, resolve } from 'node:path';
import { clashingBinds, duplicateNames, type Claim, type NameClaim } from './conflicts.js';
import { error, formatPath, quote, warning, type PathSegment, type Problem } from './issues.js';
import { readKubeconfig, type KubeconfigView } from './kubeconfig.js';
import { kubeconfigFromEnv } from './paths.js';
import { readText } from './read.js';
import { checkDefaults, defaultsFrom, entryKubeconfig, resolveForward, resolveGateway, resolveMetrics, resolveProxy, type Resolved, type ResolveBase } from './resolve.js';
import {
  fileSchema,
  forwardSchema,
  gatewaySchema,
  proxySchema,
  type RawDefaults,
  type RawFile,
  type RawForward,
  type RawGateway,
  type RawMetrics,
  type RawProxy,
} from './schema.js';
import { isMapping, KPORT_YAML_LIMITS, parseYaml, type Locate } from './source.js';
import { entryOf } from './stored.js';
import { SESSION_KINDS, type ConfigEnv, type ConfigIssue, type DesiredState, type Displaced, type LoadResult, type SessionKind, type SessionSpec } from './types.js';
import { validate, type Validated } from './validate.js';

export { defaultConfigPath } from './paths.js';

/**
 * Reads and loads a kport.yaml; a file that cannot be read is an error naming it. `runtime` are sessions added
 * outside the file (kportctl add): the file wins, and those taking its names or local binds are displaced.
 */
export async function loadConfigFile(file: string, env: ConfigEnv, runtime: readonly SessionSpec[] = []): Promise<LoadResult> {
  const absolute = resolve(env.cwd, file);
  const text = await readText(absolute, KPORT_YAML_LIMITS);
  if (!text.ok) return finish([error([], text.message)], null, file, null);
  return loadText(text.value, file, absolute, env, runtime);
}

/** Loads kport.yaml text; `file` names it in issues and anchors relative paths (null: the working directory). */
export async function loadConfigText(text: string, file: string | null, env: ConfigEnv, runtime: readonly SessionSpec[] = []): Promise<LoadResult> {
  return loadText(text, file, file === null ? null : resolve(env.cwd, file), env, runtime);
}

async function loadText(text: string, shown: string | null, absolute: string | null, env: ConfigEnv, runtime: readonly SessionSpec[]): Promise<LoadResult> {
  const parsed = parseYaml(text, KPORT_YAML_LIMITS);
  if (!parsed.ok) return finish(parsed.problems, null, shown, null);
  const { locate } = parsed;
  const { state, problems, claims } = await resolveFile(parsed.value ?? {}, absolute, env);
  // The file's sessions, named with their line for the runtime sessions they displace.
  const placed = claims.map((c): Claim => {
    const pos = c.at && locate(c.at, false);
    const where = [shown, pos?.line, pos?.col].filter((p) => p !== null && p !== undefined).join(':');
    return { ...c, at: null, label: where === '' ? c.label : `${c.label} at ${where}` };
  });
  const empty = parsed.value === null || parsed.value === undefined;
  return finish([...parsed.warnings, ...problems], state, shown, locate, { displaced: displacedBy(placed, runtimeClaims(runtime)), empty });
}

/** Sessions that exist outside what is being checked: only ever the earlier party of a clash. */
function runtimeClaims(specs: readonly SessionSpec[], origin = ', added with kportctl'): Claim[] {
  return specs.map((s) => ({ spec: s, at: null, label: `${s.kind} ${quote(s.name)}${origin}` }));
}

/**
 * Which of `later` cannot run beside `earlier` and the later ones kept before them: a name already used or a
 * local bind that clashes. Problems are reported at the later session's own keys (`ports[1]`).
 */
function displacedBy(earlier: readonly Claim[], later: readonly Claim[]): Displaced[] {
  const kept = [...earlier];
  const displaced: Displaced[] = [];
  for (const claim of later) {
    const self: Claim = { ...claim, at: [] };
    const problems = [
      ...duplicateNames([...kept.map(nameClaim), { name: claim.spec.name, at: [], label: claim.label }]),
      ...clashingBinds([...kept, self]),
    ];
    if (problems.length === 0) kept.push(claim);
    else displaced.push({ name: claim.spec.name, message: problems.map((p) => `${formatPath(p.path)}: ${p.message}`).join('; ') });
  }
  return displaced;
}

/** The parts of a file that validated, each entry with its path. */
interface Sections {
  kubeconfig: RawFile['kubeconfig'];
  defaults: RawDefaults | null | undefined;
  forwards: Array<{ raw: RawForward; at: PathSegment[] }>;
  proxies: Array<{ raw: RawProxy; at: PathSegment[] }>;
  gateways: Array<{ raw: RawGateway; at: PathSegment[] }>;
  metrics: RawMetrics | null | undefined;
}

const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * When the whole file does not validate, the entries that do are still resolved and cross-checked, so one run
 * reports every problem. Without valid kubeconfig and defaults sections there is nothing sound to resolve against.
 */
function salvage(raw: unknown): Sections | null {
  if (!isMapping(raw)) return null;
  const kubeconfig = validate(fileSchema.shape.kubeconfig, raw.kubeconfig);
  const defaults = validate(fileSchema.shape.defaults, raw.defaults);
  if (!kubeconfig.ok || !defaults.ok) return null;
  const entries = <T>(section: string, check: (v: unknown) => { ok: true; value: T } | { ok: false }) =>
    listOf(raw[section]).flatMap((item, i) => {
      const v = check(item);
      return v.ok ? [{ raw: v.value, at: [section, i] }] : [];
    });
  const metrics = validate(fileSchema.shape.metrics, raw.metrics);
  return {
    kubeconfig: kubeconfig.value,
    defaults: defaults.value,
    forwards: entries('forwards', (v) => validate(forwardSchema, v)),
    proxies: entries('proxies', (v) => validate(proxySchema, v)),
    gateways: entries('gateways', (v) => validate(gatewaySchema, v)),
    // Its own errors are already reported; a section that passed is still resolved for its warnings.
    metrics: metrics.ok ? metrics.value : undefined,
  };
}

function sectionsOf(file: RawFile): Sections {
  const withPaths = <T>(section: string, list: T[] | null | undefined) =>
    (list ?? []).map((raw, i) => ({ raw, at: [section, i] }));
  return {
    kubeconfig: file.kubeconfig,
    defaults: file.defaults,
    forwards: withPaths('forwards', file.forwards),
    proxies: withPaths('proxies', file.proxies),
    gateways: withPaths('gateways', file.gateways),
    metrics: file.metrics,
  };
}

const nameClaim = (c: Claim): NameClaim => ({ name: c.spec.name, at: null, label: c.label });

/** Names as written, valid or not, so a duplicate is reported even next to an entry with other errors. */
function namesOf(raw: unknown): NameClaim[] {
  if (!isMapping(raw)) return [];
  return ['forwards', 'proxies', 'gateways'].flatMap((section) =>
    listOf(raw[section]).flatMap((item, i) => {
      const name = isMapping(item) ? item.name : undefined;
      return typeof name === 'string' ? [{ name, at: [section, i], label: formatPath([section, i]) }] : [];
    }),
  );
}

/** Reads the kubeconfig; when contexts cannot be checked, a warning at `at` (null: not about this file) says why. */
async function readKubeconfigAt(
  files: string[],
  at: PathSegment[] | null,
): Promise<{ view: KubeconfigView | null; problems: Problem[] }> {
  const read = await readKubeconfig(files);
  if (read.unchecked === null) return { view: read.view, problems: [] };
  const problem = at === null ? { ...warning([], read.unchecked), detached: true } : warning(at, read.unchecked);
  return { view: null, problems: [problem] };
}

/** The kubeconfig files (the `kubeconfig:` key expanded, else the environment's) and what they say. */
async function kubeconfigOf(
  written: RawFile['kubeconfig'],
  baseDir: string,
  env: ConfigEnv,
): Promise<{ files: string[]; view: KubeconfigView | null; problems: Problem[] }> {
  const own = entryKubeconfig(written, [], { env, baseDir });
  if (own.value === null) {
    const files = kubeconfigFromEnv(env);
    return { files, ...(await readKubeconfigAt(files, null)) };
  }
  const files = own.value;
  if (own.problems.length > 0) return { files, view: null, problems: own.problems };
  return { files, ...(await readKubeconfigAt(files, ['kubeconfig'])) };
}

/** What an entry resolves against: the file's base, or its own kubeconfig's view when it names one. */
async function entryBase(written: string | string[] | undefined, at: PathSegment[], base: ResolveBase): Promise<{ base: ResolveBase; problems: Problem[] }> {
  const own = entryKubeconfig(written, at, base);
  if (own.value === null) return { base, problems: [] };
  // Unexpandable paths are reported by the entry's own resolution; its contexts cannot be checked then.
  if (own.problems.length > 0) return { base: { ...base, kube: null }, problems: [] };
  const kube = await readKubeconfigAt(own.value, [...at, 'kubeconfig']);
  return { base: { ...base, kube: kube.view }, problems: kube.problems };
}

/** The file resolved, every problem found, and the claims of its sessions (for what comes from elsewhere). */
async function resolveFile(
  raw: unknown,
  absolute: string | null,
  env: ConfigEnv,
): Promise<{ state: DesiredState | null; problems: Problem[]; claims: Claim[] }> {
  const whole = validate(fileSchema, raw);
  const problems: Problem[] = whole.ok ? [] : [...whole.problems];
  problems.push(...duplicateNames(namesOf(raw)));
  const sections = whole.ok ? sectionsOf(whole.value) : salvage(raw);
  if (sections === null) return { state: null, problems, claims: [] };

  const baseDir = absolute === null ? env.cwd : dirname(absolute);
  const kube = await kubeconfigOf(sections.kubeconfig, baseDir, env);
  problems.push(...kube.problems);
  const defaults = defaultsFrom(sections.defaults);
  problems.push(...checkDefaults(defaults, kube.view));

  const base: ResolveBase = { defaults, kube: kube.view, baseDir, env };
  const claims: Claim[] = [];
  const resolveAll = async <R extends { kubeconfig?: string | string[] | undefined }, S extends SessionSpec>(
    entries: Array<{ raw: R; at: PathSegment[] }>,
    fn: (raw: R, at: PathSegment[], base: ResolveBase) => Resolved<S>,
  ): Promise<S[]> => {
    const specs: S[] = [];
    for (const { raw: entry, at } of entries) {
      const own = await entryBase(entry.kubeconfig, at, base);
      const r = fn(entry, at, own.base);
      problems.push(...own.problems, ...r.problems);
      claims.push({ spec: r.value, at, label: formatPath(at) });
      specs.push(r.value);
    }
    return specs;
  };
  const forwards = await resolveAll(sections.forwards, resolveForward);
  const proxies = await resolveAll(sections.proxies, resolveProxy);
  const gateways = await resolveAll(sections.gateways, resolveGateway);
  problems.push(...clashingBinds(claims));
  const metrics = resolveMetrics(sections.metrics);
  problems.push(...metrics.problems);
  return { state: { file: absolute, kubeconfig: kube.files, defaults, forwards, proxies, gateways, metrics: metrics.value }, problems, claims };
}

/** One problem placed in its file. */
function toIssue(p: Problem, file: string | null, locate: Locate | null): ConfigIssue {
  if (p.detached) return { severity: p.severity, file: null, line: null, col: null, path: '', message: p.message };
  const pos = p.pos !== undefined ? p.pos : locate ? locate(p.path, p.atKey ?? false) : null;
  const [line, col] = pos ? [pos.line, pos.col] : [null, null];
  return { severity: p.severity, file, line, col, path: formatPath(p.path), message: p.message };
}

/** Issues in reading order: whole-file ones first, then by position (the sort is stable). */
function inOrder(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => (a.line ?? -1) - (b.line ?? -1) || (a.col ?? 0) - (b.col ?? 0));
}

/** Problems placed in `file`, in reading order, split by severity. */
function place(problems: Problem[], file: string | null, locate: Locate | null) {
  const issues = inOrder(problems.map((p) => toIssue(p, file, locate)));
  return {
    errors: issues.filter((i) => i.severity === 'error'),
    warnings: issues.filter((i) => i.severity === 'warning'),
  };
}

function finish(
  problems: Problem[],
  state: DesiredState | null,
  file: string | null,
  locate: Locate | null,
  about: { displaced: Displaced[]; empty: boolean } = { displaced: [], empty: false },
): LoadResult {
  const { errors, warnings } = place(problems, file, locate);
  return errors.length === 0 && state !== null ? { ok: true, state, warnings, ...about } : { ok: false, errors, warnings };
}

/** The outcome of checking one entry on its own. */
export type EntryResult =
  | { ok: true; spec: SessionSpec; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

/**
 * Checks one forwards[]/proxies[]/gateways[] entry (as it would be written in YAML) for `kportctl add`: resolved with the
 * loaded file's defaults and kubeconfig (else the environment's), and checked against `existing` sessions' names
 * and binds. Issue paths are relative to the entry (`ports[1]`) and carry no file or position.
 */
export async function resolveEntry(
  kind: SessionKind,
  entry: unknown,
  base: { state: DesiredState | null; existing: SessionSpec[] },
  env: ConfigEnv,
): Promise<EntryResult> {
  const checked = checkEntry(kind, entry);
  if (!checked.ok) return done(checked.problems, null);

  const { state, existing } = base;
  const defaults = state?.defaults ?? defaultsFrom(undefined);
  const baseDir = state?.file ? dirname(state.file) : env.cwd;
  const { kubeconfig, resolve: resolveChecked } = checked.value;
  let problems: Problem[];
  let against: ResolveBase;
  if (kubeconfig === undefined) {
    const kube = await readKubeconfigAt(state?.kubeconfig ?? kubeconfigFromEnv(env), null);
    problems = [...kube.problems, ...checkDefaults(defaults, kube.view)];
    against = { defaults, kube: kube.view, baseDir, env };
  } else {
    // Its own kubeconfig, not the file's: defaults.context (a context of the file's kubeconfig) does not apply.
    const own = await entryBase(kubeconfig, [], { defaults, kube: null, baseDir, env });
    problems = own.problems;
    against = own.base;
  }
  const resolved = resolveChecked(against);
  problems.push(...resolved.problems);
  const spec = resolved.value;
  const others = runtimeClaims(existing, '');
  problems.push(...duplicateNames([...others.map(nameClaim), { name: spec.name, at: [], label: '' }]));
  problems.push(...clashingBinds([...others, { spec, at: [], label: '' }]));
  return done(problems, spec);
}

/** An entry's problems, placed (no file: paths are the entry's own), with its spec when there is no error. */
function done(problems: Problem[], spec: SessionSpec | null): EntryResult {
  const { errors, warnings } = place(problems, null, null);
  return errors.length === 0 && spec !== null ? { ok: true, spec, warnings } : { ok: false, errors, warnings };
}

/**
 * Checks a session read back from storage (a resolved spec, as kportd wrote it to sessions.json) by the schema and
 * resolution of a kport.yaml entry, every setting as stored. Contexts are not checked against the kubeconfig: it
 * may have changed since, and the session then fails on its own, visibly. Issue paths are the entry's keys.
 */
export function restoreSpec(stored: unknown, env: ConfigEnv): EntryResult {
  if (!isMapping(stored)) return done([error([], 'expected a mapping: a stored forward, proxy or gateway')], null);
  const { kind } = stored;
  if (!SESSION_KINDS.includes(kind as SessionKind)) return done([error(['kind'], 'expected "forward", "proxy" or "gateway"')], null);
  const checked = checkEntry(kind as SessionKind, entryOf(stored));
  if (!checked.ok) return done(checked.problems, null);
  const resolved = checked.value.resolve({ defaults: defaultsFrom(undefined), kube: null, baseDir: env.cwd, env });
  return done(resolved.problems, resolved.value);
}

/** What checking an entry gives: its own kubeconfig key as written, and how to resolve it against a base. */
interface CheckedEntry {
  kubeconfig: string | string[] | undefined;
  resolve: (b: ResolveBase) => Resolved<SessionSpec>;
}

/** Validates an entry of `kind`; what passes comes back ready to resolve against a base. */
function checkEntry(kind: SessionKind, entry: unknown): Validated<CheckedEntry> {
  if (kind === 'forward') {
    const v = validate(forwardSchema, entry);
    return v.ok ? { ok: true, value: { kubeconfig: v.value.kubeconfig, resolve: (b) => resolveForward(v.value, [], b) } } : v;
  }
  if (kind === 'gateway') {
    const v = validate(gatewaySchema, entry);
    return v.ok ? { ok: true, value: { kubeconfig: v.value.kubeconfig, resolve: (b) => resolveGateway(v.value, [], b) } } : v;
  }
  const v = validate(proxySchema, entry);
  return v.ok ? { ok: true, value: { kubeconfig: v.value.kubeconfig, resolve: (b) => resolveProxy(v.value, [], b) } } : v;
}

/**
 * The supervisor owns the map of running sessions and reconciles it with the desired state:
 * kport.yaml (last good load) plus the sessions added at runtime, with kportctl enable/disable's
 * overrides of `enabled` on top. A reload touches only what changed — an unchanged forward keeps its
 * listener and its open connections. Mutations are serialised, so a file-watch reload and an RPC add
 * never interleave. It also keeps the local ports runtime sessions were given, for their next start.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { diffSessions, sessionsOf } from '../config/diff.js';
import { formatIssue } from '../config/issues.js';
import { loadConfigFile, loadConfigText, resolveEntry } from '../config/load.js';
import type { ConfigEnv, ConfigIssue, DesiredState, Displaced, LoadResult, SessionKind, SessionSpec } from '../config/types.js';
import { KportError } from './api/errors.js';
import type { ConfigStatus, ReloadResult } from './api/rpc.js';
import { SESSION_STATES, type SessionSource, type SessionState, type SessionStatus } from './api/session.js';
import { isoTime } from './iso-time.js';
import type { Session } from './session/session.js';
import { Serial } from './serial.js';
import { chosenPorts, type KeptPorts, type SessionStore } from './state.js';

/** How the supervisor wants a session built, besides its spec. */
export interface SessionPlan {
  source: SessionSource;
  /** The desired state's merged kubeconfig list (a spec's own kubeconfig comes first). */
  kubeconfig: readonly string[];
  /** A runtime session that kport.yaml displaces: it is listed, with this error, and not started. */
  conflict: KportError | null;
  /** kportctl enable (true) or disable (false), already applied to the spec's `enabled`; null when none. */
  override: boolean | null;
  /** The local ports a runtime session was given at its last start, asked for again; null when none are kept. */
  keptPorts: KeptPorts | null;
}

/** Builds a session for a spec as planned. */
export type SessionFactory = (spec: SessionSpec, plan: SessionPlan) => Session;

/** What the supervisor is built with. */
export interface SupervisorDeps {
  log: Logger;
  env: ConfigEnv;
  /** The kport.yaml path (it may not exist yet). */
  configFile: string;
  store: SessionStore;
  createSession: SessionFactory;
  /** What else follows the file (the metrics server): called with each desired state applied, within its reload. */
  onApplied?: (state: DesiredState) => Promise<void>;
}

/** A session the desired state asks for. */
interface Wanted {
  spec: SessionSpec;
  source: SessionSource;
  /** Why a runtime session may not run beside kport.yaml; null for every other. */
  conflict: KportError | null;
  /** kportctl's override of `enabled` (applied to spec), or null. */
  override: boolean | null;
}

interface Running extends Wanted {
  session: Session;
  kubeconfig: readonly string[];
  detach: () => void;
}

/** An issue about the configuration as a whole, with no place in the file. */
const fileIssue = (severity: ConfigIssue['severity'], message: string): ConfigIssue => ({ severity, file: null, line: null, col: null, path: '', message });

/** How a wait ends: its session is ready, or an error (removed, timed out, the caller gone). */
type WaitOutcome = { ready: SessionStatus } | { error: KportError };

const summary = (issues: ConfigIssue[]) => issues.slice(0, 3).map(formatIssue).join('; ') + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : '');

/** Emits `session.changed` (SessionStatus) and `session.removed` ({ name }). */
export class Supervisor extends EventEmitter {
  private readonly running = new Map<string, Running>();
  /** The last good load of kport.yaml (an empty state before any). */
  private desired: DesiredState | null = null;
  /** Runtime sessions that the last good load displaced. */
  private displaced: Displaced[] = [];
  /** The last good load was of a missing or empty file, or there was none: nothing of the file's runs. */
  private nothingDeclared = true;
  private runtime: SessionSpec[] = [];
  /** Runtime sessions not written to disk. */
  private readonly ephemeral = new Set<string>();
  /** kportctl enable/disable, by session name: kept in sessions.json, applied over kport.yaml and runtime specs. */
  private overrides = new Map<string, boolean>();
  /** Local ports runtime sessions were given where they asked for any, by name: asked for again at their next start. */
  private keptPorts = new Map<string, KeptPorts>();
  /** Pending `wait` calls by session name; they follow the name across restarts and reloads. */
  private readonly waiters = new Map<string, Set<(outcome: WaitOutcome) => void>>();
  private config: ConfigStatus;
  private readonly mutations = new Serial();
  private stopping = false;

  constructor(private readonly deps: SupervisorDeps) {
    super();
    this.config = { file: deps.configFile, loadedAt: null, ok: true, blank: null, errors: [], warnings: [] };
  }

  /** Loads the persisted runtime sessions and kport.yaml, and starts everything. */
  start(): Promise<ReloadResult> {
    const stored = this.deps.store.load(this.deps.env);
    this.runtime = stored.sessions;
    this.overrides = stored.enabled;
    this.keptPorts = stored.ports;
    return this.reload();
  }

  /**
   * Re-reads kport.yaml and applies the difference. An invalid file changes nothing and is reported; so does a
   * missing or empty one once the file has declared sessions: an editor that truncates before it writes, or a
   * checkout that removes and re-creates the file, is not a wish to stop everything (`forwards: []` is).
   */
  reload(): Promise<ReloadResult> {
    return this.mutations.run(async () => {
      const { configFile, env } = this.deps;
      const exists = existsSync(configFile);
      const result = exists ? await loadConfigFile(configFile, env, this.runtime) : await loadConfigText('', configFile, env, this.runtime);
      const blank = !exists ? 'missing' : result.ok && result.empty ? 'empty' : null;
      const loadedAt = isoTime();
      const untouched = { ok: false, added: [], removed: [], changed: [], unchanged: [], warnings: result.warnings };
      const name = basename(configFile);
      if (blank !== null && !this.nothingDeclared) {
        const kept = `${name} is ${blank}: keeping the sessions of its last good load (write "forwards: []" to stop them)`;
        const errors = [fileIssue('error', kept)];
        this.config = { file: configFile, loadedAt, ok: false, blank, errors, warnings: result.warnings };
        this.deps.log.warn({ file: configFile }, kept);
        return { ...untouched, errors };
      }
      if (!result.ok) {
        this.config = { file: configFile, loadedAt, ok: false, blank: null, errors: result.errors, warnings: result.warnings };
        this.deps.log.error({ file: configFile, errors: result.errors.map(formatIssue) }, 'kport.yaml rejected; keeping the running sessions');
        // Before any good load there is still a base for runtime sessions: the environment's kubeconfig.
        if (!this.desired) await this.apply(await this.emptyState());
        return { ...untouched, errors: result.errors };
      }
      const warnings = [
        ...(blank ? [fileIssue('warning', `${name} is ${blank}: only sessions added with kportctl run (declare sessions in it to start them)`)] : []),
        ...result.warnings,
        ...result.displaced.map((d) => this.displacedWarning(d)),
      ];
      this.config = { file: configFile, loadedAt, ok: true, blank, errors: [], warnings };
      for (const w of warnings) this.deps.log.warn(formatIssue(w));
      this.nothingDeclared = blank !== null;
      const outcome = await this.apply(result);
      this.deps.log.info({ file: configFile, ...outcome }, 'configuration applied');
      return { ok: true, ...outcome, errors: [], warnings };
    });
  }

  /** A desired state with nothing declared: defaults and the environment's kubeconfig. */
  private async emptyState(): Promise<LoadResult> {
    return loadConfigText('', null, this.deps.env, this.runtime);
  }

  /** How a displaced runtime session shows in `status`. */
  private displacedWarning(d: Displaced): ConfigIssue {
    return fileIssue('warning', `session "${d.name}" added with kportctl is kept (in sessions.json) but not started: ${d.message}`);
  }

  /** kport.yaml's sessions, then the runtime ones, as declared: displaced ones with their conflict, shadowed ones left out. */
  private declared(): Omit<Wanted, 'override'>[] {
    const declared = this.desired ? sessionsOf(this.desired) : [];
    // A runtime session whose name the file has taken cannot be listed beside it; it waits in sessions.json.
    const taken = new Set(declared.map((s) => s.name));
    const conflicts = new Map(this.displaced.map((d) => [d.name, new KportError('CONFLICT', `clashes with kport.yaml: ${d.message}`)]));
    return [
      ...declared.map((spec) => ({ spec, source: 'config' as const, conflict: null })),
      ...this.runtime.filter((s) => !taken.has(s.name)).map((spec) => ({ spec, source: 'runtime' as const, conflict: conflicts.get(spec.name) ?? null })),
    ];
  }

  /** What runs: the declared sessions with kportctl's overrides of `enabled` applied. */
  private wanted(): Wanted[] {
    return this.declared().map((w) => {
      const override = this.overrides.get(w.spec.name);
      return override === undefined ? { ...w, override: null } : { ...w, spec: { ...w.spec, enabled: override }, override };
    });
  }

  /** Reconciles running sessions with `loaded` (+ runtime sessions): stop what went, then start what came. */
  private async apply(loaded: LoadResult): Promise<Omit<ReloadResult, 'ok' | 'errors' | 'warnings'>> {
    const desired = loaded.ok ? loaded.state : null;
    const kubeconfigChanged = this.desired !== null && desired !== null && this.desired.kubeconfig.join('\0') !== desired.kubeconfig.join('\0');
    if (loaded.ok) [this.desired, this.displaced] = [loaded.state, loaded.displaced];
    // Only a file that declares something decides which sessions are gone: a start with it broken or
    // missing (the empty stand-in) must not drop the user's enable/disable of its sessions.
    if (loaded.ok && !loaded.empty) this.forgetOverridesOfGone();
    const outcome = await this.reconcile(kubeconfigChanged);
    if (loaded.ok) await this.deps.onApplied?.(loaded.state);
    return outcome;
  }

  /** Drops kportctl's overrides of sessions the desired state no longer has (a good, non-blank load decides that). */
  private forgetOverridesOfGone(): void {
    const names = new Set(this.declared().map((w) => w.spec.name));
    const gone = [...this.overrides.keys()].filter((n) => !names.has(n));
    if (gone.length === 0) return;
    for (const n of gone) this.overrides.delete(n);
    this.persist();
  }

  /** Stops what the desired state no longer has (or has otherwise), then starts what it has anew. */
  private async reconcile(kubeconfigChanged: boolean): Promise<Omit<ReloadResult, 'ok' | 'errors' | 'warnings'>> {
    const kubeconfig = this.desired?.kubeconfig ?? [];
    const wanted = new Map(this.wanted().map((w) => [w.spec.name, w]));
    const diff = diffSessions([...this.running.values()].map((r) => r.spec), [...wanted.values()].map((w) => w.spec));
    // A different kubeconfig list means different clusters or credentials: restart everything on it. So does a
    // session that is the same but now comes from elsewhere, or is now displaced (or no longer is).
    const moved = (s: SessionSpec) => {
      const [was, now] = [this.running.get(s.name)!, wanted.get(s.name)!];
      return was.source !== now.source || was.conflict?.message !== now.conflict?.message;
    };
    const restart = kubeconfigChanged ? diff.unchanged : diff.unchanged.filter(moved);
    const toStop = [...diff.removed, ...diff.changed.map((c) => c.before), ...restart];
    await Promise.all(toStop.map((s) => this.stopSession(s.name, diff.removed.includes(s))));
    const toStart = [...diff.added, ...diff.changed.map((c) => c.after), ...restart];
    await Promise.all(toStart.map((s) => this.startSession(wanted.get(s.name)!, kubeconfig)));
    return {
      added: diff.added.map((s) => s.name),
      removed: diff.removed.map((s) => s.name),
      changed: [...diff.changed.map((c) => c.after.name), ...restart.map((s) => s.name)],
      unchanged: diff.unchanged.filter((s) => !restart.includes(s)).map((s) => s.name),
    };
  }

  private async startSession(wanted: Wanted, kubeconfig: readonly string[]): Promise<Running> {
    const { spec, source, conflict, override } = wanted;
    const keptPorts = source === 'runtime' ? (this.keptPorts.get(spec.name) ?? null) : null;
    const session = this.deps.createSession(spec, { source, kubeconfig, conflict, override, keptPorts });
    session.core.override = override === null ? null : override ? 'enabled' : 'disabled';
    const onChange = (status: SessionStatus) => {
      if (status.state === 'ready') this.settleWaits(status.name, { ready: status });
      if (source === 'runtime') this.keepPorts(spec, status);
      this.emit('session.changed', status);
    };
    session.core.on('changed', onChange);
    const entry: Running = { ...wanted, session, kubeconfig, detach: () => session.core.off('changed', onChange) };
    this.running.set(spec.name, entry);
    await session.start();
    return entry;
  }

  private async stopSession(name: string, removed: boolean): Promise<void> {
    const entry = this.running.get(name);
    if (!entry) return;
    this.running.delete(name);
    await entry.session.stop();
    entry.detach();
    if (!removed) return;
    this.settleWaits(name, { error: new KportError('NOT_FOUND', `session "${name}" was removed while waiting`) });
    this.emit('session.removed', { name });
  }

  private settleWaits(name: string, outcome: WaitOutcome): void {
    for (const settle of this.waiters.get(name) ?? []) settle(outcome);
  }

  private entry(name: string): Running {
    const e = this.running.get(name);
    if (!e) throw new KportError('NOT_FOUND', `no session named "${name}" (kportctl list shows them)`);
    return e;
  }

  private persist(): void {
    this.deps.store.save({ sessions: this.runtime.filter((s) => !this.ephemeral.has(s.name)), enabled: this.overrides, ports: this.keptPorts });
  }

  /** Remembers the local ports a persisted runtime session was given where it asked for any (written when they change). */
  private keepPorts(spec: SessionSpec, status: SessionStatus): void {
    if (this.ephemeral.has(spec.name)) return;
    const ports = chosenPorts(spec, status.listeners);
    const kept = this.keptPorts.get(spec.name);
    if (ports === null || (kept && ports.length === kept.length && ports.every((p, i) => p === kept[i]))) return;
    this.keptPorts.set(spec.name, ports);
    this.persist();
  }

  /** Adds a session from its kport.yaml entry; validated by the config loader; persisted unless ephemeral. */
  add(kind: SessionKind, entry: Record<string, unknown>, ephemeral: boolean): Promise<SessionStatus> {
    return this.mutations.run(async () => {
      if (this.stopping) throw new KportError('SHUTTING_DOWN', 'kportd is shutting down');
      const name = entry.name;
      if (typeof name === 'string' && this.running.has(name)) {
        throw new KportError('CONFLICT', `a session named "${name}" already exists (${this.running.get(name)!.source === 'config' ? 'declared in kport.yaml' : 'added with kportctl'})`);
      }
      const base = { state: this.desired, existing: [] as SessionSpec[] };
      const alone = await resolveEntry(kind, entry, base, this.deps.env);
      if (!alone.ok) throw new KportError('INVALID_CONFIG', `invalid ${kind}: ${summary(alone.errors)}`, alone.errors);
      const together = await resolveEntry(kind, entry, { ...base, existing: [...this.running.values()].map((r) => r.spec) }, this.deps.env);
      if (!together.ok) throw new KportError('CONFLICT', summary(together.errors), together.errors);
      const spec = together.spec;
      this.runtime.push(spec);
      if (ephemeral) this.ephemeral.add(spec.name);
      else this.persist();
      const running = await this.startSession({ spec, source: 'runtime', conflict: null, override: null }, this.desired?.kubeconfig ?? []);
      this.deps.log.info({ session: spec.name, kind, ephemeral }, 'session added');
      return running.session.core.status();
    });
  }

  /** Removes a runtime session (kport.yaml sessions are removed by editing the file). */
  remove(name: string): Promise<{ removed: string }> {
    return this.mutations.run(async () => {
      const e = this.entry(name);
      if (e.source === 'config') {
        throw new KportError('DECLARED_IN_CONFIG', `session "${name}" is declared in ${this.deps.configFile}; remove it there (or set enabled: false) and kportd applies the change`);
      }
      this.runtime = this.runtime.filter((s) => s.name !== name);
      this.overrides.delete(name);
      this.keptPorts.delete(name);
      this.persist();
      this.ephemeral.delete(name);
      await this.stopSession(name, true);
      this.deps.log.info({ session: name }, 'session removed');
      return { removed: name };
    });
  }

  /** Stops a session and starts it afresh from the same spec. */
  restart(name: string): Promise<SessionStatus> {
    return this.mutations.run(async () => {
      const e = this.entry(name);
      await this.stopSession(name, false);
      const running = await this.startSession(e, e.kubeconfig);
      return running.session.core.status();
    });
  }

  /**
   * kportctl enable / disable: starts or stops any session, one declared with `enabled: false` included, whatever
   * kport.yaml or the add said. The override is kept in sessions.json, survives reloads and restarts, and is
   * dropped when it agrees with the declaration again (or the session goes away).
   */
  setEnabled(name: string, enabled: boolean): Promise<SessionStatus> {
    return this.mutations.run(async () => {
      this.entry(name);
      const declared = this.declared().find((w) => w.spec.name === name);
      if (!declared) throw new KportError('NOT_FOUND', `no session named "${name}" (kportctl list shows them)`);
      if (declared.spec.enabled === enabled) this.overrides.delete(name);
      else this.overrides.set(name, enabled);
      this.persist();
      await this.reconcile(false);
      this.deps.log.info({ session: name, enabled, override: this.overrides.has(name) }, enabled ? 'session enabled' : 'session disabled');
      return this.entry(name).session.core.status();
    });
  }

  /** Every session, in name order. */
  list(): SessionStatus[] {
    return [...this.running.values()].map((r) => r.session.core.status()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One session. */
  get(name: string): SessionStatus {
    return this.entry(name).session.core.status();
  }

  /**
   * Resolves with the session's status once it is ready; TIMEOUT after timeoutMs, NOT_FOUND if it goes away,
   * CANCELLED once `signal` aborts (the caller has gone). A pending wait adds no listener to any session.
   */
  wait(name: string, timeoutMs: number, signal: AbortSignal): Promise<SessionStatus> {
    const now = this.get(name);
    if (now.state === 'ready') return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waiting = this.waiters.get(name) ?? new Set();
      this.waiters.set(name, waiting);
      const settle = (outcome: WaitOutcome) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        waiting.delete(settle);
        if (waiting.size === 0) this.waiters.delete(name);
        if ('ready' in outcome) resolve(outcome.ready);
        else reject(outcome.error);
      };
      const onAbort = () => settle({ error: new KportError('CANCELLED', `the caller of session.wait "${name}" went away`) });
      const timer = setTimeout(() => {
        // Between the stop and the start of a restart the name has no session.
        const { state, reason } = this.running.get(name)?.session.core.status() ?? { state: 'stopped', reason: 'restarting' };
        const why = `session "${name}" is not ready after ${timeoutMs / 1000} s: ${state}: ${reason}`;
        settle({ error: new KportError('TIMEOUT', why, { state, reason }) });
      }, timeoutMs);
      waiting.add(settle);
      signal.addEventListener('abort', onAbort);
      if (signal.aborted) onAbort();
    });
  }

  /** The configuration's last load result. */
  configStatus(): ConfigStatus {
    return this.config;
  }

  /** Session counts by state. */
  counts(): { total: number } & Record<SessionState, number> {
    const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>;
    for (const r of this.running.values()) counts[r.session.core.state]++;
    return { total: this.running.size, ...counts };
  }

  /** Stops every session (shutdown). */
  stopAll(): Promise<void> {
    this.stopping = true;
    return this.mutations.run(async () => {
      await Promise.all([...this.running.keys()].map((n) => this.stopSession(n, false)));
    });
  }
}

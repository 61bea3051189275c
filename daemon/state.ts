/**
 * Sessions added at runtime (kportctl add), persisted in the state folder so they come back after
 * a daemon restart, with the runtime state that goes with them: the local ports they were given where
 * they asked for any free one (asked for again at the next start), and kportctl enable/disable's overrides
 * of `enabled`, for any session. Writes are atomic (write a temp file, fsync, rename). Nothing is dropped
 * silently: a file that cannot be read back is moved aside whole, and each entry that kport.yaml's schema
 * refuses (or that repeats an earlier entry's name) is moved into a `…rejected-TIME` file, both with a warning.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { formatIssue, quote } from '../config/issues.js';
import { restoreSpec } from '../config/load.js';
import type { ConfigEnv, SessionSpec } from '../config/types.js';
import type { BoundListener } from './api/session.js';
import { isoTime } from './iso-time.js';

/** Local ports kept for a session, one per port mapping (a proxy's one port): null where it names its own. */
export type KeptPorts = readonly (number | null)[];

interface StoredSessions {
  version: 1;
  sessions: unknown[];
  /** By session name: kportctl enable (true) or disable (false), over what the session declares. */
  enabled?: Record<string, boolean>;
  /** By session name: the local port given to each port mapping that asked for any (null where it names one). */
  ports?: Record<string, KeptPorts>;
}

/** What sessions.json holds, read back. */
export interface RuntimeState {
  sessions: SessionSpec[];
  enabled: Map<string, boolean>;
  ports: Map<string, KeptPorts>;
}

const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

/**
 * The local ports `listeners` were given where `spec` asked for any free one, by port mapping (null elsewhere);
 * null when there are none to keep or the session is not bound. A forward binds each mapping on every address in
 * turn, so mapping i's port is its listener i × addresses.
 */
export function chosenPorts(spec: SessionSpec, listeners: readonly BoundListener[]): KeptPorts | null {
  if (listeners.length === 0) return null;
  if (spec.kind === 'proxy') return spec.port === 0 && spec.unixSocket === null && isPort(listeners[0]!.port) ? [listeners[0]!.port] : null;
  if (spec.kind === 'gateway') return spec.port === 0 && isPort(listeners[0]!.port) ? [listeners[0]!.port] : null;
  const ports = spec.ports.map((m, i) => (m.local === 0 ? (listeners[i * spec.addresses.length]?.port ?? null) : null));
  return ports.some((p) => p !== null) ? ports : null;
}

function isStored(data: unknown): data is StoredSessions {
  const d = data as StoredSessions;
  return typeof d === 'object' && d !== null && d.version === 1 && Array.isArray(d.sessions);
}

/** Writes `data` as JSON to `path` atomically, mode 0600. */
function writeAtomic(path: string, data: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(data, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Reads and writes the runtime sessions file. */
export class SessionStore {
  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  private aside(what: 'corrupt' | 'rejected'): string {
    return `${this.path}.${what}-${isoTime().replace(/[:.]/g, '-')}`;
  }

  /**
   * The stored sessions that pass kport.yaml's checks, in file order, and their runtime state; nothing when there
   * is no file. A file that is not a sessions file is renamed `…corrupt-TIME`; refused entries go to
   * `…rejected-TIME` and the file keeps the rest. Kept ports and overrides of the wrong shape are left out, with a
   * warning.
   */
  load(env: ConfigEnv): RuntimeState {
    const none: RuntimeState = { sessions: [], enabled: new Map(), ports: new Map() };
    if (!existsSync(this.path)) return none;
    let data: StoredSessions;
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.path, 'utf8'));
      if (!isStored(parsed)) throw new Error('not a kport sessions file (version 1)');
      data = parsed;
    } catch (err) {
      const aside = this.aside('corrupt');
      renameSync(this.path, aside);
      this.log.warn({ file: this.path, movedTo: aside, err: (err as Error).message }, 'runtime sessions file is unreadable; moved it aside and started without it');
      return none;
    }
    const sessions = this.loadSessions(data, env);
    const enabled = this.entries(data.enabled, 'enabled', (v): v is boolean => typeof v === 'boolean');
    const ports = this.entries(data.ports, 'ports', (v): v is KeptPorts => Array.isArray(v) && v.every((p) => p === null || isPort(p)));
    return { sessions, enabled, ports };
  }

  /** The entries of a stored map whose values pass `check`; the rest are named in a warning and left out. */
  private entries<T>(stored: unknown, what: string, check: (v: unknown) => v is T): Map<string, T> {
    const map = new Map<string, T>();
    if (stored === undefined) return map;
    const mapping = typeof stored === 'object' && stored !== null && !Array.isArray(stored);
    const all = mapping ? Object.entries(stored) : [];
    const bad = all.filter(([, v]) => !check(v)).map(([k]) => k);
    for (const [k, v] of all) if (check(v)) map.set(k, v);
    if (!mapping || bad.length > 0) this.log.warn({ file: this.path, key: what, sessions: bad }, `sessions.json: ignored ${what} entries of the wrong shape`);
    return map;
  }

  /** The stored sessions that pass kport.yaml's checks; refused ones are moved aside, the rest of the file kept. */
  private loadSessions(data: StoredSessions, env: ConfigEnv): SessionSpec[] {
    const stored = data.sessions;
    const kept = new Map<string, { spec: SessionSpec; index: number }>();
    const rejected: { entry: unknown; errors: string[] }[] = [];
    for (const [index, entry] of stored.entries()) {
      const restored = restoreSpec(entry, env);
      const at = `sessions[${index}]`;
      if (!restored.ok) {
        rejected.push({ entry, errors: restored.errors.map((e) => `${at}: ${formatIssue(e)}`) });
        continue;
      }
      const { name } = restored.spec;
      const first = kept.get(name);
      if (first) rejected.push({ entry, errors: [`${at}.name: ${quote(name)} is already used by sessions[${first.index}]`] });
      else kept.set(name, { spec: restored.spec, index });
    }
    const specs = [...kept.values()].map((k) => k.spec);
    if (rejected.length === 0) return specs;
    const aside = this.aside('rejected');
    writeAtomic(aside, { version: 1, sessions: rejected.map((r) => r.entry), errors: rejected.map((r) => r.errors) });
    writeAtomic(this.path, { ...data, sessions: specs });
    const message = `${rejected.length} of ${stored.length} runtime sessions are invalid; moved them aside and started the rest`;
    this.log.warn({ file: this.path, movedTo: aside, errors: rejected.flatMap((r) => r.errors) }, message);
    return specs;
  }

  /** Replaces what is stored, atomically; the ports and overrides of sessions no longer there are dropped. */
  save(state: RuntimeState): void {
    const { sessions } = state;
    const names = new Set(sessions.map((s) => s.name));
    const ports = Object.fromEntries([...state.ports].filter(([name]) => names.has(name)));
    writeAtomic(this.path, { version: 1, sessions, enabled: Object.fromEntries(state.enabled), ports } satisfies StoredSessions);
  }
}

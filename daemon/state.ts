/**
 * Sessions added at runtime (kportctl add), persisted in the state folder so they come back after
 * a daemon restart. Writes are atomic (write a temp file, fsync, rename). Nothing is dropped silently:
 * a file that cannot be read back is moved aside whole, and each entry that kport.yaml's schema refuses
 * (or that repeats an earlier entry's name) is moved into a `…rejected-TIME` file, both with a warning.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { formatIssue, quote } from '../config/issues.js';
import { restoreSpec } from '../config/load.js';
import type { ConfigEnv, SessionSpec } from '../config/types.js';

interface StoredSessions {
  version: 1;
  sessions: unknown[];
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
    return `${this.path}.${what}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  }

  /**
   * The stored sessions that pass kport.yaml's checks, in file order; [] when there is no file. A file that is not
   * a sessions file is renamed `…corrupt-TIME`; refused entries go to `…rejected-TIME` and the file keeps the rest.
   */
  load(env: ConfigEnv): SessionSpec[] {
    if (!existsSync(this.path)) return [];
    let stored: unknown[];
    try {
      const data: unknown = JSON.parse(readFileSync(this.path, 'utf8'));
      if (!isStored(data)) throw new Error('not a kport sessions file (version 1)');
      stored = data.sessions;
    } catch (err) {
      const aside = this.aside('corrupt');
      renameSync(this.path, aside);
      this.log.warn({ file: this.path, movedTo: aside, err: (err as Error).message }, 'runtime sessions file is unreadable; moved it aside and started without it');
      return [];
    }
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
    this.save(specs);
    const message = `${rejected.length} of ${stored.length} runtime sessions are invalid; moved them aside and started the rest`;
    this.log.warn({ file: this.path, movedTo: aside, errors: rejected.flatMap((r) => r.errors) }, message);
    return specs;
  }

  /** Replaces the stored sessions atomically. */
  save(sessions: SessionSpec[]): void {
    writeAtomic(this.path, { version: 1, sessions } satisfies StoredSessions);
  }
}

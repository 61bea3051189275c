/**
 * Sessions added at runtime (kportctl add), persisted in the state folder so they come back after
 * a daemon restart. Writes are atomic (write a temp file, fsync, rename); a file that cannot be
 * read back is moved aside with a warning, never silently dropped.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { SessionSpec } from '../config/types.js';

interface StoredSessions {
  version: 1;
  sessions: SessionSpec[];
}

function isStored(data: unknown): data is StoredSessions {
  const d = data as StoredSessions;
  return (
    typeof d === 'object' && d !== null && d.version === 1 && Array.isArray(d.sessions) &&
    d.sessions.every((s) => typeof s === 'object' && s !== null && (s.kind === 'forward' || s.kind === 'proxy') && typeof s.name === 'string')
  );
}

/** Reads and writes the runtime sessions file. */
export class SessionStore {
  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** The stored sessions; [] when there is no file; a corrupt file is renamed `…corrupt-TIME` and [] returned. */
  load(): SessionSpec[] {
    if (!existsSync(this.path)) return [];
    try {
      const data: unknown = JSON.parse(readFileSync(this.path, 'utf8'));
      if (isStored(data)) return data.sessions;
      throw new Error('not a kport sessions file (version 1)');
    } catch (err) {
      const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(this.path, aside);
      this.log.warn({ file: this.path, movedTo: aside, err: (err as Error).message }, 'runtime sessions file is unreadable; moved it aside and started without it');
      return [];
    }
  }

  /** Replaces the stored sessions atomically. */
  save(sessions: SessionSpec[]): void {
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ version: 1, sessions } satisfies StoredSessions, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}

/**
 * Watches kport.yaml for edits. Editors save by writing in place or by renaming a new file over the
 * old one, so the folder is watched (not the file's inode) and events are debounced into one reload.
 * What a folder watch cannot see (an edit to the target of a symlinked kport.yaml, a folder that is
 * removed and made anew, one that does not exist yet) is caught by a stat of the path every POLL_MS.
 */
import { existsSync, stat, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

/** How often the path is stat'ed besides the folder watch. */
const POLL_MS = 2_000;

export interface WatchTiming {
  debounceMs: number;
  pollMs: number;
}

/** Which version of the file a stat saw (following symlinks): a file that is not there is one version too. */
const version = (s: Stats | null) => (s === null ? 'missing' : `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`);

function versionNow(file: string): string {
  try {
    return version(statSync(file));
  } catch {
    return version(null);
  }
}

/** Calls `onChange` once per burst of changes to `file`; returns the stop function. */
export function watchConfigFile(file: string, onChange: () => void, log: Logger, timing: WatchTiming = { debounceMs: 200, pollMs: POLL_MS }): () => void {
  const dir = dirname(file);
  const name = basename(file);
  let timer: NodeJS.Timeout | null = null;
  let seen = versionNow(file);
  let stopped = false;
  const changed = () => {
    if (stopped) return; // a stat that was under way as the watch stopped
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      seen = versionNow(file);
      onChange();
    }, timing.debounceMs);
  };
  let watcher: FSWatcher | null = null;
  const slower = `edits apply within ${timing.pollMs / 1000} s, or at once on kportctl reload or SIGHUP`;
  if (existsSync(dir)) {
    try {
      watcher = watch(dir, { persistent: false }, (_event, changedName) => (changedName === null || changedName === name) && changed());
      watcher.on('error', (err) => log.warn({ err: err.message }, `config folder watch failed; ${slower}`));
    } catch (err) {
      log.warn({ dir, err: (err as Error).message }, `cannot watch the config folder; ${slower}`);
    }
  }
  // The folder watch has told of it already unless the version differs from the last one reloaded.
  const poll = setInterval(() => stat(file, (err, now) => timer === null && version(err ? null : now) !== seen && changed()), timing.pollMs).unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    watcher?.close();
    clearInterval(poll);
  };
}

/**
 * Watches kport.yaml for edits. Editors save by writing in place or by renaming a new file over the
 * old one, so the folder is watched (not the file's inode) and events are debounced into one reload.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

/** Calls `onChange` once per burst of changes to `file`; returns the stop function. */
export function watchConfigFile(file: string, onChange: () => void, log: Logger, debounceMs = 200): () => void {
  const dir = dirname(file);
  const name = basename(file);
  if (!existsSync(dir)) {
    log.info({ dir }, 'config folder does not exist; not watching it (kportctl reload and SIGHUP still work)');
    return () => {};
  }
  let timer: NodeJS.Timeout | null = null;
  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        onChange();
      }, debounceMs);
    });
  } catch (err) {
    log.warn({ dir, err: (err as Error).message }, 'cannot watch the config folder; edits apply on kportctl reload or SIGHUP');
    return () => {};
  }
  watcher.on('error', (err) => log.warn({ err: err.message }, 'config watch failed; edits apply on kportctl reload or SIGHUP'));
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}

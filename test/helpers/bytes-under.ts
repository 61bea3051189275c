/** The size of a folder tree, for the installed-package figure (the test's and the bench's). */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes of the files under `path`, as files take them (what "installed size" means to a user). */
export function bytesUnder(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) total += bytesUnder(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

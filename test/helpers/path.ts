/** Programs on PATH, for tests that use one where it is installed and skip (saying why) where it is not. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The first of `candidates` that is an executable file, else null. */
export function firstExecutable(candidates: readonly (string | undefined)[]): string | null {
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}

/** `name` as the shell would find it on $PATH, else null. */
export function which(name: string): string | null {
  return firstExecutable((process.env.PATH ?? '').split(delimiter).map((d) => join(d, name)));
}

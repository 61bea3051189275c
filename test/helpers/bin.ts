/**
 * kportd and kportctl as the package ships them: the files package.json's `bin` names (the esbuild
 * bundles), so that every test that runs them runs what users install, and a bundling mistake fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or unpacked package) root, above dist/. */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { kportd: string; kportctl: string } }).bin;

/** The shipped kportd entry point. */
export const KPORTD = join(ROOT, bin.kportd);
/** The shipped kportctl entry point. */
export const KPORTCTL = join(ROOT, bin.kportctl);

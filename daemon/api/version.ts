/** kport's version: baked into a bundle, else read once from the package.json beside the compiled code: kportd reports it, kportctl prints it. */
import { readFileSync } from 'node:fs';
import { BUILD_VERSION } from './build.js';

/** The package version (e.g. "0.1.0"). */
export const VERSION: string = BUILD_VERSION ?? (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

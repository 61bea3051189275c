/** kport's version, read once from the package.json shipped beside the compiled code: kportd reports it, kportctl prints it. */
import { readFileSync } from 'node:fs';

/** The package version (e.g. "0.1.0"). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * `npm run build`'s second half: esbuild bundles of kportd and kportctl, what the package ships and the
 * tests run. Each is one minified ESM file; paths used by few (the pretty logger, legacy auth providers,
 * proxy-url agents, the proxy's undici pool and file server, metrics) stay in chunks beside them, loaded
 * on demand, and so does what the two share. `contents.json` says which sources and packages each output
 * file holds (the tests check what a command loads with it). With `--sea`, one CommonJS file for the
 * single executable instead (build/sea.ts): no chunks, everything inlined.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** Where the bundles go (package.json's bin points here). */
export const BUNDLE_DIR = join(root, 'dist', 'bundle');
/** Where the single executable's script goes. */
export const SEA_DIR = join(root, 'dist', 'sea');

/** What every build shares: node 20, the constants the code reads instead of files, no optional native addons. */
function common(sea: boolean): BuildOptions {
  return {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // ws tries these native speed-ups and does without: kport never installs them, so ws is told not to
    // look (the single executable would warn about a require() it cannot serve).
    external: ['bufferutil', 'utf-8-validate'],
    define: { KPORT_VERSION: JSON.stringify(version), KPORT_SEA: String(sea), 'process.env.WS_NO_BUFFER_UTIL': '"1"', 'process.env.WS_NO_UTF_8_VALIDATE': '"1"' },
  };
}

/** Output file (relative to `dir`) → the source files it holds, relative to the repository. */
function contents(meta: Metafile, dir: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [file, o] of Object.entries(meta.outputs)) if (file.endsWith('.js')) out[relative(dir, join(root, file))] = Object.keys(o.inputs).sort();
  return out;
}

/** kportd.js and kportctl.js (and their chunks) in dist/bundle. */
export async function bundle(): Promise<void> {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const result = await build({
    ...common(false),
    entryPoints: { kportd: 'daemon/main.ts', kportctl: 'client/main.ts' },
    outdir: BUNDLE_DIR,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    // CommonJS packages inside an ES module still call require() for node's own modules.
    banner: { js: "import{createRequire as __kportRequire}from'node:module';const require=__kportRequire(import.meta.url);" },
  });
  writeFileSync(join(BUNDLE_DIR, 'contents.json'), `${JSON.stringify(contents(result.metafile!, BUNDLE_DIR), null, 1)}\n`);
}

/** `dir`/kport.cjs (default dist/sea): kportd and kportctl in one CommonJS script, for node's single-executable applications. */
export async function bundleSea(dir = SEA_DIR): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'kport.cjs');
  await build({ ...common(true), entryPoints: ['build/sea-main.ts'], outfile, format: 'cjs' });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--sea')) console.log(await bundleSea());
  else await bundle();
}

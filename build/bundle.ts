/**
 * `npm run build`'s second half: esbuild bundles of kportd and kportctl, what the package ships and the
 * tests run. kportd is one minified ESM file; paths used by few (the pretty logger, legacy auth
 * providers, proxy-url agents, the proxy's file server, metrics) stay in chunks beside
 * it, loaded on demand. kportctl is one CommonJS file, with the yaml printer and the kubeconfig reader
 * (completion) in files of their own loaded on demand: a CLI run pays for node's ES module loader
 * (~5 ms) and one file per chunk otherwise. `contents.json` says which sources and packages each output
 * file holds (the tests check what a command loads with it). With `--sea`, one CommonJS file for the
 * single executable instead (build/sea.ts): everything inlined.
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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
  for (const [file, o] of Object.entries(meta.outputs)) if (/\.c?js$/.test(file)) out[relative(dir, join(root, file))] = Object.keys(o.inputs).sort();
  return out;
}

/** kportctl's modules imported on demand (source → the file of its own it becomes beside kportctl.cjs). */
const KPORTCTL_LAZY: Readonly<Record<string, string>> = {
  'client/output/yaml.ts': 'kportctl-yaml',
  'config/kubeconfig.ts': 'kportctl-kubeconfig',
};

/** Turns kportctl's import() of a KPORTCTL_LAZY module into an import() of the file it is built into. */
const lazyFiles: Plugin = {
  name: 'kportctl-lazy-files',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const source = relative(root, join(dirname(args.importer), args.path)).replace(/\.js$/, '.ts');
      const file = KPORTCTL_LAZY[source];
      return file ? { path: `./${file}.cjs`, external: true } : undefined;
    });
  },
};

/** kportd.js (and its chunks) and kportctl.cjs (and its lazy files) in dist/bundle. */
export async function bundle(): Promise<void> {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const base = common(false);
  const kportd = await build({
    ...base,
    entryPoints: { kportd: 'daemon/main.ts' },
    outdir: BUNDLE_DIR,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    // CommonJS packages inside an ES module still call require() for node's own modules.
    banner: { js: "import{createRequire as __kportRequire}from'node:module';const require=__kportRequire(import.meta.url);" },
  });
  const kportctl = await build({
    ...base,
    entryPoints: { kportctl: 'client/main.ts', ...Object.fromEntries(Object.entries(KPORTCTL_LAZY).map(([source, file]) => [file, source])) },
    outdir: BUNDLE_DIR,
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    plugins: [lazyFiles],
    define: { ...base.define, 'import.meta.url': '__kportUrl' },
    banner: { js: "const __kportUrl=require('node:url').pathToFileURL(__filename).href;" },
  });
  const held = { ...contents(kportd.metafile!, BUNDLE_DIR), ...contents(kportctl.metafile!, BUNDLE_DIR) };
  writeFileSync(join(BUNDLE_DIR, 'contents.json'), `${JSON.stringify(held, null, 1)}\n`);
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

/**
 * `npm run sea`: `dist/sea/kport`, a Node single executable that is kportd and kportctl in one file (see
 * build/sea-main.ts), for installing without npm: copy it onto PATH, optionally with `kportd` and
 * `kportctl` links to it. Node's own recipe: the CommonJS bundle (build/bundle.ts --sea) turned into a
 * blob by `node --experimental-sea-config`, injected into a copy of this node with postject.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'postject';
import { bundleSea, SEA_DIR } from './bundle.js';

/** The sentinel node's binary carries for the blob (node's documentation names it). */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Builds `dir`/kport (default dist/sea) and resolves with its path. */
export async function buildSea(dir = SEA_DIR): Promise<string> {
  const script = await bundleSea(dir);
  const blob = join(dir, 'kport.blob');
  const config = join(dir, 'sea-config.json');
  writeFileSync(config, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true }));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exe = join(dir, process.platform === 'win32' ? 'kport.exe' : 'kport');
  rmSync(exe, { force: true });
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  // macOS refuses a modified signed binary: its signature goes first, and an ad-hoc one comes after.
  if (process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', exe]);
  await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: FUSE, ...(process.platform === 'darwin' ? { machoSegmentName: 'NODE_SEA' } : {}) });
  if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', exe]);
  rmSync(blob);
  rmSync(config);
  return exe;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await buildSea());

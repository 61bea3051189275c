/** The kport.yaml watch: edits made in place, through a symlink, and to a folder made anew all reach a reload. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { watchConfigFile } from '../../daemon/config-watch.js';
import { silentLogger } from '../helpers/log.js';
import { waitUntil } from '../helpers/wait.js';

const TIMING = { debounceMs: 20, pollMs: 100 };
let dir: string;
let stop: () => void = () => {};
before(() => (dir = mkdtempSync(join(tmpdir(), 'kport-watch-'))));
afterEach(() => stop());
after(() => rmSync(dir, { recursive: true, force: true }));

/** Watches `file`; the count of reloads it asked for so far. */
function watched(file: string): () => number {
  let reloads = 0;
  stop = watchConfigFile(file, () => reloads++, silentLogger(), TIMING);
  return () => reloads;
}

test('an edit in place asks for a reload', async () => {
  const file = join(dir, 'in-place', 'kport.yaml');
  mkdirSync(join(dir, 'in-place'));
  writeFileSync(file, 'forwards: []\n');
  const reloads = watched(file);
  writeFileSync(file, 'forwards: [] # edited\n');
  await waitUntil(() => reloads() >= 1, 'a reload after the edit');
});

test('kport.yaml as a symlink (dotfiles): an edit to its target asks for a reload', async () => {
  mkdirSync(join(dir, 'dotfiles'));
  mkdirSync(join(dir, 'config'));
  const target = join(dir, 'dotfiles', 'kport.yaml');
  writeFileSync(target, 'forwards: []\n');
  const file = join(dir, 'config', 'kport.yaml');
  symlinkSync(target, file);
  const reloads = watched(file);
  writeFileSync(target, 'forwards: [] # edited through the link\n');
  await waitUntil(() => reloads() >= 1, 'a reload after the target was edited');
});

test('the folder removed and made anew (a checkout), or made only after kportd started: the file asks for a reload', async () => {
  const folder = join(dir, 'anew');
  const file = join(folder, 'kport.yaml');
  mkdirSync(folder);
  writeFileSync(file, 'forwards: []\n');
  const reloads = watched(file);
  rmSync(folder, { recursive: true });
  await waitUntil(() => reloads() >= 1, 'a reload once the file is gone');
  const before = reloads();
  mkdirSync(folder);
  writeFileSync(file, 'forwards: [] # back\n');
  await waitUntil(() => reloads() > before, 'a reload once the file is back');
  stop();
  rmSync(folder, { recursive: true });
  const late = watched(file);
  mkdirSync(folder);
  writeFileSync(file, 'forwards: []\n');
  await waitUntil(() => late() >= 1, 'a reload once a folder missing at the start has the file');
});

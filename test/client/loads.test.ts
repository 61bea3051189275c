/**
 * kportctl's verbs need no kport.yaml, so they must not pay for loading the config stack: run against a
 * daemon, each verb's loaded-module list (recorded by a loader hook; a bundle file counts as the sources
 * build/bundle.ts says it holds) has no yaml, no zod and nothing of the daemon but its contract (daemon/api/).
 * Nor does talking to kportd over its Unix socket load node's HTTP, TLS or zlib.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { FakeDaemon, forwardSpec, sessionStatus } from './fake-daemon.js';
import { env, KPORTCTL } from './kportctl.js';

const RECORDER = fileURLToPath(new URL('../helpers/record-loads.js', import.meta.url));
/** What each bundle file holds (build/bundle.ts writes it): a loaded bundle file stands for these sources. */
const CONTENTS = join(dirname(KPORTCTL), 'contents.json');

/** The sources a list of loaded file URLs amounts to: a bundle file's contents, any other file as itself. */
function sources(urls: string[]): string[] {
  const contents = existsSync(CONTENTS) ? (JSON.parse(readFileSync(CONTENTS, 'utf8')) as Record<string, string[]>) : {};
  return urls.flatMap((u) => {
    const file = fileURLToPath(u);
    const held = dirname(file) === dirname(KPORTCTL) ? contents[basename(file)] : undefined;
    return held ? held.map((s) => `/${s}`) : [file];
  });
}

/** Runs `kportctl ARGS` with the recorder; resolves with its exit code, its output and the modules it loaded. */
function run(args: string[], socket: string, record: string): Promise<{ code: number; stdout: string; loaded: string[]; builtins: string[] }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', RECORDER, KPORTCTL, ...args], { env: env(socket, { KPORT_RECORD_LOADS: record }) }, (err, stdout) => {
      const lines = readFileSync(record, 'utf8').split('\n');
      const loaded = sources(lines.filter((u) => u.startsWith('file:')));
      resolve({ code: err ? Number(err.code) : 0, stdout, loaded, builtins: lines.filter((u) => u.startsWith('node:')) });
    });
  });
}

describe('what kportctl loads', () => {
  let fake: FakeDaemon;
  const dir = mkdtempSync(join(tmpdir(), 'kport-loads-'));
  before(async () => {
    const spec = forwardSpec('web');
    fake = await FakeDaemon.start({}, [sessionStatus(spec)]);
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const args of [['list'], ['list', '-o', 'json'], ['status'], ['port', 'web'], ['wait', 'web'], ['version'], ['--help']]) {
    test(`kportctl ${args.join(' ')} loads no yaml, no zod, nothing of the daemon but its contract`, async () => {
      const r = await run(args, fake.socket, join(dir, `${args.join('-')}.txt`));
      assert.equal(r.code, 0, r.stdout);
      assert.ok(r.loaded.some((u) => u.includes('/client/')), 'the recorder saw kportctl load');
      assert.deepEqual(r.loaded.filter((u) => /\/node_modules\/(yaml|zod)\//.test(u) || (/\/daemon\//.test(u) && !/\/daemon\/api\//.test(u))), []);
      assert.ok(r.builtins.includes('node:net'), 'the recorder saw node modules load');
      assert.deepEqual(r.builtins.filter((m) => /^node:(https?|_http_\w+|tls|_tls_\w+|zlib)$/.test(m)), []);
    });
  }
});

/**
 * The package as a user gets it: `npm pack`, then an install of that tarball into a temporary prefix, then the
 * installed kportctl and kportd. Offline: the tarball's dependencies come from the npm cache, pinned by this
 * repository's package-lock.json (a clean resolution would need the registry); without them the test says so and
 * skips. The installed size is measured and printed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { bytesUnder } from '../helpers/bytes-under.js';
import { which } from '../helpers/path.js';
import { DAEMON_NODE_FLAGS } from '../../daemon/api/launch.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string; license: string; bin: Record<string, string>; engines: unknown; dependencies?: Record<string, string>; scripts: Record<string, string> };
const dir = mkdtempSync(join(tmpdir(), 'kport-pack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd ?? dir, env: opts.env ?? process.env, timeout: 110_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Every file the tarball may hold. */
const ALLOWED = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^config\/kport\.schema\.json$/, /^config\/examples\/[\w.-]+\.yaml$/, /^dist\/bundle\/(kportd|chunk-[A-Z0-9]+)\.js$/, /^dist\/bundle\/kportctl(-[a-z]+)?\.cjs$/];

/** Lifecycle scripts npm runs when a package is installed. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare'];

describe('npm pack, then an install of the tarball', () => {
  const npm = which('npm');
  let tarball = '';
  let files: string[] = [];
  before(async () => {
    if (!npm) return;
    // npm test has just built dist/: pack it as it is (prepack would rebuild it under the tests that are running).
    const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: repo });
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, info!.filename);
    files = info!.files.map((f) => f.path);
  });

  test('the tarball holds exactly what the allowlist names: the bundles, the schema and examples, LICENSE, README, package.json', { skip: !npm && 'npm is not on PATH' }, () => {
    for (const f of [pkg.bin.kportd!, pkg.bin.kportctl!, 'config/kport.schema.json', 'config/examples/kport.example.yaml', 'LICENSE', 'README.md', 'package.json']) assert.ok(files.includes(f), f);
    assert.deepEqual(files.filter((f) => !ALLOWED.some((re) => re.test(f))), []);
    assert.match(readFileSync(join(repo, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
    assert.equal(pkg.license, 'Apache-2.0');
  });

  test('the package depends on nothing: every library is inside the bundles', () => {
    assert.deepEqual(pkg.dependencies ?? {}, {});
  });

  test('nothing runs at install: no lifecycle script; prepack builds dist/ for npm pack', () => {
    assert.deepEqual(INSTALL_SCRIPTS.filter((s) => s in pkg.scripts), []);
    assert.match(pkg.scripts.prepack ?? '', /npm run build/);
  });

  test('installed into a temporary prefix, offline and with no warning, kportctl --version runs from it', { skip: !npm && 'npm is not on PATH' }, async (t) => {
    const prefix = join(dir, 'prefix');
    mkdirSync(prefix);
    // The tarball and its dependencies as this repository's lockfile pins them: npm ci needs no registry for those.
    const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean; link?: boolean }> };
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    const spec = `file:${tarball}`;
    const packages: Record<string, unknown> = {
      '': { name: 'kport-install-test', dependencies: { [pkg.name]: spec } },
      [`node_modules/${pkg.name}`]: { version: pkg.version, resolved: spec, integrity, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
    };
    // Development packages (devOptional too: bufferutil, an optional peer of ws that npm does not install for users) stay out.
    for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev && !entry.devOptional && !entry.link) packages[path] = entry;
    writeFileSync(join(prefix, 'package.json'), JSON.stringify({ name: 'kport-install-test', private: true, dependencies: { [pkg.name]: spec } }));
    writeFileSync(join(prefix, 'package-lock.json'), JSON.stringify({ name: 'kport-install-test', lockfileVersion: 3, requires: true, packages }));
    const installed = await run(npm!, ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: prefix });
    if (installed.code !== 0 && /ENOTCACHED/.test(installed.stderr)) return t.skip(`the dependencies are not all in the npm cache, and the test stays offline: ${installed.stderr.split('\n')[0]}`);
    assert.equal(installed.code, 0, installed.stderr);
    // No warning (npm warns about packages whose install scripts it would run), no script output.
    assert.deepEqual(`${installed.stdout}${installed.stderr}`.split('\n').filter((l) => /warn|WARN|gyp|> /.test(l)), []);

    const bin = join(prefix, 'node_modules', '.bin');
    const version = await run(join(bin, 'kportctl'), ['--version']);
    assert.deepEqual(version, { code: 0, stdout: `kportctl ${pkg.version}\n`, stderr: '' });
    assert.equal((await run(join(bin, 'kportd'), ['--version'])).stdout, `kportd ${pkg.version}\n`);

    // The login service it writes runs the installed kportd, not this checkout's.
    const home = join(dir, 'home');
    mkdirSync(home);
    const env = { HOME: home, PATH: join(dir, 'no-bin'), KPORT_SOCKET: join(dir, 'none.sock') };
    const service = await run(join(prefix, 'node_modules', pkg.name, pkg.bin.kportctl!), ['service', 'install'], { env: { ...env, PATH: `${env.PATH}:${process.env.PATH}` } });
    assert.equal(service.code, 0, service.stderr);
    const unit = readFileSync(join(home, '.config', 'systemd', 'user', 'kportd.service'), 'utf8');
    const main = realpathSync(join(prefix, 'node_modules', pkg.name, pkg.bin.kportd!));
    assert.ok(unit.includes(`ExecStart=${[process.execPath, ...DAEMON_NODE_FLAGS, main, '--foreground'].map((a) => `"${a}"`).join(' ')}`), unit);

    const size = bytesUnder(join(prefix, 'node_modules'));
    t.diagnostic(`installed size: ${(size / 1e6).toFixed(1)} MB (${size} bytes) in node_modules, of which kport itself ${(bytesUnder(join(prefix, 'node_modules', pkg.name)) / 1e6).toFixed(2)} MB; tarball ${(statSync(tarball).size / 1e3).toFixed(0)} kB`);
  });
});

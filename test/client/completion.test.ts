/**
 * Shell completion, as bash runs it: the script `kportctl completion bash` prints, loaded into a real bash, its
 * function called with COMP_WORDS and COMP_CWORD set, against a real kportd on the simulated cluster. zsh and fish
 * scripts are checked for syntax where those shells exist.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { KPORTCTL, KportdHarness } from '../helpers/daemon.js';
import { which } from '../helpers/path.js';

/** Runs `script` in a bash with no startup files; resolves with stdout, stderr and the exit code. */
function bash(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['--norc', '--noprofile', '-c', script], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A bash word list, each word single-quoted. */
const words = (list: string[]) => list.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');

describe('kportctl completion', () => {
  let cluster: SimCluster;
  let k: KportdHarness;
  let env: NodeJS.ProcessEnv;
  /** What bash offers for the command line `line` (the last word the one being completed; end with ' ' for a new one). */
  const offered = async (line: string, extra: NodeJS.ProcessEnv = {}): Promise<string[]> => {
    const typed = line.split(' ');
    const script = `source <(kportctl completion bash) || exit 9
COMP_WORDS=(${words(typed)}); COMP_CWORD=${typed.length - 1}
_kportctl
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = await bash(script, { ...env, ...extra });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    return r.stdout.split('\n').filter((l) => l !== '');
  };

  before(async () => {
    cluster = await SimCluster.start({ world: 'demo' });
    await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
    k = new KportdHarness();
    k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nforwards:\n  - {name: web, target: svc/web, ports: [":80"]}\n  - {name: db, target: sts/db, ports: [":5432"]}\n`);
    await k.start();
    await k.ok('wait', 'web');
    await k.ok('wait', 'db');
    // kportctl on PATH, as an installed one is.
    const bin = join(k.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'kportctl'), `#!/bin/sh\nexec '${process.execPath}' '${KPORTCTL}' "$@"\n`);
    chmodSync(join(bin, 'kportctl'), 0o755);
    env = { ...k.env(), PATH: `${bin}:${process.env.PATH ?? ''}`, KUBECONFIG: cluster.kubeconfigPath };
  });
  after(async () => {
    await k.cleanup();
    await cluster.stop();
  });

  test('verbs (aliases too) and flags', async () => {
    assert.deepEqual(await offered('kportctl l'), ['list', 'ls', 'logs']);
    assert.deepEqual(await offered('kportctl di'), ['disable']);
    assert.deepEqual(await offered('kportctl add web svc/web 80 --na'), ['--namespace']);
    assert.deepEqual(await offered('kportctl list -o '), ['json', 'yaml', 'name', 'wide']);
    assert.deepEqual(await offered('kportctl completion '), ['bash', 'zsh', 'fish']);
    assert.deepEqual(await offered('kportctl add web svc/web 80 --transport spdy-'), ['spdy-websocket']);
  });

  test('session names, from kportd', async () => {
    assert.deepEqual(await offered('kportctl restart '), ['db', 'web']);
    assert.deepEqual(await offered('kportctl wait w'), ['web']);
    assert.deepEqual(await offered('kportctl rm db '), ['db', 'web']);
    // A name is one argument: nothing more to offer after it.
    assert.deepEqual(await offered('kportctl wait web '), []);
  });

  test("contexts, from the kubeconfig kubectl would read", async () => {
    assert.deepEqual(await offered('kportctl add web svc/web 80 --context '), ['sim', 'sim-viewer', 'sim-cert']);
    assert.deepEqual(await offered('kportctl proxy api --context sim-'), ['sim-viewer', 'sim-cert']);
  });

  test('after svc/, deploy/, sts/, pod/: the names the watch caches hold, with the API server down (no request per key)', async () => {
    assert.deepEqual(await offered('kportctl add x '), ['svc/', 'pod/', 'deploy/', 'sts/', 'rs/']);
    await cluster.stopApi();
    try {
      assert.deepEqual(await offered('kportctl add x svc/'), ['svc/db', 'svc/web']);
      assert.deepEqual(await offered('kportctl add x svc/w'), ['svc/web']);
      assert.deepEqual(await offered('kportctl add x deploy/'), ['deploy/web']);
      assert.deepEqual(await offered('kportctl add x sts/'), ['sts/db']);
      assert.deepEqual(await offered('kportctl add x service/d'), ['service/db']);
      const pods = await offered('kportctl add x pod/web-');
      assert.equal(pods.length, 2, pods.join(' '));
      assert.ok(pods.every((p) => /^pod\/web-[a-z0-9]+-[a-z0-9]+$/.test(p)), pods.join(' '));
      // Another namespace or context: nothing is cached there.
      assert.deepEqual(await offered('kportctl add x -n kube-system svc/'), []);
      assert.deepEqual(await offered('kportctl add x --context sim-viewer svc/'), []);
      assert.deepEqual(await offered('kportctl add x -n default --context sim svc/w'), ['svc/web']);
    } finally {
      await cluster.startApi();
    }
  });

  test('without kportd: verbs still, and no names and no noise', async () => {
    const gone = { KPORT_SOCKET: join(k.dir, 'nothing-here.sock') };
    assert.deepEqual(await offered('kportctl restart ', gone), []);
    assert.deepEqual(await offered('kportctl add x svc/', gone), []);
    assert.deepEqual(await offered('kportctl st', gone), ['status', 'start', 'stop']);
  });

  test('the zsh and fish scripts parse (where those shells are installed)', async (t) => {
    for (const shell of ['zsh', 'fish'] as const) {
      const path = which(shell);
      if (!path) {
        t.diagnostic(`${shell} is not installed: its script's syntax is not checked`);
        continue;
      }
      const script = (await k.ok('completion', shell)).replace(/'/g, `'\\''`);
      const r = await bash(`printf '%s' '${script}' | '${path}' -n`, env);
      assert.equal(r.code, 0, `${shell}: ${r.stderr}`);
    }
  });
});

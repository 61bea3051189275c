#!/usr/bin/env node
/**
 * `npm run demo`: the real thing against the simulated cluster. Starts the cluster (demo world,
 * human-visible pod lifecycle), then kportd in the foreground with config/examples/demo.yaml in a
 * private state folder, prints what to try, and deletes a `web` pod every 20 s so failover can be
 * watched. Ctrl-C stops everything and removes what it made.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_DELAYS, SimCluster } from '../test/cluster/cluster.js';
import { KPORTCTL, KPORTD } from '../test/helpers/bin.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const config = process.env.KPORT_DEMO_CONFIG ?? join(root, 'config', 'examples', 'demo.yaml');
const deleteEveryMs = Number(process.env.KPORT_DEMO_DELETE_EVERY_MS ?? 20_000);

const dir = mkdtempSync(join(tmpdir(), 'kport-demo-'));
const kubeconfigPath = join(dir, 'kubeconfig');
const stateDir = join(dir, 'state');
const socket = join(stateDir, 'kportd.sock');
const cluster = await SimCluster.start({ world: 'demo', delays: DEMO_DELAYS, kubeconfigPath });

const label = process.stdout.isTTY ? '\x1b[1mdemo:\x1b[0m' : 'demo:';
const say = (text: string) => process.stdout.write(`${label} ${text}\n`);
say(`simulated cluster at ${cluster.url} (kubeconfig ${kubeconfigPath})`);

const kportd = spawn(process.execPath, [KPORTD, '--foreground', '--config', config], {
  stdio: 'inherit',
  env: { ...process.env, KPORT_DEMO_KUBECONFIG: kubeconfigPath, KPORT_STATE_DIR: stateDir, KPORT_SOCKET: socket },
});

say(`kportd is starting with ${config}. In another terminal, try:
    curl http://127.0.0.1:8080/                      # answered by a web pod, round-robin
    printf 'hello\\n' | nc -q1 127.0.0.1 15432        # echoed back by db-0
    curl http://127.0.0.1:8001/api/v1/namespaces/default/pods   # kubectl proxy, inside kportd
    KPORT_SOCKET=${socket} node ${KPORTCTL} list -w   # kportctl list -w, once installed
    KUBECONFIG=${kubeconfigPath} kubectl get pods -w
  A web pod is deleted every ${deleteEveryMs / 1000} s: the forward fails over by itself. Ctrl-C stops everything.`);

const killer = setInterval(() => {
  const victim = cluster.readyPods('default', 'app=web')[0];
  if (!victim) return;
  say(`deleting pod ${victim.metadata.name} — watch the web forward fail over`);
  cluster.deletePod('default', victim.metadata.name);
}, deleteEveryMs);

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(killer);
  if (kportd.exitCode === null && kportd.signalCode === null) {
    const exited = new Promise((r) => kportd.once('exit', r));
    kportd.kill('SIGTERM');
    await exited;
  }
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
kportd.once('exit', (code) => {
  if (!stopping) say(`kportd exited (${code}); stopping the demo`);
  void stop(code === 0 ? 0 : 1);
});

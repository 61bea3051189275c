#!/usr/bin/env node
/**
 * `npm run cluster -- --kubeconfig FILE [--port N] [--fast]`: the simulated cluster with the demo
 * world, in the foreground, until SIGINT/SIGTERM. The kubeconfig is removed on exit (its token and
 * port mean nothing once the cluster is gone).
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_DELAYS, SimCluster, TEST_DELAYS } from './cluster.js';

const USAGE = 'usage: npm run cluster -- --kubeconfig FILE [--port N] [--fast]';

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: { kubeconfig: { type: 'string' }, port: { type: 'string' }, fast: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n  --fast  test-speed pod lifecycle (default: human-visible delays)\n`);
  process.exit(0);
}
if (!args.kubeconfig) fail('--kubeconfig FILE is required');
const port = Number(args.port ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${args.port}: not a port number`);
const kubeconfigPath = resolve(args.kubeconfig);

const cluster = await SimCluster.start({ port, kubeconfigPath, world: 'demo', delays: args.fast ? TEST_DELAYS : DEMO_DELAYS });
process.stdout.write(`cluster ready: kubeconfig=${kubeconfigPath} server=${cluster.url}\n`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  rmSync(kubeconfigPath, { force: true });
  process.stdout.write('cluster stopped\n');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

/**
 * The V8 settings kportd gives itself (daemon/v8-settings.ts). It holds the optimizing compiler off until it
 * first relays: its start-up with many forwards optimizes nothing, its first relayed connection turns the
 * compiler on (relaying without it costs ~1.7x the CPU per byte), and a user's own choice is kept; seen in
 * V8's own trace. Which flags of the user's make each setting theirs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { SimCluster } from '../cluster/cluster.js';
import { chosen } from '../../daemon/v8-settings.js';
import { KportdHarness } from '../helpers/daemon.js';
import { demoCluster } from '../helpers/demo.js';
import { echoChecksum } from '../helpers/forward.js';
import { waitUntil } from '../helpers/wait.js';

/** What V8's --trace-opt prints for a function it marks, compiles or finishes optimizing. */
const OPTIMIZED = /TURBOFAN/;
const FORWARDS = 100;

let cluster: SimCluster;
before(async () => (cluster = await demoCluster()));
after(() => cluster.stop());

/** A kportd under `nodeArgs` with FORWARDS forwards to db's echo server, every one ready. */
async function kportd(nodeArgs: string[]): Promise<KportdHarness> {
  const k = new KportdHarness();
  const lines = Array.from({ length: FORWARDS }, (_, i) => `\n  - { name: db-${i}, target: sts/db, ports: [":5432"] }`);
  k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nforwards:${lines.join('')}\n`);
  await k.start([], ['--trace-opt', ...nodeArgs]);
  const rpc = await k.rpc();
  try {
    for (let i = 0; i < FORWARDS; i++) await rpc.call('session.wait', { name: `db-${i}`, timeoutMs: 10_000 });
  } finally {
    await rpc.close();
  }
  return k;
}

/** Echoes 4 MiB through forward db-0 and checks it came back whole. */
async function relay(k: KportdHarness): Promise<void> {
  const rpc = await k.rpc();
  const port = (await rpc.call('session.get', { name: 'db-0' })).listeners[0]!.port;
  await rpc.close();
  const { sent, received } = await echoChecksum(port, randomBytes(4 * 1024 * 1024));
  assert.equal(received, sent);
}

test(`${FORWARDS} forwards start, get ready and answer RPC without the optimizing compiler; the first relayed connection turns it on`, async () => {
  const k = await kportd([]);
  try {
    assert.doesNotMatch(k.output, OPTIMIZED, 'nothing optimized before kportd relays');
    await relay(k);
    await waitUntil(() => OPTIMIZED.test(k.output), 'V8 to optimize the relaying code');
  } finally {
    await k.cleanup();
  }
});

test("a user's own --no-opt is kept: relaying does not turn the compiler on", async () => {
  const k = await kportd(['--no-opt']);
  try {
    await relay(k);
    await relay(k);
    assert.doesNotMatch(k.output, OPTIMIZED);
  } finally {
    await k.cleanup();
  }
});

test("the user's flags that make a setting theirs, on the command line or in NODE_OPTIONS", () => {
  const choose = { compiler: ['--no-opt', '--opt', '--turbofan', '--no-turbofan', '--no_turbofan', '--jitless', '--max-opt=2', '--always-turbofan'], sweeping: ['--concurrent-sweeping', '--no-concurrent-sweeping', '--no_concurrent_sweeping'] } as const;
  const others = ['--max-semi-space-size=1', '--optimize-for-size', '--trace-opt', '--optimizer', '--concurrent-sweeping-x', ''];
  for (const setting of ['compiler', 'sweeping'] as const) {
    for (const flag of choose[setting]) assert.ok(chosen(setting, ['--inspect', flag]), `${flag} chooses the ${setting}`);
    for (const flag of [...others, ...choose[setting === 'compiler' ? 'sweeping' : 'compiler']]) assert.ok(!chosen(setting, [flag]), `${flag} leaves the ${setting}`);
  }
});

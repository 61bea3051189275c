/** The demo world of the simulated cluster with its pods ready, and a kportd that forwards to it. */
import { SimCluster } from '../cluster/cluster.js';
import { KportdHarness } from './daemon.js';

/** Starts the demo world and resolves once its three pods are ready. */
export async function demoCluster(): Promise<SimCluster> {
  const cluster = await SimCluster.start({ world: 'demo' });
  await cluster.waitFor(() => cluster.readyPods('default').length === 3, 10_000, 'demo pods ready');
  return cluster;
}

/** A started kportd whose kport.yaml declares forward `db` (statefulset db's echo server, any free local port). */
export async function kportdForwardingDb(cluster: SimCluster): Promise<KportdHarness> {
  const k = new KportdHarness();
  k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nforwards:\n  - name: db\n    target: sts/db\n    ports: [":5432"]\n`);
  await k.start();
  return k;
}

/** The demo world and a kportd forwarding `db` on it; `stop()` stops both and removes their files. */
export interface DemoDaemon {
  cluster: SimCluster;
  k: KportdHarness;
  stop(): Promise<void>;
}

/** Starts the demo world, then a kportd forwarding `db` on it. */
export async function demoDaemon(): Promise<DemoDaemon> {
  const cluster = await demoCluster();
  const k = await kportdForwardingDb(cluster);
  return {
    cluster,
    k,
    async stop() {
      await k.cleanup();
      await cluster.stop();
    },
  };
}

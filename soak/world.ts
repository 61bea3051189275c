/**
 * The soak's world: a simulated cluster with three workloads, the kport.yaml that forwards to them
 * (fixed local ports, so a session restarted by mistake shows up as a refused connection rather
 * than a silently new port), the broken saves of that file, and the pod names the HTTP answers may carry.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { SimCluster } from '../test/cluster/cluster.js';
import type { LifecycleDelays } from '../test/cluster/pods.js';

/** A workload the soak deletes pods of and rolls. */
export interface Workload {
  name: string;
  kind: 'deployment' | 'statefulset';
  selector: string;
  replicas: number;
}

/** How a session is exercised: echo transfers, or GETs whose body is a web pod's name. */
export interface SoakSession {
  name: string;
  kind: 'echo' | 'http';
  /** The local port kport listens on. */
  port: number;
  /** For `http`: the path to GET. */
  path: string;
  /** The workload behind it (its pods' faults affect it). */
  workload: string;
  /** A proxy: its traffic goes through the API server, not a port-forward. */
  proxy: boolean;
}

/** Everything the soak runs against. */
export interface World {
  cluster: SimCluster;
  workloads: Workload[];
  sessions: SoakSession[];
  configFile: string;
  /** kport.yaml as kportd must keep running it. */
  goodConfig: string;
  /** Every pod name deployment `web` ever had (HTTP answers must name one of them). */
  webPods: Set<string>;
}

/** Pods take a little while to come and go, as real ones do (but far less than real ones). */
export const SOAK_DELAYS: LifecycleDelays = { podStartMs: 50, podReadyMs: 150, terminationMs: 100, replacementMs: 100 };

const WORKLOADS: Workload[] = [
  { name: 'echo', kind: 'deployment', selector: 'app=echo', replicas: 2 },
  { name: 'db', kind: 'statefulset', selector: 'app=db', replicas: 1 },
  { name: 'web', kind: 'deployment', selector: 'app=web', replicas: 2 },
];

/** Binds `n` distinct free loopback ports, then releases them for kportd to take. */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => (s.once('error', reject), s.listen(0, '127.0.0.1', resolve)));
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Starts the cluster (kubeconfig in `dir`), creates the workloads and waits until all their pods are ready. */
export async function buildWorld(dir: string): Promise<World> {
  const cluster = await SimCluster.start({ kubeconfigPath: join(dir, 'kubeconfig'), delays: SOAK_DELAYS });
  try {
    const webPods = new Set<string>();
    cluster.store.subscribe((e) => {
      if (e.resource.plural === 'pods' && e.object.metadata.labels?.app === 'web') webPods.add(e.object.metadata.name);
    });
    cluster.deployment('default', 'echo', { replicas: 2, labels: { app: 'echo' }, ports: [{ containerPort: 7000 }] });
    cluster.service('default', 'echo', { selector: { app: 'echo' }, ports: [{ port: 7000 }] });
    cluster.statefulset('default', 'db', { replicas: 1, labels: { app: 'db' }, ports: [{ name: 'postgres', containerPort: 5432 }] });
    cluster.deployment('default', 'web', { replicas: 2, labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] });
    cluster.service('default', 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
    await cluster.waitFor(() => cluster.readyPods('default').length === 5, 10_000, 'the soak workloads to be ready');
    const [echo, echoDeploy, db, web, api] = (await freePorts(5)) as [number, number, number, number, number];
    const webPath = '/';
    const proxyPath = '/api/v1/namespaces/default/services/web:http/proxy/';
    const sessions: SoakSession[] = [
      { name: 'echo', kind: 'echo', port: echo, path: '', workload: 'echo', proxy: false },
      { name: 'echo-deploy', kind: 'echo', port: echoDeploy, path: '', workload: 'echo', proxy: false },
      { name: 'db', kind: 'echo', port: db, path: '', workload: 'db', proxy: false },
      { name: 'web', kind: 'http', port: web, path: webPath, workload: 'web', proxy: false },
      { name: 'api', kind: 'http', port: api, path: proxyPath, workload: 'web', proxy: true },
    ];
    const goodConfig = [
      `kubeconfig: ${cluster.kubeconfigPath}`,
      'forwards:',
      '  - name: echo',
      '    target: service/echo',
      `    ports: ["${echo}:7000"]`,
      '  - name: echo-deploy',
      '    target: deployment/echo',
      `    ports: ["${echoDeploy}:7000"]`,
      '  - name: db',
      '    target: statefulset/db',
      `    ports: ["${db}:postgres"]`,
      '  - name: web',
      '    target: service/web',
      `    ports: ["${web}:80"]`,
      'proxies:',
      '  - name: api',
      `    port: ${api}`,
      '',
    ].join('\n');
    return { cluster, workloads: WORKLOADS, sessions, configFile: join(dir, 'kport.yaml'), goodConfig, webPods };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** The saves that must not cost a running session anything. */
export type BadSave = 'broken' | 'invalid' | 'empty' | 'deleted';

/** kport.yaml's text for a bad save (null: the file is deleted). */
export function badConfig(world: World, save: BadSave): string | null {
  switch (save) {
    case 'broken':
      return `${world.goodConfig}  - name: half-typed\n    port: [8002\n`;
    case 'invalid':
      return world.goodConfig.replace(/ports: \["(\d+):7000"\]/, 'ports: ["$1:abc!"]');
    case 'empty':
      return '';
    case 'deleted':
      return null;
  }
}

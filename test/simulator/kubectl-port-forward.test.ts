/**
 * The real `kubectl port-forward` against the simulator, in both of its SPDY forms: the plain upgrade
 * and SPDY tunnelled in a WebSocket (kubectl ≥ 1.31's default). Skipped, with the reason printed,
 * where kubectl is absent.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SimCluster } from '../cluster/cluster.js';
import { kubectlOrSkip, startKubectl, type RunningKubectl } from '../helpers/kubectl.js';
import { waitUntil } from '../helpers/wait.js';

const ECHO = 7000;
const REFUSED = 9000;
const FORWARDING = /^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$/;

/** Sends `text`, half-closes, and resolves with everything the far side sent before its FIN. */
function echo(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.end(text));
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (got += c));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

/** kubectl's environment for one form: the plain upgrade is opted into; the tunnel is its default. */
function envFor(form: 'upgrade' | 'tunnel'): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.KUBECTL_PORT_FORWARD_WEBSOCKETS;
  if (form === 'upgrade') env.KUBECTL_PORT_FORWARD_WEBSOCKETS = 'false';
  return env;
}

describe('kubectl port-forward against the simulator', kubectlOrSkip(), () => {
  let cluster: SimCluster;
  const running = new Set<RunningKubectl>();
  const portForward = async (form: 'upgrade' | 'tunnel', target: string, ports: string) => {
    const k = await startKubectl(cluster.kubeconfigPath, ['port-forward', target, ports], FORWARDING, envFor(form));
    running.add(k);
    return { k, localPort: Number(k.match[1]), remotePort: Number(k.match[2]) };
  };
  const stopAll = async () => {
    await Promise.all([...running].map((k) => k.stop()));
    running.clear();
  };

  before(async () => {
    cluster = await SimCluster.start();
    cluster.pod('default', 'pf', { labels: { app: 'pf' }, ports: [{ containerPort: ECHO }, { containerPort: REFUSED }], annotations: { 'sim.kport.dev/backends': `${REFUSED}=refuse` } });
    cluster.service('default', 'pf', { selector: { app: 'pf' }, ports: [{ port: 80, targetPort: ECHO }] });
    await cluster.waitFor(() => cluster.readyPods('default').length === 1, 10_000, 'pod ready');
  });
  after(async () => {
    await stopAll();
    await cluster?.stop();
  });

  for (const form of ['upgrade', 'tunnel'] as const) {
    const other = form === 'upgrade' ? 'tunnel' : 'upgrade';

    test(`pod/NAME over ${form}: bytes round-trip, two connections share one SPDY connection`, async () => {
      const before = cluster.spdy('default', 'pf').accepted;
      try {
        const { localPort, remotePort } = await portForward(form, 'pod/pf', `0:${ECHO}`);
        assert.equal(remotePort, ECHO);
        assert.equal(await echo(localPort, 'first'), 'first');
        assert.equal(await echo(localPort, 'second, after a half-close'), 'second, after a half-close');
        const now = cluster.spdy('default', 'pf').accepted;
        // Counted per form, so this cannot pass through kubectl's fallback.
        assert.equal(now[form], before[form] + 1);
        assert.equal(now[other], before[other]);
      } finally {
        await stopAll();
      }
    });

    test(`svc/NAME over ${form}: the service port leads to the pod's target port`, async () => {
      const before = cluster.spdy('default', 'pf').accepted[form];
      try {
        const { localPort, remotePort } = await portForward(form, 'svc/pf', '0:80');
        // kubectl resolves the service port itself and names the container port it forwards to.
        assert.equal(remotePort, ECHO);
        assert.equal(await echo(localPort, 'through the service'), 'through the service');
        assert.equal(cluster.spdy('default', 'pf').accepted[form], before + 1);
      } finally {
        await stopAll();
      }
    });

    test(`a refused port over ${form}: kubectl prints the kubelet's error`, async () => {
      try {
        const { k, localPort } = await portForward(form, 'pod/pf', `0:${REFUSED}`);
        assert.equal(await echo(localPort, 'anyone there?'), '');
        await waitUntil(() => /error forwarding port 9000 to pod pf, uid \S+: .*connection refused/.test(k.output()), "kubectl's error text", 10_000);
      } finally {
        await stopAll();
      }
    });
  }
});

/**
 * A session stopped while its listener is still binding (kportctl remove right after add, a reload
 * that drops it) stops cleanly, even when the bind then fails: `stopped` never turns into `failed`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForwardSession } from '../../daemon/forward/session.js';
import { GatewaySession } from '../../daemon/gateway/session.js';
import { NamespaceCaches } from '../../daemon/kube/caches.js';
import { KubeClients } from '../../daemon/kube/clients.js';
import { silentLogger } from '../helpers/log.js';
import { occupyPort } from '../helpers/port.js';
import { forwardSpec, gatewaySpec } from '../helpers/specs.js';

test('a forward and a gateway stopped while binding a port that turns out taken end stopped, without an error', async () => {
  const taken = await occupyPort();
  const log = silentLogger();
  const deps = { kubeconfig: [], clients: new KubeClients(), caches: new NamespaceCaches(log), log, source: 'runtime' as const };
  try {
    const sessions = [
      new ForwardSession(forwardSpec('f', { ports: [{ local: taken.port, remote: 80, spec: `${taken.port}:80` }] }), deps),
      new GatewaySession(gatewaySpec('g', { port: taken.port }), deps),
    ];
    for (const s of sessions) {
      const starting = s.start();
      await s.stop();
      await starting;
      assert.equal(s.core.state, 'stopped', s.spec.name);
    }
  } finally {
    taken.server.close();
    deps.caches.stopAll();
    deps.clients.closeAll();
  }
});

/**
 * What the bundles hold, and what they load on demand, works from them: a proxy relays, a cluster behind an
 * HTTP proxy-url is reached through the tunnelling agent (an on-demand chunk; forwards and proxies alike), and
 * `kportctl list -o yaml` prints YAML (kportctl's lazy file). kportd and kportctl here are the shipped bundles (test/helpers/bin.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import type { SimCluster } from '../cluster/cluster.js';
import { demoCluster } from '../helpers/demo.js';
import { echo } from '../helpers/forward.js';
import { fetchText } from '../helpers/http.js';
import { KportdHarness } from '../helpers/daemon.js';

/** An HTTP CONNECT proxy on 127.0.0.1 that counts the tunnels it opens. */
function connectProxy(): Promise<{ server: Server; url: string; tunnels: () => number }> {
  let tunnels = 0;
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      tunnels++;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => (client.destroy(), upstream.destroy()));
    }
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels: () => tunnels })));
}

/** The port a session listens on, from kportctl. */
async function port(k: KportdHarness, name: string): Promise<number> {
  return Number((await k.ok('port', name)).trim());
}

describe('the bundles’ on-demand chunks', () => {
  let cluster: SimCluster;
  before(async () => {
    cluster = await demoCluster();
  });
  after(() => cluster.stop());

  test('a proxy relays, and kportctl list -o yaml prints YAML', async () => {
    const k = new KportdHarness();
    try {
      k.writeConfig(`kubeconfig: ${cluster.kubeconfigPath}\nproxies:\n  - { name: api, port: 0 }\n`);
      await k.start();
      const r = await fetchText(`http://127.0.0.1:${await port(k, 'api')}/api/v1/namespaces/default/pods/db-0`);
      assert.equal(r.status, 200, r.body);
      assert.equal((JSON.parse(r.body) as { metadata: { name: string } }).metadata.name, 'db-0');
      const listed = parse(await k.ok('list', '-o', 'yaml')) as { name: string; state: string }[];
      assert.deepEqual(listed.map((s) => [s.name, s.state]), [['api', 'ready']]);
    } finally {
      await k.cleanup();
    }
  });

  test('a cluster behind an HTTP proxy-url: forwards and proxies go through its tunnels', async () => {
    const proxy = await connectProxy();
    const k = new KportdHarness();
    try {
      const kubeconfig = parse(readFileSync(cluster.kubeconfigPath, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
      for (const c of kubeconfig.clusters) c.cluster['proxy-url'] = proxy.url;
      const file = join(k.dir, 'kubeconfig');
      writeFileSync(file, stringify(kubeconfig));
      k.writeConfig(`kubeconfig: ${file}\nforwards:\n  - { name: db, target: sts/db, ports: [":5432"] }\nproxies:\n  - { name: api, port: 0 }\n`);
      await k.start();
      await k.ok('wait', 'db');
      assert.equal(await echo(await port(k, 'db'), 'through the tunnel'), 'through the tunnel');
      const before = proxy.tunnels();
      const r = await fetchText(`http://127.0.0.1:${await port(k, 'api')}/version`);
      assert.equal(r.status, 200, r.body);
      assert.ok(proxy.tunnels() > before, 'the proxy session opened its own tunnel');
    } finally {
      await k.cleanup();
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });
});

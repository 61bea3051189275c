/** `kportctl gateway`: a SOCKS5 and HTTP proxy port reaching every service by its cluster name, kept alive by kportd. */
import { TRANSPORT_CHOICES } from '../../config/types.js';
import { addressList, durationEntry, integer, kubeconfigOf } from '../args.js';
import { command, JSON_FLAG, type FlagValues, type Io } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { addSession, type Entry } from './session-add.js';

const flags = {
  port: { type: 'string', short: 'p', arg: 'PORT', help: 'local port speaking SOCKS5 and HTTP proxy; 0 = any free port (default 1080)' },
  address: { type: 'string', multiple: true, arg: 'A', help: 'local address(es) to listen on, comma-separated or repeated; localhost = 127.0.0.1 and ::1 (default 127.0.0.1)' },
  context: { type: 'string', arg: 'C', help: "kubeconfig context (default: kport.yaml's, else the kubeconfig's current one)", completes: 'context' },
  kubeconfig: { type: 'string', arg: 'FILE', help: "kubeconfig to use, kept with the gateway (default: $KUBECONFIG, else kportd's)" },
  namespace: { type: 'string', short: 'n', arg: 'NS', help: "namespace of bare names such as web (default: kport.yaml's, else the context's)" },
  'allow-namespace': { type: 'string', multiple: true, arg: 'NS', help: 'reach only this namespace (repeat for more; default: every namespace)' },
  'cluster-domain': { type: 'string', arg: 'D', help: "the cluster's DNS domain (default cluster.local)" },
  'connect-timeout': { type: 'string', arg: 'T', help: 'how long a connection waits for a ready pod (30s, 2m; default 30s)' },
  transport: { type: 'string', arg: 'T', help: 'auto (default), spdy, spdy-websocket or websocket', completes: TRANSPORT_CHOICES },
  ephemeral: { type: 'boolean', help: 'forget the gateway when kportd stops (default: kept across restarts)' },
  ...JSON_FLAG,
} as const;

/** The kport.yaml `gateways[]` entry for `kportctl gateway` arguments (kportd validates it). */
export function gatewayEntry(name: string, f: FlagValues<typeof flags>, io: Pick<Io, 'env' | 'cwd'>): Entry {
  const entry: Entry = { name };
  if (f.port !== undefined) entry.port = integer(f.port, 'port', 0, 65535);
  const address = addressList(f.address);
  if (address !== undefined) entry.address = address;
  if (f.context !== undefined) entry.context = f.context;
  const kubeconfig = kubeconfigOf(f.kubeconfig, io.env, io.cwd);
  if (kubeconfig !== undefined) entry.kubeconfig = kubeconfig;
  if (f.namespace !== undefined) entry.namespace = f.namespace;
  if (f['allow-namespace'] !== undefined) entry.namespaces = f['allow-namespace'];
  if (f['cluster-domain'] !== undefined) entry.clusterDomain = f['cluster-domain'];
  if (f['connect-timeout'] !== undefined) entry.connectTimeout = durationEntry(f['connect-timeout'], 'connect-timeout');
  if (f.transport !== undefined) entry.transport = f.transport;
  return entry;
}

/** `kportctl gateway NAME`. */
export const gateway = command({
  name: 'gateway',
  summary: 'add a cluster gateway (SOCKS5 + HTTP proxy): kportctl gateway cluster',
  usage: ['NAME [flags]'],
  description: `
Adds a gateway that kportd keeps alive: one local port speaking SOCKS5 and HTTP proxy through
which every service is reached by its cluster name (web, web.shop, web.shop.svc,
web.shop.svc.cluster.local, a StatefulSet pod as db-0.db.shop.svc.cluster.local, a ClusterIP or
a pod IP), over the same port-forward streams a forward uses. Nothing is installed in the
cluster and nothing needs root. kportctl env NAME prints the proxy variables for a shell.`,
  examples: ['kportctl gateway cluster', 'kportctl gateway staging --context staging --port 1081', 'eval "$(kportctl env cluster)" && curl http://web.default.svc/'],
  flags,
  positionals: { min: 1, max: 1 },
  exits: STANDARD_EXITS,
  async run({ args, flags: f, io, connect }) {
    const entry = gatewayEntry(args[0]!, f, io);
    return addSession(await connect(), io, { kind: 'gateway', entry, ephemeral: f.ephemeral === true, json: f.json === true });
  },
});

/** `kportctl add`: a port-forward in kubectl's syntax, kept alive by kportd. */
import { TRANSPORT_CHOICES } from '../../config/types.js';
import { addressList, durationEntry, kubeconfigOf, labels } from '../args.js';
import { command, JSON_FLAG, UsageError, type FlagValues, type Io } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { addSession, type Entry } from './session-add.js';

const flags = {
  namespace: { type: 'string', short: 'n', arg: 'NS', help: "namespace of the target (default: kport.yaml's, else the context's)" },
  context: { type: 'string', arg: 'C', help: "kubeconfig context (default: kport.yaml's, else the kubeconfig's current one)", completes: 'context' },
  kubeconfig: { type: 'string', arg: 'FILE', help: "kubeconfig to use, kept with the forward (default: $KUBECONFIG, else kportd's)" },
  address: { type: 'string', multiple: true, arg: 'A', help: 'local address(es) to listen on, comma-separated or repeated; localhost = 127.0.0.1 and ::1 (default 127.0.0.1)' },
  selector: { type: 'string', short: 'l', arg: 'K=V[,K=V]', help: 'forward to any ready pod with these labels, instead of TARGET' },
  balance: { type: 'string', arg: 'B', help: 'round-robin (default) over ready pods, or first (one pod, as kubectl)', completes: ['round-robin', 'first'] },
  'connect-timeout': { type: 'string', arg: 'T', help: 'how long a connection waits for a ready pod (30s, 2m; default 30s)' },
  transport: { type: 'string', arg: 'T', help: 'auto (default: SPDY as kubectl, then SPDY in a WebSocket, then WebSocket), spdy, spdy-websocket or websocket', completes: TRANSPORT_CHOICES },
  ephemeral: { type: 'boolean', help: 'forget the forward when kportd stops (default: kept across restarts)' },
  ...JSON_FLAG,
} as const;

/** The kport.yaml `forwards[]` entry for `kportctl add` arguments (kportd validates it). */
export function forwardEntry(args: readonly string[], f: FlagValues<typeof flags>, io: Pick<Io, 'env' | 'cwd'>): Entry {
  const [name = '', ...rest] = args;
  // Session names have no "/": this is kubectl port-forward's TARGET, written where kportctl wants a NAME.
  if (name.includes('/')) {
    const suggested = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/.test(name.slice(name.lastIndexOf('/') + 1)) ? name.slice(name.lastIndexOf('/') + 1) : 'NAME';
    throw new UsageError(`missing NAME before the target: a forward is named first (as in: kportctl add ${suggested} ${[name, ...rest].join(' ')})`);
  }
  const entry: Entry = { name };
  let ports: string[];
  if (f.selector !== undefined) {
    entry.selector = labels(f.selector, 'selector');
    ports = rest;
  } else {
    const [target = '', ...more] = rest;
    if (target === '') throw new UsageError('missing TARGET (svc/NAME, pod/NAME, deploy/NAME, …)');
    // "web 8080:80" without a target would otherwise become pod "8080:80".
    if (/^\d*:/.test(target)) throw new UsageError(`missing TARGET before the ports (as in: kportctl add ${name} svc/${name} ${target})`);
    // A bare name is a pod, as kubectl port-forward reads it.
    entry.target = target.includes('/') ? target : `pod/${target}`;
    ports = more;
  }
  if (ports.length === 0) throw new UsageError('missing PORT (LOCAL:REMOTE, REMOTE, or :REMOTE)');
  entry.ports = ports;
  if (f.namespace !== undefined) entry.namespace = f.namespace;
  if (f.context !== undefined) entry.context = f.context;
  const kubeconfig = kubeconfigOf(f.kubeconfig, io.env, io.cwd);
  if (kubeconfig !== undefined) entry.kubeconfig = kubeconfig;
  const address = addressList(f.address);
  if (address !== undefined) entry.address = address;
  if (f.balance !== undefined) entry.balance = f.balance;
  if (f['connect-timeout'] !== undefined) entry.connectTimeout = durationEntry(f['connect-timeout'], 'connect-timeout');
  if (f.transport !== undefined) entry.transport = f.transport;
  return entry;
}

/** `kportctl add NAME TARGET PORT...`. */
export const add = command({
  name: 'add',
  summary: 'add a port-forward: kportctl add web svc/web 8080:80',
  usage: ['NAME TARGET PORT... [flags]', 'NAME --selector K=V[,K=V] PORT... [flags]'],
  description: `
Adds a port-forward that kportd keeps alive: it listens locally at once and follows the target's
pods as they come and go. TARGET and PORT are written as for kubectl port-forward: TARGET is
pod/NAME (or just NAME), svc/NAME, deploy/NAME, sts/NAME or rs/NAME; PORT is LOCAL:REMOTE,
REMOTE (same number both sides) or :REMOTE (any free local port; printed, and kportctl port
tells it later). REMOTE may be a port name. The forward is kept across kportd restarts unless
--ephemeral; forwards declared in kport.yaml are edited there instead.`,
  examples: [
    'kportctl add web svc/web 8080:80',
    'kportctl add db sts/postgres 5432 -n data --context staging',
    'kportctl add api -l app=api :8080 --address 127.0.0.1 --address ::1',
    'kportctl add debug my-pod-7d9f 9229 --ephemeral',
  ],
  flags,
  positionals: { min: 1, max: Infinity },
  completes: [null, 'target', null],
  exits: STANDARD_EXITS,
  async run({ args, flags: f, io, connect }) {
    const entry = forwardEntry(args, f, io);
    return addSession(await connect(), io, { kind: 'forward', entry, ephemeral: f.ephemeral === true, json: f.json === true });
  },
});

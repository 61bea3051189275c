/** `kportctl proxy`: a `kubectl proxy` kept alive by kportd, with kubectl proxy's flags. */
import { addressList, integer, kubeconfigOf, localPath } from '../args.js';
import { command, JSON_FLAG, type FlagValues } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { addSession, type Entry } from './session-add.js';

const flags = {
  port: { type: 'string', short: 'p', arg: 'PORT', help: 'local port; 0 = any free port (default 8001)' },
  address: { type: 'string', multiple: true, arg: 'A', help: 'local address(es) to listen on, comma-separated or repeated; localhost = 127.0.0.1 and ::1 (default 127.0.0.1)' },
  context: { type: 'string', arg: 'C', help: "kubeconfig context (default: kport.yaml's, else the kubeconfig's current one)", completes: 'context' },
  kubeconfig: { type: 'string', arg: 'FILE', help: "kubeconfig to use, kept with the proxy (default: $KUBECONFIG, else kportd's)" },
  'unix-socket': { type: 'string', short: 'u', arg: 'PATH', help: 'listen on this Unix socket instead of a port' },
  'api-prefix': { type: 'string', arg: 'P', help: 'URL prefix the API is served under (default /)' },
  'accept-paths': { type: 'string', multiple: true, arg: 'RE', help: 'regex of paths to accept (default ^.*)' },
  'reject-paths': { type: 'string', multiple: true, arg: 'RE', help: 'regex of paths to reject (default: pods/exec, pods/attach)' },
  'accept-hosts': { type: 'string', multiple: true, arg: 'RE', help: 'regex of Host headers to accept (default: localhost)' },
  'reject-methods': { type: 'string', multiple: true, arg: 'RE', help: 'regex of HTTP methods to reject (default ^$)' },
  'disable-filter': { type: 'boolean', help: 'accept every path, host and method (dangerous)' },
  www: { type: 'string', short: 'w', arg: 'DIR', help: 'also serve static files from this folder' },
  'www-prefix': { type: 'string', short: 'P', arg: 'P', help: 'URL prefix of the static files (default /static/)' },
  ephemeral: { type: 'boolean', help: 'forget the proxy when kportd stops (default: kept across restarts)' },
  ...JSON_FLAG,
} as const;

/** The kport.yaml `proxies[]` entry for `kportctl proxy` arguments; relative paths are made absolute here. */
export function proxyEntry(name: string, f: FlagValues<typeof flags>, env: Record<string, string | undefined>, cwd: string): Entry {
  const entry: Entry = { name };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) entry[key] = value;
  };
  set('port', f.port === undefined ? undefined : integer(f.port, 'port', 0, 65535));
  set('address', addressList(f.address));
  set('context', f.context);
  set('kubeconfig', kubeconfigOf(f.kubeconfig, env, cwd));
  set('unixSocket', f['unix-socket'] === undefined ? undefined : localPath(f['unix-socket'], cwd));
  set('apiPrefix', f['api-prefix']);
  set('acceptPaths', f['accept-paths']);
  set('rejectPaths', f['reject-paths']);
  set('acceptHosts', f['accept-hosts']);
  set('rejectMethods', f['reject-methods']);
  set('disableFilter', f['disable-filter']);
  set('www', f.www === undefined ? undefined : localPath(f.www, cwd));
  set('wwwPrefix', f['www-prefix']);
  return entry;
}

/** `kportctl proxy NAME`. */
export const proxy = command({
  name: 'proxy',
  summary: 'add an API proxy, like kubectl proxy: kportctl proxy api --port 8001',
  usage: ['NAME [flags]'],
  description: `
Adds a proxy to the Kubernetes API server, as kubectl proxy runs one, that kportd keeps alive:
requests are authenticated with the context's credentials. The flags are kubectl proxy's; a
regex flag given replaces that filter's defaults and may be repeated (kubectl's comma lists are
not split, since commas occur in regexes). Relative paths are taken from the current folder.`,
  examples: ['kportctl proxy api', 'kportctl proxy api-staging --context staging --port 0', 'kportctl proxy sock --unix-socket /tmp/kube.sock'],
  flags,
  positionals: { min: 1, max: 1 },
  exits: STANDARD_EXITS,
  async run({ args, flags: f, io, connect }) {
    const entry = proxyEntry(args[0]!, f, io.env, io.cwd);
    return addSession(await connect(), io, { kind: 'proxy', entry, ephemeral: f.ephemeral === true, json: f.json === true });
  },
});

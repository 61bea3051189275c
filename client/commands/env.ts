/** `kportctl env`: the proxy variables that send a shell's programs through a gateway. */
import { isIPv6 } from 'node:net';
import { KportError } from '../../daemon/api/errors.js';
import type { BoundListener } from '../../daemon/api/session.js';
import { command, EXIT, sessionName, UsageError } from '../command.js';
import { STANDARD_EXITS } from '../help.js';

/** Hosts that stay direct: this machine. */
export const NO_PROXY = 'localhost,127.0.0.1,::1';

/** Every variable `env` sets, upper and lower case (curl reads only http_proxy in lower case; others vary). */
const NAMES = ['ALL_PROXY', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'] as const;

/** The host a client on this machine dials for a listener: a wildcard bind is reached over loopback. */
function dialHost(l: BoundListener): string {
  if (l.address === '0.0.0.0') return '127.0.0.1';
  if (l.address === '::') return '[::1]';
  return isIPv6(l.address) ? `[${l.address}]` : l.address;
}

/** The proxy variables for a gateway listening on `l`, by name: SOCKS5 with names resolved by the gateway, HTTP for the rest. */
export function proxyVariables(l: BoundListener): Record<string, string> {
  const at = `${dialHost(l)}:${l.port}`;
  const values: Record<(typeof NAMES)[number], string> = {
    // socks5h: the name goes to the gateway unresolved (the cluster's names mean nothing to this machine's DNS).
    ALL_PROXY: `socks5h://${at}`,
    HTTPS_PROXY: `http://${at}`,
    HTTP_PROXY: `http://${at}`,
    NO_PROXY,
  };
  return Object.fromEntries(NAMES.flatMap((n) => [[n, values[n]], [n.toLowerCase(), values[n]]]));
}

/** `export A=… B=…` for sh, bash and zsh (the values need no quoting: addresses, ports and commas). */
export function exportLine(vars: Record<string, string>): string {
  return `export ${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(' ')}\n`;
}

/** `unset A B …`. */
export function unsetLine(): string {
  return `unset ${NAMES.flatMap((n) => [n, n.toLowerCase()]).join(' ')}\n`;
}

/** `kportctl env NAME [--unset]`. */
export const env = command({
  name: 'env',
  summary: 'print the proxy variables for a gateway: eval "$(kportctl env cluster)"',
  usage: ['NAME [--unset]', '--unset'],
  description: `
Prints an export line for sh, bash and zsh that points ALL_PROXY (socks5h://, so names are
resolved in the cluster), HTTPS_PROXY and HTTP_PROXY (and their lower-case twins) at the
gateway NAME, with NO_PROXY keeping this machine direct. Run it through eval; --unset prints
the line that removes them again (no NAME needed).`,
  examples: ['eval "$(kportctl env cluster)"', 'curl http://web.default.svc/', 'eval "$(kportctl env --unset)"'],
  flags: { unset: { type: 'boolean', help: 'print the unset line instead' } },
  positionals: { min: 0, max: 1 },
  completes: ['session'],
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'no such session, it is not a gateway, or it is not listening' },
  async run({ args, flags: f, io, connect }) {
    if (f.unset) {
      io.stdout.write(unsetLine());
      return EXIT.OK;
    }
    if (args[0] === undefined) throw new UsageError('missing NAME (the gateway; kportctl list shows it)');
    const name = sessionName(args[0]);
    const status = await (await connect()).call('session.get', { name });
    if (status.kind !== 'gateway') throw new KportError('NOT_FOUND', `${name} is a ${status.kind}, not a gateway (kportctl gateway NAME adds one)`);
    const l = status.listeners[0];
    if (l === undefined) throw new KportError(status.lastError?.code ?? 'NOT_FOUND', `${name} is not listening (${status.state}: ${status.reason})`);
    io.stdout.write(exportLine(proxyVariables(l)));
    return EXIT.OK;
  },
});

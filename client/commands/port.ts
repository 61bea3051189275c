/** `kportctl port`: just the local port number, for `curl localhost:$(kportctl port web)`. */
import { KportError } from '../../daemon/api/errors.js';
import type { BoundListener } from '../../daemon/api/session.js';
import { command, EXIT, sessionName } from '../command.js';
import { STANDARD_EXITS } from '../help.js';

/** The listener forwarding to `remote` as written (`https`, `80`) or as a number (`080`); else the first. */
export function pickListener(listeners: readonly BoundListener[], remote: string | undefined): BoundListener | undefined {
  if (remote === undefined) return listeners[0];
  const asNumber = /^\d+$/.test(remote) ? Number(remote) : null;
  return listeners.find((l) => String(l.remote) === remote || (asNumber !== null && l.remote === asNumber));
}

/** `kportctl port NAME [REMOTE]`. */
export const port = command({
  name: 'port',
  summary: 'print the local port of a session (the one for REMOTE)',
  usage: ['NAME [REMOTE]'],
  description: `
Prints only the local port a session listens on: its first one, or the one forwarding to REMOTE
(a remote port as written in the forward, number or name). Useful with ":REMOTE" forwards,
which take any free local port.`,
  examples: ['curl localhost:$(kportctl port web)', 'kportctl port web https'],
  flags: {},
  positionals: { min: 1, max: 2 },
  completes: ['session', null],
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'no such session, or it has no (matching) local port' },
  async run({ args, io, connect }) {
    const name = sessionName(args[0]!);
    const remote = args[1];
    const status = await (await connect()).call('session.get', { name });
    const l = pickListener(status.listeners, remote);
    if (l === undefined) {
      const remotes = status.listeners.map((x) => x.remote).join(', ');
      // Not listening: the code of what stops it (PORT_IN_USE, …) says the most.
      if (status.listeners.length === 0) throw new KportError(status.lastError?.code ?? 'NOT_FOUND', `${name} is not listening (${status.state}: ${status.reason})`);
      throw new KportError('NOT_FOUND', `${name} forwards nothing to ${JSON.stringify(remote)} (its remote ports: ${remotes})`);
    }
    if (l.port === 0) throw new KportError('NOT_FOUND', `${name} listens on a Unix socket, not a port: ${l.address}`);
    io.stdout.write(`${l.port}\n`);
    return EXIT.OK;
  },
});

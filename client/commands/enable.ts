/**
 * `kportctl enable` and `kportctl disable`: start or stop any session and keep it so, a kport.yaml session declared
 * with `enabled: false` included. kportd keeps the override across reloads and restarts, and drops it once it
 * agrees with the declaration again.
 */
import type { Command } from '../command.js';
import { command, EXIT, JSON_FLAG, sessionName } from '../command.js';
import { STANDARD_EXITS } from '../help.js';

/** The verb for one direction. */
function toggle(enabled: boolean): Command {
  const verb = enabled ? 'enable' : 'disable';
  return command({
    name: verb,
    summary: enabled ? 'start a session, one declared enabled: false included' : 'stop a session and keep it stopped',
    usage: ['NAME... [--json]'],
    description: enabled
      ? `
Starts each session named and keeps it running, whatever kport.yaml or kportctl add said: a
forward declared with enabled: false in kport.yaml starts without editing the file. kportd keeps
this across reloads of kport.yaml and its own restarts (in sessions.json); kportctl list shows it
(REASON starts "enabled by kportctl"). kportctl disable undoes it.`
      : `
Stops each session named (closing its listeners and connections) and keeps it stopped, whatever
kport.yaml or kportctl add said, across reloads and restarts, until kportctl enable. It stays
listed, stopped, saying why.`,
    examples: enabled ? ['kportctl enable db && kportctl wait db', 'kportctl enable db api'] : ['kportctl disable db'],
    flags: { ...JSON_FLAG },
    positionals: { min: 1, max: Infinity },
    completes: ['session'],
    exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'no such session, or another error from kportd' },
    async run({ args, flags: f, io, connect }) {
      const rpc = await connect();
      for (const name of args.map(sessionName)) {
        const s = await rpc.call(enabled ? 'session.enable' : 'session.disable', { name });
        io.stdout.write(f.json ? `${JSON.stringify(s, null, 2)}\n` : `${verb}d ${s.name}: ${s.state} (${s.reason})\n`);
      }
      return EXIT.OK;
    },
  });
}

/** `kportctl enable NAME...`. */
export const enable = toggle(true);
/** `kportctl disable NAME...`. */
export const disable = toggle(false);

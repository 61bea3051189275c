/** `kportctl restart`: stop a session and start it afresh from the same spec. */
import { command, EXIT, JSON_FLAG, sessionName } from '../command.js';
import { STANDARD_EXITS } from '../help.js';

/** `kportctl restart NAME`. */
export const restart = command({
  name: 'restart',
  summary: 'stop a session and start it again',
  usage: ['NAME [--json]'],
  description: `
Stops the session (closing its listeners and connections) and starts it again from the same
settings: a quick way out of a long backoff after fixing what was wrong.`,
  examples: ['kportctl restart web'],
  flags: { ...JSON_FLAG },
  positionals: { min: 1, max: 1 },
  completes: ['session', null],
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'no such session, or another error from kportd' },
  async run({ args, flags: f, io, connect }) {
    const status = await (await connect()).call('session.restart', { name: sessionName(args[0]!) });
    io.stdout.write(f.json ? `${JSON.stringify(status, null, 2)}\n` : `restarted ${status.name}: ${status.state} (${status.reason})\n`);
    return EXIT.OK;
  },
});

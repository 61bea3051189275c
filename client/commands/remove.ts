/** `kportctl remove`: stop a session added with kportctl and forget it. */
import { command, EXIT, JSON_FLAG, sessionName } from '../command.js';
import { STANDARD_EXITS } from '../help.js';

/** `kportctl remove NAME`. */
export const remove = command({
  name: 'remove',
  aliases: ['rm', 'delete'],
  summary: 'stop and forget sessions added with kportctl',
  usage: ['NAME... [--json]'],
  description: `
Stops each forward or proxy named, added with kportctl add / kportctl proxy, and forgets it (it
does not come back when kportd restarts); the first one that cannot be removed stops the run. Sessions declared in kport.yaml are removed by editing the file (or
setting enabled: false there); kportd applies the change.`,
  examples: ['kportctl remove web', 'kportctl rm web db'],
  flags: { ...JSON_FLAG },
  positionals: { min: 1, max: Infinity },
  completes: ['session'],
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'no such session, or it is declared in kport.yaml (DECLARED_IN_CONFIG)' },
  async run({ args, flags: f, io, connect }) {
    const rpc = await connect();
    for (const name of args.map(sessionName)) {
      const result = await rpc.call('session.remove', { name });
      io.stdout.write(f.json ? `${JSON.stringify(result)}\n` : `removed ${result.removed}\n`);
    }
    return EXIT.OK;
  },
});

/** `kportctl remove`: stop a session added with kportctl and forget it. */
import { command, EXIT, JSON_FLAG } from '../command.js';
import { STANDARD_EXITS } from '../help.js';

/** `kportctl remove NAME`. */
export const remove = command({
  name: 'remove',
  summary: 'stop and forget a session added with kportctl',
  usage: ['NAME [--json]'],
  description: `
Stops a forward or proxy added with kportctl add / kportctl proxy and forgets it (it does not come
back when kportd restarts). Sessions declared in kport.yaml are removed by editing the file (or
setting enabled: false there); kportd applies the change.`,
  examples: ['kportctl remove web'],
  flags: { ...JSON_FLAG },
  positionals: { min: 1, max: 1 },
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'no such session, or it is declared in kport.yaml (DECLARED_IN_CONFIG)' },
  async run({ args, flags: f, io, connect }) {
    const result = await (await connect()).call('session.remove', { name: args[0]! });
    io.stdout.write(f.json ? `${JSON.stringify(result)}\n` : `removed ${result.removed}\n`);
    return EXIT.OK;
  },
});

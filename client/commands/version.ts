/** `kportctl version`: kportctl's version, and the running kportd's (as kubectl version shows client and server). */
import { VERSION } from '../../daemon/api/version.js';
import { command, EXIT, JSON_FLAG } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { DaemonNotRunning } from '../rpc.js';

/** `kportctl version`. */
export const version = command({
  name: 'version',
  summary: "print kportctl's version and the running kportd's",
  usage: ['[--json]'],
  description: `
Prints kportctl's version and, when kportd answers, its version and pid. kportd not running is
not an error here: the line says so and the exit code is 0. kportctl --version prints
kportctl's version alone, without asking kportd.`,
  examples: ['kportctl version', 'kportctl --version', 'kportctl version --json | jq -r .kportd.version'],
  flags: { ...JSON_FLAG },
  positionals: { min: 0, max: 0 },
  exits: { [EXIT.OK]: 'printed (kportd running or not)', [EXIT.USAGE]: STANDARD_EXITS[EXIT.USAGE]! },
  async run({ flags: f, io, connect }) {
    let daemon: { version: string; pid: number; socket: string } | null = null;
    let absent = '';
    try {
      const s = await (await connect()).call('daemon.status', {});
      daemon = { version: s.version, pid: s.pid, socket: s.socket };
    } catch (err) {
      if (!(err instanceof DaemonNotRunning)) throw err;
      absent = err.message.replace(/; start it with: .*$/, '');
    }
    if (f.json) {
      io.stdout.write(`${JSON.stringify({ kportctl: { version: VERSION }, kportd: daemon }, null, 2)}\n`);
      return EXIT.OK;
    }
    const server = daemon ? `kportd   ${daemon.version} (pid ${daemon.pid}, socket ${daemon.socket})` : absent;
    io.stdout.write(`kportctl ${VERSION}\n${server}\n`);
    return EXIT.OK;
  },
});

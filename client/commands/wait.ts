/** `kportctl wait`: for scripts, block until a session is ready (exit 0) or the timeout passes (exit 4). */
import { durationMs } from '../args.js';
import { command, EXIT, JSON_FLAG } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { route } from '../output/sessions.js';

/** `kportctl wait NAME`. */
export const wait = command({
  name: 'wait',
  summary: 'wait until a session is ready (exit 0) or time out (exit 4)',
  usage: ['NAME [--timeout T] [--json]'],
  description: `
Waits until the session is ready: listening, with a pod (or the API server) to send connections
to. T is a number of seconds or a duration such as 500ms, 30s, 2m, 1m30s (at most 24h). On
timeout it says which state the session was in, and why, and exits 4.`,
  examples: ['kportctl add web svc/web 8080:80 && kportctl wait web && curl localhost:8080', 'kportctl wait db --timeout 2m'],
  flags: {
    timeout: { type: 'string', short: 't', arg: 'T', help: 'how long to wait: seconds, or 30s, 2m, … (default 30s)' },
    ...JSON_FLAG,
  },
  positionals: { min: 1, max: 1 },
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'no such session, or another error from kportd', [EXIT.TIMEOUT]: 'not ready before the timeout' },
  async run({ args, flags: f, io, connect }) {
    const timeoutMs = durationMs(f.timeout ?? '30s', 'timeout');
    const rpc = await connect();
    const status = await rpc.call('session.wait', { name: args[0]!, timeoutMs });
    io.stdout.write(f.json ? `${JSON.stringify(status, null, 2)}\n` : `${status.name} is ready: ${route(status)}\n`);
    return EXIT.OK;
  },
});

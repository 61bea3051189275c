/**
 * `kportctl wait`: for scripts, block until a session is ready (exit 0), has failed (exit 1, at once, with why), or
 * the timeout passes (exit 4).
 */
import { KportError } from '../../daemon/api/errors.js';
import type { SessionStatus } from '../../daemon/api/session.js';
import { durationMs } from '../args.js';
import { command, EXIT, JSON_FLAG, sessionName } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { route } from '../output/sessions.js';
import type { RpcClient } from '../rpc.js';

/** Resolves with the first `failed` status of `name` notified from now on (after events.subscribe). */
function whenFailed(rpc: RpcClient, name: string): Promise<SessionStatus> {
  return new Promise((resolve) => {
    rpc.on('session.changed', (s) => {
      if (s.name === name && s.state === 'failed') resolve(s);
    });
  });
}

/** `kportctl wait NAME`. */
export const wait = command({
  name: 'wait',
  summary: 'wait until a session is ready (exit 0), failed (1) or time out (4)',
  usage: ['NAME [--timeout T] [--json]'],
  description: `
Waits until the session is ready: listening, with a pod (or the API server) to send connections
to. A session that is failed (something only you can fix: a local port in use, an unknown target,
no permission to port-forward) ends the wait at once with its error code and reason, exit 1.
T is a number of seconds or a duration such as 500ms, 30s, 2m, 1m30s (at most 24h). On
timeout it says which state the session was in, and why, and exits 4.`,
  examples: ['kportctl add web svc/web 8080:80 && kportctl wait web && curl localhost:8080', 'kportctl wait db --timeout 2m'],
  flags: {
    timeout: { type: 'string', short: 't', arg: 'T', help: 'how long to wait: seconds, or 30s, 2m, … (default 30s)' },
    ...JSON_FLAG,
  },
  positionals: { min: 1, max: 1 },
  completes: ['session', null],
  exits: { ...STANDARD_EXITS, [EXIT.ERROR]: 'the session failed (its code and reason are printed), or no such session', [EXIT.TIMEOUT]: 'not ready before the timeout' },
  async run({ args, flags: f, io, connect }) {
    const name = sessionName(args[0]!);
    const timeoutMs = durationMs(f.timeout ?? '30s', 'timeout');
    const rpc = await connect();
    // Subscribed before the first look, so a failure right after it is not missed.
    const failed = whenFailed(rpc, name);
    await rpc.call('events.subscribe', {});
    const now = await rpc.call('session.get', { name });
    const status = now.state === 'failed' ? now : await Promise.race([rpc.call('session.wait', { name, timeoutMs }), failed]);
    if (status.state === 'failed') {
      throw new KportError(status.lastError?.code ?? 'INTERNAL', `${name} failed: ${status.reason}`, { state: status.state, reason: status.reason });
    }
    io.stdout.write(f.json ? `${JSON.stringify(status, null, 2)}\n` : `${status.name} is ready: ${route(status)}\n`);
    return EXIT.OK;
  },
});

/**
 * What `add`, `proxy` and `gateway` share: send `session.add`, wait briefly for the session to settle (ready, or
 * failed with why), and print where it listens (the real port when 0 was asked) and the state it reached.
 */
import type { SessionKind } from '../../config/types.js';
import type { SessionStatus } from '../../daemon/api/session.js';
import { EXIT, type Io } from '../command.js';
import { listenerRoutes } from '../output/sessions.js';
import type { RpcClient } from '../rpc.js';

/** A kport.yaml forwards[], proxies[] or gateways[] entry, as `session.add` takes it. */
export type Entry = Record<string, unknown> & { name: string };

/** How long to wait for the session to settle before printing what is known (a forward with no ready pod waits on). */
const SETTLE_WAIT_MS = 5_000;

/** Adds a session from its kport.yaml entry and reports it; exit 0 once kportd has accepted it. */
export async function addSession(
  rpc: RpcClient,
  io: Io,
  request: { kind: SessionKind; entry: Entry; ephemeral: boolean; json: boolean },
): Promise<number> {
  const { kind, entry, ephemeral } = request;
  // Subscribed before the add, so a listener bound right after it cannot be missed.
  const bound = watchSettling(rpc, entry.name, SETTLE_WAIT_MS);
  await rpc.call('events.subscribe', {});
  const status = await bound(await rpc.call('session.add', { kind, entry, ephemeral }));
  if (request.json) {
    io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return EXIT.OK;
  }
  const head = `added ${kind} ${status.name}`;
  const routes = listenerRoutes(status);
  const condition = status.state === 'ready' ? ' (ready)' : ` (${status.state}: ${status.reason})`;
  if (routes.length === 0) io.stdout.write(`${head}, not listening (${status.state}: ${status.reason})\n`);
  else if (routes.length === 1) io.stdout.write(`${head}: ${routes[0]}${condition}\n`);
  else io.stdout.write(`${head}${condition}:\n${routes.map((r) => `  ${r}\n`).join('')}`);
  if (status.spec.exposed) {
    io.stderr.write(`warning: ${status.name} listens on ${status.spec.addresses.join(', ')}: reachable from other machines\n`);
  }
  return EXIT.OK;
}

/** Ready (bound, and kportd has checked it can serve), or going nowhere without the user: failed or stopped. */
const settled = (s: SessionStatus) => s.state === 'ready' || s.state === 'failed' || s.state === 'stopped';

/**
 * Starts watching `name`'s notifications; the returned function resolves with the first settled status
 * (the add's own result, or a later notification), else the newest one after `ms`.
 */
function watchSettling(rpc: RpcClient, name: string, ms: number): (added: SessionStatus) => Promise<SessionStatus> {
  let latest: SessionStatus | null = null;
  let wake = () => {};
  rpc.on('session.changed', (s) => {
    if (s.name !== name) return;
    latest = s;
    wake();
  });
  return (added) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(latest ?? added), ms);
      wake = () => {
        const done = [added, latest].find((s): s is SessionStatus => s !== null && settled(s));
        if (!done) return;
        clearTimeout(timer);
        resolve(done);
      };
      wake();
    });
}

/** The end of every follow mode (events, logs -f, list -w): Ctrl-C is success; kportd going away is not. */
import { EXIT } from '../command.js';
import type { RpcClient } from '../rpc.js';

/**
 * Resolves with exit 0 once `interrupted` does (Ctrl-C); throws DaemonNotRunning (exit 3) if kportd closes
 * the connection first. Take `interrupted` from io.interrupted() before subscribing: output can start at once.
 */
export async function followUntilInterrupted(interrupted: Promise<void>, rpc: RpcClient): Promise<number> {
  const ended = await Promise.race([interrupted.then(() => null), rpc.closed]);
  if (ended) throw ended;
  return EXIT.OK;
}

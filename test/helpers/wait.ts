/** Polling with a deadline, for conditions nothing emits an event for (another process's exit). */
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves once `check()` is true, checking every `everyMs`; rejects naming `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}

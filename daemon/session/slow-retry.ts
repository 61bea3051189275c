/**
 * The slow retry of a session that needs the user (`failed`: a port taken, a 403): one attempt pending at a time,
 * each failure scheduling the next afresh, so a fix (RBAC granted, the port freed) is noticed without a restart.
 */

/** Runs `attempt` once, `delayMs` after the last `schedule()`. */
export class SlowRetry {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly delayMs: number,
    private readonly attempt: () => void,
  ) {}

  /** True while an attempt is waiting to run. */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** (Re)schedules the attempt `delayMs` from now. */
  schedule(): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.attempt();
    }, this.delayMs);
  }

  /** Drops the pending attempt (the session stops). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Runs async jobs one at a time, in the order given; a job that fails does not stop the ones after it. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `job` once every job given before it has settled. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => {});
    return next;
  }
}

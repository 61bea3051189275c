/**
 * At most N holders at once, the others waiting in order: one context's one-shot API requests take
 * turns (kube/client.ts). A waiter whose signal aborts leaves the line without ever holding a turn.
 */
import { requestCancelled } from './errors.js';

/** A line of waiters for `size` turns. */
export class Turns {
  private held = 0;
  /** Each waiter's start, in order. */
  private readonly line: (() => void)[] = [];

  constructor(private readonly size: number) {}

  /** Resolves with the turn's end (call it once, when done) once a turn is free; rejects if `signal` aborts first. */
  take(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(requestCancelled());
    if (this.held < this.size) return Promise.resolve(this.hold());
    return new Promise((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener('abort', leave);
        resolve(this.hold());
      };
      const leave = () => {
        this.line.splice(this.line.indexOf(start), 1);
        reject(requestCancelled());
      };
      signal?.addEventListener('abort', leave, { once: true });
      this.line.push(start);
    });
  }

  private hold(): () => void {
    this.held++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.held--;
      this.line.shift()?.();
    };
  }
}

/**
 * A watch-backed copy of one resource collection (e.g. the pods of one namespace): list, then
 * watch from the list's resourceVersion; resume from the last seen resourceVersion when a watch
 * ends; relist on 410 Gone; reconnect with backoff while the API server is unreachable.
 * Emits `change` (type, object, previous) for every difference and `health` when reachability flips.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { toKportError, type KportError } from '../api/errors.js';
import { Backoff } from '../session/backoff.js';
import type { KubeClient } from './client.js';
import { ApiStatusError } from './errors.js';

/** The least an object must have to be reflected. */
export interface Reflectable {
  metadata?: { name?: string; resourceVersion?: string };
}

/** A change as sessions see it. */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface WatchEvent<T> {
  type: ChangeType | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number; message?: string };
}

/** How long a watch asks the server to keep it open, in seconds (spread so watches do not reconnect in step). */
const WATCH_SECONDS = () => 240 + Math.floor(Math.random() * 120);

/** Keeps `items` in step with the API server. */
export class Reflector<T extends Reflectable> extends EventEmitter {
  private readonly items = new Map<string, T>();
  private resourceVersion: string | null = null;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private running = false;
  private isSynced = false;
  private isHealthy = false;
  private problem: KportError | null = null;

  constructor(
    private readonly client: KubeClient,
    /** The collection path, e.g. `/api/v1/namespaces/default/pods`. */
    readonly path: string,
    private readonly log: Logger,
    backoff: Backoff = new Backoff({ initialMs: 250, maxMs: 30_000 }),
  ) {
    super();
    this.backoff = backoff;
  }

  /** True once the first list has arrived (items are meaningful). */
  get synced(): boolean {
    return this.isSynced;
  }

  /** True while the last list or watch connection succeeded. */
  get healthy(): boolean {
    return this.isHealthy;
  }

  /** Why the reflector is unhealthy, when it is. */
  get lastError(): KportError | null {
    return this.problem;
  }

  /** The objects as last seen, by name. */
  get(name: string): T | undefined {
    return this.items.get(name);
  }

  /** Every object as last seen. */
  values(): T[] {
    return [...this.items.values()];
  }

  /** Starts the list/watch loop in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  /** Stops for good, closing any open watch. */
  stop(): void {
    this.abort.abort();
  }

  private setHealth(healthy: boolean, problem: KportError | null): void {
    const same = healthy === this.isHealthy && problem?.code === this.problem?.code;
    this.problem = problem;
    this.isHealthy = healthy;
    // Also on a new kind of problem: a first failure (before any success) or 401 turning into an outage.
    if (!same) this.emit('health', healthy, problem);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === null) await this.list(signal);
        const started = Date.now();
        const delivered = await this.watch(signal);
        // A watch that ends at once with nothing in it is a server in trouble: do not spin.
        if (!delivered && Date.now() - started < 1_000) await sleep(this.backoff.next(), undefined, { signal });
      } catch (err) {
        if (signal.aborted) break;
        const e = toKportError(err, 'API_ERROR');
        this.log.debug({ path: this.path, code: e.code, err: e.message }, 'list/watch failed; retrying');
        this.setHealth(false, e);
        if (e.code === 'API_UNREACHABLE') this.client.reachability.lost();
        await this.pause(this.backoff.next());
      }
    }
  }

  /** Waits `ms`, or less: the API server answering a probe ends the wait at once (and the backoff starts over). */
  private pause(ms: number): Promise<void> {
    const reach = this.client.reachability;
    const signal = this.abort.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        reach.off('back', back);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const back = () => (this.backoff.reset(), done());
      const timer = setTimeout(done, ms);
      reach.once('back', back);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async list(signal: AbortSignal): Promise<void> {
    const list = await this.client.request<{ metadata: { resourceVersion: string }; items: T[] }>(this.path, { signal });
    const fresh = new Map<string, T>();
    for (const item of list.items) fresh.set(item.metadata?.name ?? '', item);
    for (const [name, old] of this.items) if (!fresh.has(name)) this.apply('DELETED', old);
    for (const item of fresh.values()) {
      const old = this.items.get(item.metadata?.name ?? '');
      if (!old || old.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.apply(old ? 'MODIFIED' : 'ADDED', item);
    }
    this.resourceVersion = list.metadata.resourceVersion;
    this.backoff.reset();
    this.client.reachability.found();
    this.setHealth(true, null);
    if (!this.isSynced) {
      this.isSynced = true;
      this.emit('synced');
    }
  }

  private apply(type: ChangeType, obj: T): void {
    const name = obj.metadata?.name ?? '';
    const previous = this.items.get(name);
    if (type === 'DELETED') this.items.delete(name);
    else this.items.set(name, obj);
    this.emit('change', type, obj, previous);
  }

  /** Watches from the current resourceVersion until the stream ends; true when it delivered any event. */
  private async watch(signal: AbortSignal): Promise<boolean> {
    let res: IncomingMessage;
    const seconds = WATCH_SECONDS();
    try {
      res = await this.client.open(this.path, {
        signal,
        query: { watch: 'true', resourceVersion: this.resourceVersion ?? undefined, allowWatchBookmarks: 'true', timeoutSeconds: String(seconds) },
      });
    } catch (err) {
      // Some servers answer a too-old resourceVersion with HTTP 410 rather than an ERROR event.
      if (!(err instanceof ApiStatusError && err.httpStatus === 410)) throw err;
      this.resourceVersion = null;
      return true;
    }
    this.setHealth(true, null);
    // The server ends the watch after `seconds`; silence well past that means a dead connection.
    res.setTimeout((seconds + 60) * 1000, () => res.destroy(new Error('watch went silent')));
    let delivered = false;
    try {
      for await (const line of lines(res)) {
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') {
          if (event.object.code === 410) {
            this.log.debug({ path: this.path }, 'watch resourceVersion expired; relisting');
            this.resourceVersion = null;
            return true;
          }
          throw new ApiStatusError('API_ERROR', `watch of ${this.path} failed: ${event.object.message ?? 'unknown error'}`, event.object.code ?? 500);
        }
        const rv = event.object.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (event.type !== 'BOOKMARK') this.apply(event.type, event.object);
        delivered = true;
        this.backoff.reset();
      }
    } catch (err) {
      if (err instanceof ApiStatusError || signal.aborted) throw err;
      // The stream broke after it was open: resume at once; only a failed reconnect means trouble.
      this.log.debug({ path: this.path, err: (err as Error).message }, 'watch stream broke; resuming');
    }
    return delivered;
  }
}

/** Splits a streaming body into lines without buffering more than one partial line. */
async function* lines(res: IncomingMessage): AsyncGenerator<string> {
  let rest = '';
  res.setEncoding('utf8');
  for await (const chunk of res as AsyncIterable<string>) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line) yield line;
    }
  }
}

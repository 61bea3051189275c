/**
 * The context's credentials for a busy proxy: client-node's auth (applyToHTTPSOptions) costs more than the
 * rest of a small relayed request, so its result is reused for up to a second, and at once dropped when the
 * API server answers 401 (an expired token: the next request fetches fresh credentials, which runs an exec
 * plugin again when its credential has expired). Nothing here is ever logged.
 */
import type { ConnectOptions } from '../kube/client.js';
import type { Upstream } from './upstream.js';

/** How long one set of credentials is reused. */
const TTL_MS = 1_000;

/** An Upstream that reuses its source's connect options for up to TTL_MS. */
export class CachedCredentials implements Upstream {
  private cached: Promise<ConnectOptions> | null = null;
  private fetchedAt = 0;

  constructor(private readonly source: Upstream) {}

  /** The API server URL of the source. */
  get server(): URL {
    return this.source.server;
  }

  /** Recent connect options; concurrent callers share one fetch, and a failed fetch is not kept. */
  connectOptions(): Promise<ConnectOptions> {
    const now = performance.now();
    if (this.cached === null || now - this.fetchedAt > TTL_MS) {
      this.fetchedAt = now;
      const fetching = this.source.connectOptions();
      this.cached = fetching;
      fetching.catch(() => {
        if (this.cached === fetching) this.cached = null;
      });
    }
    return this.cached;
  }

  /** Forgets the cached credentials (the API server said 401). */
  invalidate(): void {
    this.cached = null;
  }
}

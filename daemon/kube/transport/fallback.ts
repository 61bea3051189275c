/**
 * Transport fallback as a wrapper (client-go's FallbackDialer): try each dialer in order while the
 * upgrade is refused for reasons of the transport (a server or proxy that does not speak it, or
 * RBAC refusing its verb: SPDY is a POST needing `create`, WebSockets a GET needing `get`). The
 * transport that worked is remembered per cluster, so later connections go straight to it; the
 * preferred ones are tried again after REPROBE_MS, in case what refused them has changed.
 */
import type { PodDialer, PodPort, PodStream, TransportName, TransportPreference } from './types.js';
import { UpgradeRefusedError } from './errors.js';

const REPROBE_MS = 10 * 60_000;

export class FallbackDialer implements PodDialer {
  private current: TransportName | null = null;

  constructor(
    private readonly chain: readonly PodDialer[],
    private readonly memory: TransportPreference,
  ) {}

  get transport(): TransportName | null {
    return this.current;
  }

  async dial(target: PodPort, signal?: AbortSignal): Promise<PodStream> {
    const remembered = this.chain.findIndex((d) => d.transport === this.memory.transport);
    const fresh = Date.now() - this.memory.since < REPROBE_MS;
    for (let i = remembered >= 0 && fresh ? remembered : 0; ; i++) {
      const dialer = this.chain[i]!;
      try {
        const stream = await dialer.dial(target, signal);
        if (this.memory.transport !== dialer.transport || !fresh) Object.assign(this.memory, { transport: dialer.transport, since: Date.now() });
        this.current = dialer.transport;
        return stream;
      } catch (err) {
        if (!(err instanceof UpgradeRefusedError) || i === this.chain.length - 1) throw err;
      }
    }
  }

  forget(target: Pick<PodPort, 'namespace' | 'pod'>): void {
    for (const d of this.chain) d.forget(target);
  }

  close(): void {
    for (const d of this.chain) d.close();
  }
}

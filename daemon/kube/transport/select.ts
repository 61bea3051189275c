/** Builds the dialer a forward uses: one transport, or (auto) the fallback chain in kubectl's order. */
import type { TransportChoice } from '../../../config/types.js';
import type { KubeClient } from '../client.js';
import { FallbackDialer } from './fallback.js';
import { SpdyDialer } from './spdy/dialer.js';
import type { SessionOptions } from './spdy/session.js';
import { tunnelConnector, upgradeConnector } from './spdy/upgrade.js';
import { TRANSPORTS, type PodDialer, type TransportName } from './types.js';
import { WebSocketDialer } from './websocket/dialer.js';

/** Tuning for tests and benchmarks. */
export interface DialerOptions {
  session?: Partial<SessionOptions>;
  /** v4: how long after the local side ended to keep the stream open. */
  drainMs?: number;
}

export function makeDialer(client: KubeClient, choice: TransportChoice, opts: DialerOptions = {}): PodDialer {
  const build: Record<TransportName, () => PodDialer> = {
    spdy: () => new SpdyDialer('spdy', upgradeConnector(client), opts.session),
    'spdy-websocket': () => new SpdyDialer('spdy-websocket', tunnelConnector(client), opts.session),
    websocket: () => new WebSocketDialer(client, opts.drainMs),
  };
  if (choice !== 'auto') return build[choice]();
  return new FallbackDialer(TRANSPORTS.map((t) => build[t]()), client.transportPreference);
}

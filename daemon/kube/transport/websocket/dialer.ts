/** The v4.channel.k8s.io transport: one WebSocket per connection (`GET .../portforward?ports=N`). */
import type { KubeClient } from '../../client.js';
import type { PodDialer, PodPort, PodStream } from '../types.js';
import { CHANNEL_PROTOCOL } from './channel.js';
import { connectWebSocket } from './connect.js';
import { ChannelStream } from './stream.js';

/** Dials one v4 WebSocket per stream; nothing is kept open between connections. */
export class WebSocketDialer implements PodDialer {
  readonly transport = 'websocket' as const;

  constructor(
    private readonly client: KubeClient,
    private readonly drainMs?: number,
  ) {}

  async dial(target: PodPort, signal?: AbortSignal): Promise<PodStream> {
    const ws = await connectWebSocket(this.client, target, CHANNEL_PROTOCOL, { ports: String(target.port) }, signal);
    return new ChannelStream(ws, target.port, this.drainMs);
  }

  forget(): void {}

  close(): void {}
}

/**
 * The `v4.channel.k8s.io` framing of port-forward WebSockets: every message starts with a
 * channel byte; port i has data channel 2i and error channel 2i+1; the server's first message
 * on each channel is the port number as 2 bytes little-endian, which readers must strip.
 */

/** The binary channel subprotocol kport speaks. */
export const CHANNEL_PROTOCOL = 'v4.channel.k8s.io';

/** Data channel of the i-th requested port. */
export const dataChannel = (i: number): number => 2 * i;
/** Error channel of the i-th requested port. */
export const errorChannel = (i: number): number => 2 * i + 1;

/** One client → server message: the channel byte, then the payload (one copy, no concat). */
export function encodeFrame(channel: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/** A decoded server → client message with its port prefix already removed. */
export interface ChannelMessage {
  /** Index of the port in the request. */
  index: number;
  kind: 'data' | 'error';
  payload: Buffer;
}

/** Thrown when the server breaks the framing (unknown channel, wrong port prefix). */
export class ChannelProtocolError extends Error {}

/** Decodes server messages for a request of `ports`, stripping and checking each channel's port prefix. */
export class ChannelReader {
  /** Prefix bytes still expected per channel, and those seen so far. */
  private readonly prefixLeft: number[];
  private readonly prefixSeen: number[][];

  constructor(private readonly ports: readonly number[]) {
    this.prefixLeft = ports.flatMap(() => [2, 2]);
    this.prefixSeen = ports.flatMap(() => [[], []]);
  }

  /** Decodes one message; returns null when it held only (part of) a port prefix. */
  read(message: Buffer): ChannelMessage | null {
    const channel = message[0];
    if (channel === undefined || channel >= this.prefixLeft.length) {
      throw new ChannelProtocolError(`message on unknown channel ${channel ?? '(empty message)'}`);
    }
    let payload = message.subarray(1);
    const left = this.prefixLeft[channel]!;
    if (left > 0) {
      const take = Math.min(left, payload.length);
      const seen = this.prefixSeen[channel]!;
      seen.push(...payload.subarray(0, take));
      this.prefixLeft[channel] = left - take;
      payload = payload.subarray(take);
      const index = channel >> 1;
      if (this.prefixLeft[channel] === 0 && seen[0]! + (seen[1]! << 8) !== this.ports[index]) {
        throw new ChannelProtocolError(`channel ${channel} announced port ${seen[0]! + (seen[1]! << 8)}, expected ${this.ports[index]}`);
      }
      if (payload.length === 0) return null;
    }
    return { index: channel >> 1, kind: channel % 2 === 0 ? 'data' : 'error', payload };
  }
}

/**
 * The seam between the forward engine and the wire: a PodDialer opens a PodStream to one pod port.
 * The engine pipes PodStreams and never knows which transport carries them (client-go's shape: a
 * dialer, with fallback as a wrapper). Transports live in their own folders beside this file.
 */
import type { Duplex } from 'node:stream';
import { TRANSPORT_CHOICES, type TransportChoice } from '../../../config/types.js';

/** Which pod port to open. */
export interface PodPort {
  namespace: string;
  pod: string;
  port: number;
}

/**
 * `spdy`: SPDY/3.1 over an HTTP upgrade (kubectl's protocol), many connections per session;
 * `spdy-websocket`: the same SPDY session tunnelled in a WebSocket (API servers ≥ 1.31);
 * `websocket`: one v4.channel.k8s.io WebSocket per connection.
 */
export type TransportName = Exclude<TransportChoice, 'auto'>;

/** The wire forms kport speaks, most preferred first (the fallback's order). */
export const TRANSPORTS = TRANSPORT_CHOICES.filter((t): t is TransportName => t !== 'auto');

/**
 * One connection to a pod port, as a Duplex: its readable side is what the pod sends, its writable
 * side goes to the pod, `end()` is a half-close. Text on the port-forward error stream (a refused
 * backend) destroys it with a KportError; a clean end of both directions ends it without one.
 */
export type PodStream = Duplex;

/** Opens streams to pods; rejects with a KportError. */
export interface PodDialer {
  dial(target: PodPort, signal?: AbortSignal): Promise<PodStream>;
  /** The transport that carried the last successful dial, or null before any. */
  readonly transport: TransportName | null;
  /** The pod is no longer a target: release what is kept open for it (sessions). */
  forget(target: Pick<PodPort, 'namespace' | 'pod'>): void;
  /** Releases everything (the forward stops). */
  close(): void;
}

/** What the fallback remembers per cluster: the transport that last worked, and since when. */
export interface TransportPreference {
  transport: TransportName | null;
  since: number;
}

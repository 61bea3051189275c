/**
 * Opening a port-forward stream for one accepted local connection, as forwards and gateways both do: the open time
 * goes to the session's core (metrics), the transport that carried it is recorded, and an API server that cannot
 * be reached starts the client's reachability probe (whose `back` retries at once). Failures are KportErrors.
 */
import type { Socket } from 'node:net';
import { isRetryable, toKportError, type KportError } from '../api/errors.js';
import type { TransportChoice } from '../../config/types.js';
import type { NamespaceCaches } from '../kube/caches.js';
import type { KubeClient } from '../kube/client.js';
import { makeDialer, type DialerOptions } from '../kube/transport/select.js';
import type { PodDialer, PodPort, PodStream } from '../kube/transport/types.js';
import type { SessionCore } from '../session/core.js';
import type { SessionDeps } from '../session/session.js';
import { pipe, type Pipe } from './pipe.js';

/** What a session that carries connections over port-forward streams (a forward, a gateway) is built with. */
export interface StreamSessionDeps<S extends { transport: TransportChoice }> extends SessionDeps {
  caches: NamespaceCaches;
  /** Builds the stream dialer for a client (tests inject fakes; default: makeDialer for spec.transport). */
  dialer?: (client: KubeClient, spec: S) => PodDialer;
  /** Tuning of the real dialers (tests shorten pings and drains). */
  dialerOptions?: DialerOptions;
  /** Delay between retries of a `failed` session (default 10 s). */
  slowRetryMs?: number;
}

/** Retries of a `failed` session come this long apart unless the deps say otherwise. */
export const SLOW_RETRY_MS = 10_000;

/** The dialer a session's deps ask for: the injected one, else the transport its spec names. */
export function dialerFor<S extends { transport: TransportChoice }>(deps: StreamSessionDeps<S>, client: KubeClient, spec: S): PodDialer {
  return deps.dialer ? deps.dialer(client, spec) : makeDialer(client, spec.transport, deps.dialerOptions);
}

/** Connections held for a ready pod beyond this many are refused rather than queued. */
export const MAX_HELD = 1024;

/**
 * Dials are retried only while connections wait for them, so the retry delay is kept short: a
 * cluster that works again (port-forward no longer refused) serves them within this long. Signals
 * that it works again (the API server back, a new ready pod, a stream that opened) retry at once.
 */
export const DIAL_RETRY_MAX_MS = 800;

/** Opens a stream to `target` for a session; rejects with a KportError (recording it is the caller's call). */
export async function openStream(dialer: PodDialer, target: PodPort, core: SessionCore, client: KubeClient, signal: AbortSignal): Promise<PodStream> {
  const started = performance.now();
  let stream: PodStream;
  try {
    stream = await dialer.dial(target, signal);
  } catch (err) {
    const e = toKportError(err);
    if (e.code === 'API_UNREACHABLE') client.reachability.lost();
    throw e;
  }
  core.observeStreamOpen(performance.now() - started);
  core.setTransport(dialer.transport);
  return stream;
}

/** Whether a failed dial may succeed on a retry: a retryable code, or a pod gone since the last watch event (churn). */
export function dialRetryable(e: KportError): boolean {
  return isRetryable(e.code) || e.code === 'TARGET_NOT_FOUND';
}

/** Pipes an accepted socket to its stream, counting bytes into the session's counters. */
export function carry(socket: Socket, stream: PodStream, core: SessionCore): Pipe {
  const counters = core.counters;
  return pipe(socket, stream, { onBytesIn: (n) => (counters.bytesIn += n), onBytesOut: (n) => (counters.bytesOut += n) });
}

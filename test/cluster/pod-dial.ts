/**
 * How the kubelet reaches a container port for a port-forward, and how it words a failure: the one
 * text a client reads on its error channel (v4) or error stream (SPDY), whatever the transport.
 */
import { connect, type Socket } from 'node:net';
import type { PodRuntime } from './pods.js';
import type { KubeObject } from './store.js';

/** A dialled backend, or the reason there is none (nothing listens on the port). */
export type Dialled = { socket: Socket } | { refused: string };

/**
 * Dials the local server behind a pod's container port. A port nothing serves is refused at once,
 * worded as the kubelet's dial error; a socket that fails later reports through its 'error' event.
 */
export function dialContainerPort(runtime: PodRuntime, pod: KubeObject, port: number): Dialled {
  const localPort = runtime.localPort(pod.metadata.uid, port);
  if (localPort === undefined) {
    return { refused: `failed to connect to localhost:${port} inside the pod: dial tcp4 127.0.0.1:${port}: connect: connection refused` };
  }
  // Half-open allowed: a backend's FIN must not end what the client still sends it (SPDY half-close).
  return { socket: connect({ port: localPort, host: '127.0.0.1', noDelay: true, allowHalfOpen: true }) };
}

/** An errno failure of a backend socket as the kubelet would print it (`ECONNRESET read ECONNRESET`). */
export function socketFailure(err: NodeJS.ErrnoException): string {
  return `${err.code ?? ''} ${err.message}`.trim();
}

/**
 * The kubelet's error text (plain text, as the 1.20–1.30 kubelets write it; newer ones wrap the same
 * message in JSON): `error forwarding port 9000 to pod web-0, uid 1234…: …connection refused`.
 */
export function forwardError(pod: KubeObject, port: number, why: string): string {
  return `error forwarding port ${port} to pod ${pod.metadata.name}, uid ${pod.metadata.uid}: ${why}`;
}

/**
 * Opens port-forward streams: `GET .../pods/NAME/portforward?ports=N` upgraded to a WebSocket
 * speaking v4.channel.k8s.io. The forward code depends only on the PodDialer interface, so tests,
 * retries or another transport can wrap or replace it (as client-go injects its Dialer).
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { CHANNEL_PROTOCOL } from '../forward/channel.js';
import { KportError } from '../api/errors.js';
import type { KubeClient } from './client.js';
import { networkError, statusError } from './errors.js';

/** Which pod port to open. */
export interface PodPort {
  namespace: string;
  pod: string;
  port: number;
}

/**
 * Opens one upgraded stream to one pod port; rejects with a KportError. The WebSocket comes back
 * paused, so no message (the port prefixes arrive at once) is lost before its consumer listens;
 * the consumer resumes it.
 */
export interface PodDialer {
  dial(target: PodPort, signal?: AbortSignal): Promise<WebSocket>;
}

const zeroMask = (mask: Buffer) => void mask.fill(0);

/** Upgrades can hang on a dead network path: give up after this long. */
const HANDSHAKE_TIMEOUT_MS = 15_000;

/** The real dialer: a WebSocket through the API server with the context's credentials. */
export class WebSocketDialer implements PodDialer {
  constructor(private readonly client: KubeClient) {}

  async dial(target: PodPort, signal?: AbortSignal): Promise<WebSocket> {
    const opts = await this.client.connectOptions();
    const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/portforward`;
    const url = this.client.url(path, { ports: String(target.port) });
    url.protocol = 'wss:';
    const server = this.client.server.origin;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, [CHANNEL_PROTOCOL], {
        ...opts,
        // Compression costs CPU for nothing on a stream that is already encrypted (and often compressed).
        perMessageDeflate: false,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        followRedirects: false,
        // Masking protects intermediaries that read the bytes; inside TLS (kport only speaks wss) none can.
        // An all-zero key lets ws send each frame without copying and XOR-ing the payload.
        generateMask: zeroMask,
      });
      let settled = false;
      const settle = (err: KportError | null) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (!err) return resolve(ws);
        ws.terminate();
        reject(err);
      };
      const onAbort = () => settle(new KportError('API_UNREACHABLE', 'dial cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.once('open', () => {
        ws.pause();
        const agreed = ws.protocol === CHANNEL_PROTOCOL;
        settle(agreed ? null : new KportError('STREAM_REFUSED', `the API server ${server} did not agree to ${CHANNEL_PROTOCOL} (got "${ws.protocol}")`));
      });
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body = (body + c).slice(0, 65_536)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 401) this.client.invalidateCredentials();
          const err = statusError(status, body, server, { notFound: 'TARGET_NOT_FOUND', badRequest: 'POD_NOT_RUNNING' });
          settle(status >= 500 ? new KportError('STREAM_REFUSED', `port-forward to pod ${target.pod} refused: ${err.message}`) : err);
        });
        res.on('error', (err) => settle(networkError(err, server)));
      });
      // After a settled failure ws may still report the terminated handshake: ignore it.
      ws.on('error', (err) => settle(networkError(err, server)));
    });
  }
}

/**
 * Opens the connection a SPDY session runs on: `POST .../pods/NAME/portforward` upgraded to
 * SPDY/3.1 (kubectl's protocol), or the same SPDY bytes tunnelled in a WebSocket with subprotocol
 * `SPDY/3.1+portforward.k8s.io` (API servers ≥ 1.31). Node's https client offers no ALPN, so the
 * API server answers in HTTP/1.1 (h2 cannot upgrade).
 */
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { KportError } from '../../../api/errors.js';
import type { KubeClient } from '../../client.js';
import { networkError } from '../../errors.js';
import { portForwardPath, readBody, upgradeError } from '../errors.js';
import type { PodPort } from '../types.js';
import { connectWebSocket, HANDSHAKE_TIMEOUT_MS } from '../websocket/connect.js';

export const SPDY_PROTOCOL = 'SPDY/3.1';
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** The WebSocket subprotocol of tunnelled SPDY. */
export const TUNNEL_PROTOCOL = `${SPDY_PROTOCOL}+${PORT_FORWARD_PROTOCOL}`;

/** Opens a connection for a SPDY session to a pod; rejects with a KportError. */
export type SessionConnector = (target: PodPort, signal?: AbortSignal) => Promise<Duplex>;

/** The HTTP upgrade; a keep-alive socket that the server closed as it was reused is retried once on a new one. */
export function upgradeConnector(client: KubeClient): SessionConnector {
  return async (target, signal) => {
    try {
      return await upgradeOnce(client, target, signal);
    } catch (err) {
      if (!(err instanceof StaleSocketError)) throw err;
      return upgradeOnce(client, target, signal);
    }
  };
}

class StaleSocketError extends KportError {}

async function upgradeOnce(client: KubeClient, target: PodPort, signal?: AbortSignal): Promise<Duplex> {
  const opts = await client.connectOptions();
  const server = client.server.origin;
  return new Promise((resolve, reject) => {
    const req = request(client.url(portForwardPath(target)), {
      ...opts,
      method: 'POST',
      headers: { ...opts.headers, connection: 'Upgrade', upgrade: SPDY_PROTOCOL, 'x-stream-protocol-version': PORT_FORWARD_PROTOCOL, 'content-length': '0' },
      signal,
      timeout: HANDSHAKE_TIMEOUT_MS,
    });
    req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      const agreed = res.statusCode === 101 && String(res.headers.upgrade).toLowerCase() === SPDY_PROTOCOL.toLowerCase();
      if (!agreed) {
        socket.destroy();
        return reject(new KportError('STREAM_REFUSED', `the API server ${server} answered the ${SPDY_PROTOCOL} upgrade with ${res.statusCode} "${res.headers.upgrade ?? ''}"`));
      }
      socket.setTimeout(0);
      socket.setNoDelay(true);
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res: IncomingMessage) => readBody(res, (body) => reject(upgradeError(client, opts.renewal, target, res.statusCode ?? 0, body))));
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer to the upgrade within ${HANDSHAKE_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (signal?.aborted) return reject(new KportError('API_UNREACHABLE', 'dial cancelled'));
      if (req.reusedSocket && err.code === 'ECONNRESET') return reject(new StaleSocketError('API_UNREACHABLE', err.message));
      reject(networkError(err, server));
    });
    req.end();
  });
}

/** SPDY tunnelled in a WebSocket (binary messages carry the byte stream; their boundaries mean nothing). */
export function tunnelConnector(client: KubeClient): SessionConnector {
  return async (target, signal) => new WebSocketDuplex(await connectWebSocket(client, target, TUNNEL_PROTOCOL, {}, signal));
}

/**
 * A WebSocket as a byte stream. Unlike ws's createWebSocketStream it has `_writev`, so a corked
 * SPDY frame header and its payload leave as one message, not two.
 */
class WebSocketDuplex extends Duplex {
  constructor(private readonly ws: WebSocket) {
    super({ allowHalfOpen: false });
    ws.on('message', (data: Buffer) => {
      if (!this.push(data)) ws.pause();
    });
    ws.on('close', () => this.push(null));
    ws.on('error', (err) => this.destroy(err));
    ws.resume();
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.ws.send(chunk, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.ws.send(Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.ws.close(1000);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.ws.terminate();
    cb(err);
  }
}

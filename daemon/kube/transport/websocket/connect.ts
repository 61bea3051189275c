/**
 * Opens a WebSocket to a pod's portforward subresource with the context's credentials, for the v4
 * channel protocol and for SPDY tunnelled in a WebSocket alike. The socket comes back paused: the
 * server's first messages arrive at once and would be lost by any wrapper that awaits in between.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { KportError } from '../../../api/errors.js';
import type { KubeClient } from '../../client.js';
import { networkError } from '../../errors.js';
import { portForwardPath, readBody, upgradeError } from '../errors.js';
import type { PodPort } from '../types.js';

/** Upgrades can hang on a dead network path: give up after this long. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

const zeroMask = (mask: Buffer) => void mask.fill(0);

/**
 * ws offers only RFC 6455 tokens as subprotocols, but tunnelled SPDY's name has a "/" (which API
 * servers and kubectl accept). Such a name is handed to ws as a token alias, written on the wire
 * as itself, and the server's answer mapped back to the alias before ws checks it.
 */
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;
function offer(protocol: string): { alias: string; finishRequest?: (req: ClientRequest) => void } {
  if (TOKEN.test(protocol)) return { alias: protocol };
  const alias = protocol.replace(/[^!#$%&'*+\-.0-9A-Z^_`|a-z~]/g, '-');
  return {
    alias,
    finishRequest: (req) => {
      req.setHeader('sec-websocket-protocol', protocol);
      req.prependListener('upgrade', (res: IncomingMessage) => {
        if (res.headers['sec-websocket-protocol'] === protocol) res.headers['sec-websocket-protocol'] = alias;
      });
      req.end();
    },
  };
}

/** Resolves with an open, paused WebSocket that agreed to `protocol`; rejects with a KportError. */
export async function connectWebSocket(client: KubeClient, target: PodPort, protocol: string, query: Record<string, string>, signal?: AbortSignal): Promise<WebSocket> {
  const opts = await client.connectOptions();
  const url = client.url(portForwardPath(target), query);
  url.protocol = 'wss:';
  const server = client.server.origin;
  const { alias, finishRequest } = offer(protocol);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [alias], {
      ...opts,
      finishRequest,
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
      settle(ws.protocol === alias ? null : new KportError('STREAM_REFUSED', `the API server ${server} did not agree to ${protocol} (got "${ws.protocol}")`));
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => readBody(res, (body) => settle(upgradeError(client, opts.renewal, target, res.statusCode ?? 0, body))));
    // After a settled failure ws may still report the terminated handshake: ignore it.
    ws.on('error', (err) => settle(networkError(err, server)));
  });
}

/**
 * The undici Pool a context's proxies relay plain requests through: keep-alive HTTP/1.1 connections to the
 * API server with the context's TLS material, one request at a time per connection (no pipelining: a slow
 * watch must never hold up the answers queued behind it), no header or body timeouts (watches and log
 * follows stay silent for as long as they like, as kubectl proxy allows). undici is loaded on first use, so
 * a daemon without proxies never pays for it.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Socket } from 'node:net';
import type { buildConnector, Dispatcher } from 'undici';
import type { Transport } from './client.js';

/** How long a new connection may take, as kubectl's dialer allows (30 s). */
const CONNECT_TIMEOUT_MS = 30_000;
/** Idle pooled connections close after 30 s, as the context's agent does: before API servers drop them. */
const KEEP_ALIVE_MS = 30_000;

/** The two shapes of agent that tunnel through a cluster's proxy-url: socks-proxy-agent's, and hpagent's (HTTP CONNECT). */
interface TunnelAgent {
  connect?(req: { destroy(): void }, opts: object): Promise<Socket>;
  createConnection(opts: object, cb: (err: Error | null, socket: Socket) => void): void;
}

/** A connector that opens each connection through `agent` with the context's TLS settings. */
function tunnelled(agent: HttpAgent, transport: Transport): buildConnector.connector {
  const tunnel = agent as unknown as TunnelAgent;
  return ({ hostname, port }, cb) => {
    const opts = { ...transport, host: hostname, port: Number(port) || 443, secureEndpoint: true, servername: transport.servername ?? hostname, ALPNProtocols: ['http/1.1'] };
    const done = (err: Error | null, socket: Socket | null) => (err ? cb(err, null) : cb(null, socket!));
    // socks-proxy-agent only calls destroy() on the request it is given, when the tunnel fails.
    if (tunnel.connect) return void tunnel.connect({ destroy() {} }, opts).then((s) => done(null, s), (err: Error) => done(err, null));
    tunnel.createConnection(opts, done);
  };
}

/** A Pool to `server`'s origin with this TLS material; `tunnel` (the context's agent) when the cluster has a proxy-url. */
export async function makePool(server: URL, transport: Transport, tunnel: HttpAgent | null): Promise<Dispatcher> {
  const { Pool } = await import('undici');
  const { secureContext, servername, rejectUnauthorized } = transport;
  const connect = tunnel ? tunnelled(tunnel, transport) : { secureContext, servername, rejectUnauthorized, timeout: CONNECT_TIMEOUT_MS };
  return new Pool(server.origin, { connect, pipelining: 1, keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: 0, bodyTimeout: 0 });
}

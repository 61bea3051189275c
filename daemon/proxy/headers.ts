/**
 * Which headers cross the proxy, as Go's httputil.ReverseProxy and client-go's transports decide for kubectl
 * proxy: hop-by-hop headers stop here (except on Upgrade requests, which need Connection and Upgrade), the
 * Host becomes the API server's, X-Forwarded-For gains the client's address, and the context's credentials
 * are added only where the client did not send its own (client-go's bearer round-tripper leaves an existing
 * Authorization alone). Pure.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 7230 hop-by-hop headers, as ReverseProxy lists them. */
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const NONE: readonly string[] = [];

/**
 * The lower-cased header names a Connection header lists (they are hop-by-hop too). Per request, so the
 * usual `keep-alive`, hop-by-hop already, costs nothing.
 */
function connectionTokens(value: string | string[] | undefined): readonly string[] {
  if (value === undefined) return NONE;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (HOP_BY_HOP.has(text)) return NONE;
  return text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
}

/** What to add to an upstream request besides the client's own headers. */
export interface ForwardContext {
  /** The context's credential headers (Authorization); they are secrets and go nowhere else. */
  credentials: Readonly<Record<string, string>>;
  /** The client's IP address; undefined on a Unix socket. */
  clientIp: string | undefined;
  /** True for Upgrade requests: Connection and Upgrade are kept for the API server to switch protocols. */
  upgrade: boolean;
}

/** The headers of the request to the API server. */
export function requestHeaders(incoming: IncomingHttpHeaders, ctx: ForwardContext): OutgoingHttpHeaders {
  const listed = connectionTokens(incoming.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || name === 'host') continue;
    if (!ctx.upgrade && (HOP_BY_HOP.has(name) || listed.includes(name))) continue;
    out[name] = value;
  }
  // A body of unknown length stays chunked; Node frames it again on the way out.
  if (!ctx.upgrade && incoming['transfer-encoding'] !== undefined) out['transfer-encoding'] = 'chunked';
  for (const [name, value] of Object.entries(ctx.credentials)) {
    if (out[name.toLowerCase()] === undefined) out[name.toLowerCase()] = value;
  }
  if (ctx.clientIp !== undefined) {
    const prior = incoming['x-forwarded-for'];
    out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${ctx.clientIp}` : ctx.clientIp;
  }
  return out;
}

/** The API server's response headers minus hop-by-hop ones, as a flat raw list (duplicates such as Set-Cookie kept). */
export function responseHeaders(rawHeaders: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 10 && rawHeaders[i]!.toLowerCase() === 'connection') names.push(rawHeaders[i + 1]!);
  const listed = connectionTokens(names.length > 0 ? names : undefined);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(name) && !listed.includes(name)) out.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return out;
}

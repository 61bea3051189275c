/**
 * The small answers a proxy gives by itself (403 from the filter, 404, redirects, 502 when the API server is
 * out of reach), as values, in the shape Go's `http.Error` and `http.Redirect` give them in kubectl proxy.
 * They can be written to a ServerResponse or, for Upgrade requests, straight onto the raw socket.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A complete, self-made response. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Go's http.Error: text/plain, nosniff, the message and a newline. kubectl's filter answers `plain(403, 'Forbidden')`. */
export function plain(status: number, message: string): Reply {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }, body: `${message}\n` };
}

/** The filter's refusal, byte for byte what kubectl proxy answers. */
export const FORBIDDEN: Reply = plain(403, 'Forbidden');

/** Go's http.NotFound. */
export const NOT_FOUND: Reply = plain(404, '404 page not found');

/** Go's answer to a request line it cannot parse. */
export const BAD_REQUEST: Reply = plain(400, '400 Bad Request');

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/** Go's html escaping (htmlReplacer), for the bits of HTML kubectl's Go handlers write. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Go's http.Redirect with 301: a tiny HTML body for GET only, as ServeMux sends it. */
export function redirect(location: string, method: string): Reply {
  const headers: Record<string, string> = { Location: location };
  if (method !== 'GET' && method !== 'HEAD') return { status: 301, headers, body: '' };
  headers['Content-Type'] = 'text/html; charset=utf-8';
  return { status: 301, headers, body: method === 'GET' ? `<a href="${escapeHtml(location)}">Moved Permanently</a>.\n\n` : '' };
}

/** Writes a reply on a normal response. */
export function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(Buffer.byteLength(reply.body)) });
  res.end(reply.body);
}

/** Writes a reply on the raw socket of an Upgrade request and ends it (there is no keep-alive after a refusal). */
export function sendRaw(socket: Duplex, reply: Reply): void {
  const head = [`HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}`];
  for (const [k, v] of Object.entries(reply.headers)) head.push(`${k}: ${v}`);
  head.push(`Content-Length: ${Buffer.byteLength(reply.body)}`, 'Connection: close', `Date: ${new Date().toUTCString()}`);
  socket.end(`${head.join('\r\n')}\r\n\r\n${reply.body}`);
}

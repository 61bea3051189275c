/**
 * The gateway's HTTP proxy side, as a pure parser and encoder: a request head in, what to do with it out.
 * `CONNECT host:port` opens a tunnel; an absolute-form request (`GET http://web.default/ HTTP/1.1`) is sent to
 * the destination in origin form, with what RFC 9112 asks of a forward proxy and nothing more: Host set from the
 * URL, hop-by-hop headers (Connection, what it names, Proxy-*, Keep-Alive) removed, and `Connection: close` so
 * one connection carries one request (the next may be for another host). Origin-form requests (`GET /path`) are
 * refused with 400: that is what a web page could make a browser send to 127.0.0.1, not a client that was told
 * to use a proxy.
 */
import { isIP } from 'node:net';

/** The most a request head may take (request line and headers). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** What the client asked for. */
export type ProxyRequest =
  | { kind: 'connect'; host: string; port: number }
  /** `head`: the request head to send the destination, in origin form; the body follows it unchanged. */
  | { kind: 'forward'; host: string; port: number; head: Buffer };

/** A head still arriving, parsed (`used` bytes of the buffer are the head), or refused with 400. */
export type HeadParse = { kind: 'more' } | { kind: 'done'; request: ProxyRequest; used: number } | { kind: 'bad'; message: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^ ]+) HTTP\/(1\.[01])$/;
/** Header values: visible ASCII, spaces and tabs, and obs-text (bytes 0x80–0xff read as latin1). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * Headers a forward proxy must not pass on (RFC 9110 §7.6.1), besides those the Connection header names.
 * Transfer-Encoding, TE and Trailer are hop-by-hop too, but describe the body, which is passed on as it is.
 */
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'upgrade']);

const bad = (message: string): HeadParse => ({ kind: 'bad', message });

/** Parses the request head at the start of `buf`. */
export function parseProxyRequest(buf: Buffer): HeadParse {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) return buf.length >= MAX_HEAD_BYTES ? bad(`the request head is over ${MAX_HEAD_BYTES / 1024} KiB`) : { kind: 'more' };
  if (end + 4 > MAX_HEAD_BYTES) return bad(`the request head is over ${MAX_HEAD_BYTES / 1024} KiB`);
  const [line = '', ...fields] = buf.toString('latin1', 0, end).split('\r\n');
  const m = REQUEST_LINE.exec(line);
  if (!m) return bad(`not an HTTP/1.x request line: ${JSON.stringify(line.slice(0, 80))}`);
  const [, method, target, version] = m as unknown as [string, string, string, string];
  const headers: [string, string][] = [];
  for (const field of fields) {
    const colon = field.indexOf(':');
    const name = field.slice(0, colon);
    const value = field.slice(colon + 1).trim();
    if (colon <= 0 || !TOKEN.test(name) || !FIELD_VALUE.test(value)) return bad(`malformed header line: ${JSON.stringify(field.slice(0, 80))}`);
    headers.push([name, value]);
  }
  if (method === 'CONNECT') {
    const authority = parseAuthority(target);
    return authority ? { kind: 'done', request: { kind: 'connect', ...authority }, used: end + 4 } : bad(`CONNECT needs host:port, not ${JSON.stringify(target.slice(0, 80))}`);
  }
  if (target.startsWith('/') || target === '*') {
    return bad(`${method} ${target.slice(0, 80)} is an origin-form request: this port is a proxy, and answers only clients configured to use it (absolute-form requests or CONNECT)`);
  }
  const url = parseHttpUrl(target);
  if (typeof url === 'string') return bad(url);
  const head = originHead(method, url, version, headers);
  return { kind: 'done', request: { kind: 'forward', host: url.host, port: url.port, head }, used: end + 4 };
}

/** `host:port` or `[v6]:port` with a port of 1–65535. */
function parseAuthority(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/@]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const host = m[1] ?? m[2]!;
  if (m[1] !== undefined && isIP(host) !== 6) return null;
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 ? { host, port } : null;
}

interface Target {
  /** Host as the URL names it, without brackets. */
  host: string;
  port: number;
  /** What the Host header says: host, and the port when it is not 80. */
  authority: string;
  path: string;
}

/** An `http://` absolute-form target, or why it cannot be served. */
function parseHttpUrl(text: string): Target | string {
  if (/^https:\/\//i.test(text)) return `an https:// URL in absolute form cannot be served: clients use CONNECT for https (https_proxy=http://…)`;
  if (!/^http:\/\//i.test(text)) return `not an http:// URL: ${JSON.stringify(text.slice(0, 80))}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: ${JSON.stringify(text.slice(0, 80))}`;
  }
  if (url.hostname === '') return `the URL names no host: ${JSON.stringify(text.slice(0, 80))}`;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? 80 : Number(url.port), authority: url.host, path: `${url.pathname}${url.search}` };
}

/** The head sent to the destination: origin form, Host from the URL, hop-by-hop headers dropped, one request per connection. */
function originHead(method: string, target: Target, version: string, headers: readonly [string, string][]): Buffer {
  const named = new Set(
    headers
      .filter(([n]) => n.toLowerCase() === 'connection')
      .flatMap(([, v]) => v.split(','))
      .map((t) => t.trim().toLowerCase()),
  );
  // An upgrade (a WebSocket through the proxy) keeps its Connection and Upgrade headers: it becomes a tunnel anyway.
  const upgrade = named.has('upgrade') && headers.some(([n]) => n.toLowerCase() === 'upgrade');
  const kept = headers.filter(([n]) => {
    const lower = n.toLowerCase();
    if (lower === 'host') return false;
    if (upgrade && (lower === 'connection' || lower === 'upgrade')) return true;
    return !HOP_BY_HOP.has(lower) && !named.has(lower);
  });
  const lines = [`${method} ${target.path} HTTP/${version}`, `Host: ${target.authority}`, ...kept.map(([n, v]) => `${n}: ${v}`)];
  if (!upgrade) lines.push('Connection: close');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** The reply once a CONNECT tunnel is open. */
export const CONNECT_ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n', 'latin1');

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 502: 'Bad Gateway', 504: 'Gateway Timeout' };

/** An error response with a one-line text body (control characters flattened), closing the connection. */
export function errorResponse(status: 400 | 502 | 504, message: string): Buffer {
  const body = `${message.replace(/[\u0000-\u001f\u007f]+/g, ' ')}\n`;
  const head = [
    `HTTP/1.1 ${status} ${REASONS[status]}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

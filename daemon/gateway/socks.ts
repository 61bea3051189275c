/**
 * SOCKS5 (RFC 1928) as the gateway speaks it, as a pure parser and encoder: bytes in, messages or a reply
 * code out, nothing read from or written to a socket here. Only what the gateway serves is accepted: the
 * no-authentication method, and CONNECT to a domain name, an IPv4 or an IPv6 address.
 */
import { isIP } from 'node:net';

/** The version byte every SOCKS5 message starts with. */
export const SOCKS_VERSION = 0x05;
/** The only method the gateway offers: no authentication (it listens on loopback unless told otherwise). */
export const NO_AUTH = 0x00;
/** "No acceptable methods": the client offered none the gateway speaks. */
export const NO_ACCEPTABLE_METHOD = 0xff;

/** The reply codes of RFC 1928, section 6. */
export const SOCKS_REPLY = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;
export type SocksReplyCode = (typeof SOCKS_REPLY)[keyof typeof SOCKS_REPLY];

const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;
/** The longest DNS name (RFC 1035: 253 characters written out); the length byte would allow 255. */
export const MAX_NAME = 253;
/** Characters a host name may carry; anything else (spaces, NUL, non-ASCII) is refused before resolution. */
const NAME_CHARS = /^[A-Za-z0-9._-]+$/;

/** A parse that needs more bytes, produced a value (and consumed `used` bytes), or failed. */
export type Parsed<T> =
  | { kind: 'more' }
  | { kind: 'done'; value: T; used: number }
  /** `reply`: the code to answer with; null when the message cannot be answered (a greeting: close). */
  | { kind: 'bad'; reply: SocksReplyCode | null; message: string };

/** The client's greeting: the authentication methods it offers. */
export interface Greeting {
  methods: number[];
}

/** A CONNECT request. */
export interface ConnectRequest {
  /** A domain name as sent, or an IP address in its canonical text form. */
  host: string;
  port: number;
  addressType: 'domain' | 'ipv4' | 'ipv6';
}

const bad = (reply: SocksReplyCode | null, message: string): Parsed<never> => ({ kind: 'bad', reply, message });
const MORE: Parsed<never> = { kind: 'more' };

/** Parses `VER NMETHODS METHODS…` from the start of `buf`. */
export function parseGreeting(buf: Buffer): Parsed<Greeting> {
  if (buf.length < 1) return MORE;
  if (buf[0] === 0x04) return bad(null, 'SOCKS4 is not supported: use SOCKS5 (curl --socks5-hostname, socks5h://)');
  if (buf[0] !== SOCKS_VERSION) return bad(null, `not a SOCKS5 greeting: version byte 0x${hex(buf[0]!)}`);
  if (buf.length < 2) return MORE;
  const n = buf[1]!;
  if (n === 0) return bad(null, 'the SOCKS5 greeting offers no authentication method');
  if (buf.length < 2 + n) return MORE;
  return { kind: 'done', value: { methods: [...buf.subarray(2, 2 + n)] }, used: 2 + n };
}

/** The server's choice of method: no authentication when offered, else "no acceptable methods" (then close). */
export function methodReply(greeting: Greeting): Buffer {
  return Buffer.from([SOCKS_VERSION, greeting.methods.includes(NO_AUTH) ? NO_AUTH : NO_ACCEPTABLE_METHOD]);
}

/** Parses `VER CMD RSV ATYP DST.ADDR DST.PORT` from the start of `buf`. */
export function parseRequest(buf: Buffer): Parsed<ConnectRequest> {
  if (buf.length < 4) return MORE;
  if (buf[0] !== SOCKS_VERSION) return bad(SOCKS_REPLY.GENERAL_FAILURE, `not a SOCKS5 request: version byte 0x${hex(buf[0]!)}`);
  if (buf[1] !== CMD_CONNECT) {
    const what = buf[1] === 0x02 ? 'BIND' : buf[1] === 0x03 ? 'UDP ASSOCIATE' : `0x${hex(buf[1]!)}`;
    return bad(SOCKS_REPLY.COMMAND_NOT_SUPPORTED, `SOCKS5 command ${what} is not supported: only CONNECT`);
  }
  if (buf[2] !== 0) return bad(SOCKS_REPLY.GENERAL_FAILURE, `the SOCKS5 request's reserved byte is 0x${hex(buf[2]!)}, not 0`);
  const atyp = buf[3]!;
  let host: string;
  let at: number;
  let addressType: ConnectRequest['addressType'];
  if (atyp === ATYP_IPV4) {
    if (buf.length < 10) return MORE;
    host = [...buf.subarray(4, 8)].join('.');
    at = 8;
    addressType = 'ipv4';
  } else if (atyp === ATYP_IPV6) {
    if (buf.length < 22) return MORE;
    host = ipv6Text(buf.subarray(4, 20));
    at = 20;
    addressType = 'ipv6';
  } else if (atyp === ATYP_DOMAIN) {
    if (buf.length < 5) return MORE;
    const len = buf[4]!;
    if (len === 0) return bad(SOCKS_REPLY.HOST_UNREACHABLE, 'the SOCKS5 request names an empty host');
    if (len > MAX_NAME) return bad(SOCKS_REPLY.HOST_UNREACHABLE, `the SOCKS5 request names a host of ${len} characters; DNS names have at most ${MAX_NAME}`);
    if (buf.length < 5 + len + 2) return MORE;
    host = buf.toString('latin1', 5, 5 + len);
    if (!NAME_CHARS.test(host)) return bad(SOCKS_REPLY.HOST_UNREACHABLE, `the SOCKS5 request names ${JSON.stringify(host)}, which is not a host name`);
    at = 5 + len;
    addressType = 'domain';
  } else {
    return bad(SOCKS_REPLY.ADDRESS_TYPE_NOT_SUPPORTED, `SOCKS5 address type 0x${hex(atyp)} is not supported`);
  }
  const port = buf.readUInt16BE(at);
  if (port === 0) return bad(SOCKS_REPLY.CONNECTION_REFUSED, `the SOCKS5 request asks for port 0 of ${host}`);
  return { kind: 'done', value: { host, port, addressType }, used: at + 2 };
}

/** A reply to a request: `code`, and BND.ADDR 0.0.0.0:0 (kport binds nothing a client could use). */
export function requestReply(code: SocksReplyCode): Buffer {
  return Buffer.from([SOCKS_VERSION, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0]);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** 16 bytes as canonical IPv6 text (`::1`, `fd00::a`), via the URL parser's serialiser. */
function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  const text = new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  return isIP(text) === 6 ? text : groups.join(':');
}

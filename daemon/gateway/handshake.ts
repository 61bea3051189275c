/**
 * One gateway connection's opening, in whichever protocol its client speaks: the first byte tells (0x05 SOCKS5,
 * a letter an HTTP request line), the pure parsers read the request, and the answer (success, or a refusal as a
 * SOCKS5 reply code or an HTTP status with a one-line body) goes back in the same protocol.
 */
import type { Socket } from 'node:net';
import { KportError, type ErrorCode } from '../api/errors.js';
import { CONNECT_ESTABLISHED, errorResponse, parseProxyRequest } from './http-proxy.js';
import { methodReply, NO_AUTH, parseGreeting, parseRequest, requestReply, SOCKS_REPLY, type SocksReplyCode } from './socks.js';

/** A request read from a gateway client. */
export interface GatewayRequest {
  protocol: 'socks5' | 'http-connect' | 'http';
  host: string;
  port: number;
  /** A plain HTTP request's head, rewritten for the destination: sent to it before anything else. */
  head: Buffer | null;
}

/** How a refusal reads to a SOCKS5 client: RFC 1928's codes, as near as they come. */
export function socksReplyFor(code: ErrorCode): SocksReplyCode {
  switch (code) {
    case 'TARGET_NOT_FOUND':
    case 'NAMESPACE_NOT_FOUND':
      return SOCKS_REPLY.HOST_UNREACHABLE;
    case 'PORT_NOT_FOUND':
    case 'CONNECT_TIMEOUT':
    case 'NO_READY_PODS':
    case 'POD_NOT_RUNNING':
    case 'STREAM_ERROR':
    case 'STREAM_REFUSED':
      return SOCKS_REPLY.CONNECTION_REFUSED;
    case 'FORBIDDEN':
      return SOCKS_REPLY.NOT_ALLOWED;
    case 'API_UNREACHABLE':
      return SOCKS_REPLY.NETWORK_UNREACHABLE;
    default:
      return SOCKS_REPLY.GENERAL_FAILURE;
  }
}

/** How a refusal reads to an HTTP client: 400 for what it sent, 504 for a wait that ran out, else 502. */
export function httpStatusFor(code: ErrorCode): 400 | 502 | 504 {
  return code === 'BAD_REQUEST' ? 400 : code === 'CONNECT_TIMEOUT' ? 504 : 502;
}

/** The one line an HTTP client reads: the cause and its code. */
const httpRefusal = (err: KportError) => errorResponse(httpStatusFor(err.code), `kport gateway: ${err.message} (${err.code})`);

/**
 * Reads one request from `socket` (which arrives paused): null when the client left without sending a byte, a
 * KportError (BAD_REQUEST) once a malformed request has been answered, or the request, with the socket paused
 * again and any bytes sent after the request put back to be read first.
 */
export function readRequest(socket: Socket, timeoutMs: number): Promise<GatewayRequest | KportError | null> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    let phase: 'sniff' | 'greeting' | 'request' | 'http' = 'sniff';
    let received = 0;
    const timer = setTimeout(() => fail(`no SOCKS5 or HTTP request within ${timeoutMs / 1000} s`, null), timeoutMs);

    function done(result: GatewayRequest | KportError | null): void {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      resolve(result);
    }

    /** Answers a malformed request with `answer` (null: no answer the protocol allows) and closes. */
    function fail(message: string, answer: Buffer | null): void {
      done(new KportError('BAD_REQUEST', message));
      endWith(socket, answer);
    }

    function onEnd(): void {
      if (received === 0) return done(null);
      fail(`the client closed the connection after ${received} bytes, before its request was complete`, null);
    }

    function onData(chunk: Buffer): void {
      received += chunk.length;
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      step();
    }

    function step(): void {
      if (phase === 'sniff') {
        const first = buf[0]!;
        // A method is a token: HTTP requests start with a letter (GET, CONNECT, …). TLS (0x16) and others are neither.
        if (first !== 0x05 && first !== 0x04 && !isLetter(first)) return fail(`neither SOCKS5 nor HTTP: the first byte is 0x${first.toString(16).padStart(2, '0')}`, null);
        phase = first === 0x05 || first === 0x04 ? 'greeting' : 'http';
      }
      if (phase === 'greeting') {
        const g = parseGreeting(buf);
        if (g.kind === 'more') return;
        if (g.kind === 'bad') return fail(g.message, null);
        socket.write(methodReply(g.value));
        if (!g.value.methods.includes(NO_AUTH)) return fail('the SOCKS5 client offers no method the gateway speaks (it takes "no authentication")', null);
        buf = buf.subarray(g.used);
        phase = 'request';
      }
      if (phase === 'request') {
        const r = parseRequest(buf);
        if (r.kind === 'more') return;
        if (r.kind === 'bad') return fail(r.message, r.reply === null ? null : requestReply(r.reply));
        return finish({ protocol: 'socks5', host: r.value.host, port: r.value.port, head: null }, r.used);
      }
      const h = parseProxyRequest(buf);
      if (h.kind === 'more') return;
      if (h.kind === 'bad') return fail(h.message, httpRefusal(new KportError('BAD_REQUEST', h.message)));
      const { request } = h;
      const head = request.kind === 'forward' ? request.head : null;
      finish({ protocol: request.kind === 'connect' ? 'http-connect' : 'http', host: request.host, port: request.port, head }, h.used);
    }

    function finish(request: GatewayRequest, used: number): void {
      const rest = buf.subarray(used);
      done(request);
      if (rest.length > 0) socket.unshift(rest);
    }

    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.resume();
  });
}

/** Tells the client its connection is open (a plain HTTP request needs no word: the destination answers it). */
export function accept(socket: Socket, request: GatewayRequest): void {
  if (request.protocol === 'socks5') socket.write(requestReply(SOCKS_REPLY.SUCCEEDED));
  else if (request.protocol === 'http-connect') socket.write(CONNECT_ESTABLISHED);
}

/** Tells the client why its connection cannot be made, in its protocol, and closes. */
export function refuse(socket: Socket, request: GatewayRequest, err: KportError): void {
  endWith(socket, request.protocol === 'socks5' ? requestReply(socksReplyFor(err.code)) : httpRefusal(err));
}

const isLetter = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** How long a refused client gets to read its answer and close before its socket is destroyed. */
const LINGER_MS = 5_000;

/** Sends `answer` (if any) and a FIN; the socket is destroyed once the client closes too, or after LINGER_MS. */
function endWith(socket: Socket, answer: Buffer | null): void {
  if (socket.destroyed) return;
  if (answer === null) return void socket.destroy();
  socket.setTimeout(LINGER_MS, () => socket.destroy());
  socket.end(answer);
  // Whatever the client still sends is not read: discard it, so its FIN (and our close) can arrive.
  socket.resume();
}

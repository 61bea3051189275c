/**
 * Passes an Upgrade request (WebSocket for exec/attach/port-forward, or SPDY/3.1 from older clients) through
 * to the API server with the context's credentials, then splices the two connections, as kubectl's
 * UpgradeAwareHandler does: a 101 is relayed and both directions are copied until either side ends; an
 * error answer (status ≥ 400) is echoed and the connection closed; any other answer is a proxy error.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { KportError } from '../api/errors.js';
import { plain, sendRaw } from './reply.js';
import { byteCounters, outgoing, unreachableReply, upstreamError, type Meter, type RelayOutcome, type Upstream } from './upstream.js';

/** The status line and headers of a response, as raw HTTP/1.1 text. */
function head(res: IncomingMessage, rawHeaders: readonly string[]): string {
  const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}`];
  for (let i = 0; i < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Copies both ways until either side ends, then closes both; there is no half-close, as in kubectl. */
function splice(client: Duplex, server: Duplex, outcome: RelayOutcome, meter: Meter, done: () => void): void {
  const { countIn, countOut } = byteCounters(outcome, meter);
  let closed = false;
  const closeBoth = () => {
    if (closed) return;
    closed = true;
    client.destroy();
    server.destroy();
    done();
  };
  server.on('data', countIn);
  client.on('data', countOut);
  for (const s of [client, server]) {
    s.once('end', closeBoth);
    s.once('close', closeBoth);
    s.once('error', closeBoth);
  }
  server.pipe(client);
  client.pipe(server);
}

/** Relays one Upgrade request; resolves when both connections are closed. */
export async function relayUpgrade(req: IncomingMessage, socket: Duplex, head0: Buffer, upstream: Upstream, rawPath: string, search: string, meter: Meter): Promise<RelayOutcome> {
  const outcome: RelayOutcome = { status: 0, bytesIn: 0, bytesOut: 0, unreachable: null, broken: null, renewal: null };
  // The HTTP server stops watching this socket once it is an upgrade: errors are ours to catch from here on.
  socket.on('error', () => socket.destroy());
  const fail = (err: KportError) => {
    outcome.unreachable = err;
    outcome.status = 502;
    if (!socket.destroyed) sendRaw(socket, unreachableReply(err));
    return outcome;
  };
  const out = await outgoing(req, upstream, rawPath, search, true);
  if (out instanceof KportError) return fail(out);
  const { server } = out;
  outcome.renewal = out.renewal;
  return new Promise<RelayOutcome>((resolve) => {
    let upReq: ClientRequest;
    try {
      upReq = out.start();
    } catch (err) {
      // Node refuses at once a request it cannot send: the client gets an answer, not a hang.
      return resolve(fail(upstreamError(err as Error, server)));
    }
    let clientGone = false;

    const onUpgrade = (upRes: IncomingMessage, upSocket: Duplex, upHead: Buffer) => {
      outcome.status = 101;
      socket.write(head(upRes, upRes.rawHeaders));
      if (upHead.length > 0) socket.write(upHead);
      if (head0.length > 0) upSocket.write(head0);
      splice(socket, upSocket, outcome, meter, () => resolve(outcome));
    };
    // Not switched: an error answer goes back as it came; anything else is not what an upgrade may answer.
    const onResponse = (upRes: IncomingMessage) => {
      outcome.status = upRes.statusCode ?? 502;
      if (outcome.status < 400) {
        upRes.resume();
        outcome.status = 500;
        sendRaw(socket, plain(500, `invalid upgrade response: status code ${upRes.statusCode}`));
        return resolve(outcome);
      }
      // Node has already undone any chunked framing: the body goes back delimited by the close instead.
      const kept: string[] = [];
      for (let i = 0; i < upRes.rawHeaders.length; i += 2) {
        if (!/^(content-length|transfer-encoding|connection|keep-alive)$/i.test(upRes.rawHeaders[i]!)) kept.push(upRes.rawHeaders[i]!, upRes.rawHeaders[i + 1]!);
      }
      socket.write(head(upRes, [...kept, 'Connection', 'close']));
      upRes.on('data', (chunk: Buffer) => {
        outcome.bytesIn += chunk.length;
        meter.bytesIn += chunk.length;
      });
      upRes.pipe(socket);
      upRes.once('close', () => resolve(outcome));
    };
    const onUpstreamError = (err: Error) => {
      if (outcome.status !== 0 || clientGone) return; // answered already, or the abort was ours
      fail(upstreamError(err, server));
      resolve(outcome);
    };
    // The client leaving before the connections are spliced cancels the request to the API server.
    const onClientClose = () => {
      if (outcome.status === 101) return; // splice() owns both sockets now
      if (outcome.status === 0) {
        clientGone = true;
        resolve(outcome);
      }
      upReq.destroy();
    };

    upReq.on('upgrade', onUpgrade);
    upReq.on('response', onResponse);
    upReq.on('error', onUpstreamError);
    socket.once('close', onClientClose);
    upReq.end();
  });
}

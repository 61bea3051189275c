/**
 * Joins one accepted local socket to one port-forward WebSocket, both ways, with backpressure:
 * the WebSocket is paused while the socket cannot take more, and the socket is paused while the
 * WebSocket has more than HIGH_WATER bytes queued. Error-channel text ends the connection with
 * that error. Closing either end closes the other; the pipe settles exactly once.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { KportError } from '../api/errors.js';
import { ChannelProtocolError, ChannelReader, dataChannel, encodeFrame } from './channel.js';

/** Above this many queued bytes toward the pod, stop reading the local socket. */
export const HIGH_WATER = 1 << 20;
const LOW_WATER = HIGH_WATER >> 2;
/**
 * v4 has no half-close: after the local side sends FIN we keep the stream open this long (since the
 * last byte from the pod) so a reply can still arrive, then close.
 */
export const DRAIN_MS = 2_000;

/** How a connection ended. */
export interface PipeOutcome {
  bytesIn: number;
  bytesOut: number;
  /** The error that ended it (error-channel text, protocol or network failure); null for a clean close. */
  error: KportError | null;
  /** True when `cancel` ended it (the daemon's decision, not a failure). */
  cancelled: boolean;
}

/** Per-chunk counters the session keeps (called synchronously; keep them cheap). */
export interface PipeCounters {
  onBytesIn(n: number): void;
  onBytesOut(n: number): void;
}

/** A live pipe: `done` settles once; `cancel` cuts both ends (pod gone, session stopping). */
export interface Pipe {
  done: Promise<PipeOutcome>;
  cancel(reason: KportError): void;
  /** Bytes queued in the daemon for this connection right now (both directions). */
  buffered(): number;
}

/** Starts piping `socket` ⇄ `ws` for `port`; both arrive paused (pauseOnConnect, PodDialer) and are resumed here. */
export function pipe(socket: Socket, ws: WebSocket, port: number, counters: PipeCounters, drainMs = DRAIN_MS): Pipe {
  const reader = new ChannelReader([port]);
  const data = dataChannel(0);
  const outcome: PipeOutcome = { bytesIn: 0, bytesOut: 0, error: null, cancelled: false };
  let settled = false;
  let drainTimer: NodeJS.Timeout | undefined;
  let resolveDone!: (o: PipeOutcome) => void;
  const done = new Promise<PipeOutcome>((r) => (resolveDone = r));

  function finish(error: KportError | null): void {
    if (settled) return;
    settled = true;
    clearTimeout(drainTimer);
    outcome.error = error;
    if (error) {
      socket.destroy();
      ws.terminate();
    } else {
      socket.end();
      if (ws.readyState === ws.OPEN) ws.close(1000);
    }
    resolveDone(outcome);
  }

  function onSent(): void {
    if (socket.isPaused() && ws.bufferedAmount < LOW_WATER && !socket.destroyed) socket.resume();
  }

  function socketOnData(chunk: Buffer): void {
    if (settled) return;
    outcome.bytesOut += chunk.length;
    counters.onBytesOut(chunk.length);
    ws.send(encodeFrame(data, chunk), onSent);
    if (ws.bufferedAmount >= HIGH_WATER) socket.pause();
  }

  function socketOnEnd(): void {
    // The local side is done sending; wait (bounded) for the pod's reply before closing.
    armDrain();
  }

  function armDrain(): void {
    clearTimeout(drainTimer);
    drainTimer = setTimeout(() => finish(null), drainMs);
  }

  function socketOnDrain(): void {
    ws.resume();
  }

  function wsOnMessage(message: Buffer): void {
    if (settled) return;
    let m;
    try {
      m = reader.read(message);
    } catch (err) {
      return finish(new KportError('STREAM_ERROR', `port-forward protocol error: ${(err as ChannelProtocolError).message}`));
    }
    if (!m) return;
    if (m.kind === 'error') return finish(new KportError('STREAM_ERROR', m.payload.toString('utf8').trim()));
    outcome.bytesIn += m.payload.length;
    counters.onBytesIn(m.payload.length);
    if (!socket.write(m.payload)) ws.pause();
    if (drainTimer) armDrain();
  }

  function wsOnClose(): void {
    finish(null);
  }

  function wsOnError(err: Error): void {
    finish(new KportError('STREAM_ERROR', `port-forward stream failed: ${err.message}`));
  }

  function socketOnClose(): void {
    finish(null);
  }

  socket.on('data', socketOnData);
  socket.on('end', socketOnEnd);
  socket.on('drain', socketOnDrain);
  socket.on('close', socketOnClose);
  socket.on('error', () => {}); // 'close' follows and settles the pipe
  ws.on('message', wsOnMessage);
  ws.on('close', wsOnClose);
  ws.on('error', wsOnError);
  ws.resume();
  socket.resume();

  return {
    done,
    cancel: (reason) => {
      if (!settled) outcome.cancelled = true;
      finish(reason);
    },
    buffered: () => socket.writableLength + ws.bufferedAmount,
  };
}

/**
 * Joins one accepted local socket to one PodStream, both ways, with backpressure (each side is
 * paused while the other cannot take more) and real half-close: the local FIN becomes the pod
 * stream's end(), the pod's end becomes the local FIN. What the pod sends in one turn of the event
 * loop reaches the local socket in one or two writes (writeCoalesced). The pipe settles once, when
 * the local socket has closed (after everything written to it was flushed), or at once on an error.
 */
import type { Socket } from 'node:net';
import { KportError, toKportError } from '../api/errors.js';
import { writeCoalesced } from '../io/coalesce.js';
import type { PodStream } from '../kube/transport/types.js';

/** How a connection ended. */
export interface PipeOutcome {
  bytesIn: number;
  bytesOut: number;
  /** The error that ended it (error-stream text, protocol or network failure); null for a clean close. */
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

/** Starts piping `socket` ⇄ `stream`; the socket arrives paused (pauseOnConnect) and is resumed here. */
export function pipe(socket: Socket, stream: PodStream, counters: PipeCounters): Pipe {
  const outcome: PipeOutcome = { bytesIn: 0, bytesOut: 0, error: null, cancelled: false };
  let settled = false;
  let resolveDone!: (o: PipeOutcome) => void;
  const done = new Promise<PipeOutcome>((r) => (resolveDone = r));

  function finish(error: KportError | null): void {
    if (settled) return;
    settled = true;
    outcome.error = error;
    socket.destroy();
    stream.destroy();
    resolveDone(outcome);
  }

  function socketOnData(chunk: Buffer): void {
    outcome.bytesOut += chunk.length;
    counters.onBytesOut(chunk.length);
    if (!stream.write(chunk)) socket.pause();
  }

  function streamOnData(chunk: Buffer): void {
    outcome.bytesIn += chunk.length;
    counters.onBytesIn(chunk.length);
    if (!writeCoalesced(socket, chunk)) stream.pause();
  }

  const resumeSocket = () => socket.resume();
  const resumeStream = () => stream.resume();
  // The local side is done sending: say so to the pod, and keep reading its reply.
  const socketOnEnd = () => stream.end();
  // The pod is done sending: FIN to the local side, which may still send.
  const streamOnEnd = () => socket.end();
  // Nothing more can pass once the stream is closed: flush what the socket holds, then close it.
  const streamOnClose = () => void (socket.writableFinished ? socket.destroy() : socket.end(() => socket.destroy()));
  const streamOnError = (err: Error) => finish(toKportError(err, 'STREAM_ERROR'));
  // A local side that closed after its FIN is done only once what it sent has reached the pod
  // (the pod may have sent its own FIN first and the socket closed with the upload still queued).
  const socketOnClose = (hadError: boolean) => {
    if (hadError || !socket.readableEnded || stream.writableFinished || stream.destroyed) return finish(null);
    const settle = () => finish(null);
    stream.once('finish', settle);
    stream.once('close', settle);
  };

  socket.on('data', socketOnData);
  socket.on('end', socketOnEnd);
  socket.on('drain', resumeStream);
  socket.on('close', socketOnClose);
  socket.on('error', () => {}); // 'close' follows and settles the pipe
  stream.on('data', streamOnData);
  stream.on('end', streamOnEnd);
  stream.on('drain', resumeSocket);
  stream.on('error', streamOnError);
  stream.on('close', streamOnClose);
  socket.resume();

  return {
    done,
    cancel: (reason) => {
      if (!settled) outcome.cancelled = true;
      finish(reason);
    },
    buffered: () => socket.writableLength + stream.writableLength + stream.readableLength,
  };
}

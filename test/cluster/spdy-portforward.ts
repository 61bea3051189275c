/**
 * The kubelet's port-forward over one SPDY connection (kubelet's cri/streaming/portforward
 * httpstream.go): streams carry `streamtype` (error | data), `port` and `requestid` headers; the two
 * streams of one request form a pair, and only a complete pair dials the container port. A failed
 * forward writes the kubelet's text on the error stream; then both streams end. A pair still missing
 * a stream after the kubelet's streamCreationTimeout is forgotten, with a word on its error stream.
 */
import type { Socket } from 'node:net';
import type { Headers } from '../../daemon/kube/transport/spdy/headers.js';
import { dialContainerPort, forwardError, socketFailure } from './pod-dial.js';
import type { PodRuntime } from './pods.js';
import type { SpdyStream, StreamHandler, StreamSink } from './spdy-server.js';
import type { KubeObject } from './store.js';

/** The first value of a header (SPDY joins repeated values with NUL; Go's `Header.Get` takes the first). */
function header(headers: Headers, name: string): string {
  return (headers[name] ?? '').split('\0')[0]!;
}

/** Why the kubelet refuses a stream's headers (httpStreamReceived), or null. */
export function refuseStreamHeaders(headers: Headers): string | null {
  const port = header(headers, 'port');
  if (port === '') return '"port" header is required';
  const n = /^\d+$/.test(port) ? Number(port) : NaN;
  if (!(n <= 65535)) return `unable to parse "${port}" as a port`;
  if (n < 1) return `port "${port}" must be > 0`;
  const type = header(headers, 'streamtype');
  if (type === '') return '"streamtype" header is required';
  if (type !== 'error' && type !== 'data') return `invalid stream type "${type}"`;
  return null;
}

/** The pair key: the requestid header, else (clients older than requestids) one derived from stream ids. */
function requestId(stream: SpdyStream): string {
  const id = header(stream.headers, 'requestid');
  if (id !== '') return id;
  return String(header(stream.headers, 'streamtype') === 'error' ? stream.id : stream.id - 2);
}

/** The kubelet's default streamCreationTimeout: how long the first stream of a request waits for its partner. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** The error stream is written, never read: what a client sends on it is dropped. */
const IGNORE_INPUT: StreamSink = { data: () => true, end: () => {}, reset: () => {} };

/** Port-forward for one pod over one connection: pairs streams and joins each pair to a backend. */
export class PortForwardHandler implements StreamHandler {
  private readonly pairs = new Map<string, Pair>();
  private readonly backends = new Set<Socket>();

  constructor(
    private readonly runtime: PodRuntime,
    private readonly pod: KubeObject,
    private readonly streamCreationTimeoutMs = STREAM_CREATION_TIMEOUT_MS,
  ) {}

  refuse(headers: Headers): string | null {
    return refuseStreamHeaders(headers);
  }

  accepted(stream: SpdyStream): void {
    const id = requestId(stream);
    const type = header(stream.headers, 'streamtype') as 'error' | 'data';
    let pair = this.pairs.get(id);
    if (!pair) this.pairs.set(id, (pair = { timer: setTimeout(() => this.timedOut(id), this.streamCreationTimeoutMs) }));
    if (pair[type]) {
      pair.error?.write(Buffer.from(`error processing stream for request ${id}: ${type} stream already assigned`));
      return;
    }
    pair[type] = stream;
    if (!pair.error || !pair.data) return;
    clearTimeout(pair.timer);
    this.pairs.delete(id);
    this.forward(pair.error, pair.data);
  }

  /**
   * A request whose partner stream did not come in time (monitorStreamPair): the kubelet writes why on the error
   * stream, if it has one, and forgets the pair; its streams stay open, unused. Its `conn` is a Go pointer there.
   */
  private timedOut(id: string): void {
    const pair = this.pairs.get(id);
    if (!pair) return;
    this.pairs.delete(id);
    pair.error?.write(Buffer.from(`(conn=&{${this.pod.metadata.name}}, request=${id}) timed out waiting for streams`));
  }

  /** The connection is gone: no pair waits for its partner any more. */
  closed(): void {
    for (const pair of this.pairs.values()) clearTimeout(pair.timer);
    this.pairs.clear();
  }

  /** The socket caught up: every backend held back may be read again. */
  drained(): void {
    for (const b of this.backends) b.resume();
  }

  /** Joins a complete pair to the container port named by the data stream. */
  private forward(errorStream: SpdyStream, dataStream: SpdyStream): void {
    const port = Number(header(dataStream.headers, 'port'));
    let done = false;
    /** Backend EOF: data FIN, then error FIN. A failure: its text and FIN on the error stream, then data FIN. */
    const finish = (why?: string) => {
      if (done) return;
      done = true;
      if (why === undefined) return void (dataStream.end(), errorStream.end());
      errorStream.write(Buffer.from(forwardError(this.pod, port, why)));
      errorStream.end();
      dataStream.end();
    };
    errorStream.attach(IGNORE_INPUT);
    const dialled = dialContainerPort(this.runtime, this.pod, port);
    if ('refused' in dialled) {
      dataStream.attach(IGNORE_INPUT);
      return finish(dialled.refused);
    }
    const backend = dialled.socket;
    this.backends.add(backend);
    backend.on('data', (chunk: Buffer) => {
      // One socket carries every stream. A backend whose chunk found it backed up waits for it to
      // drain, as the kubelet's copy goroutine waits in Write holding one buffer; the others still get
      // their one chunk in, so the streams share the connection fairly (as goroutines share its lock).
      if (!dataStream.write(chunk)) backend.pause();
    });
    backend.on('drain', () => dataStream.resume());
    backend.on('end', () => finish());
    backend.on('error', (err: NodeJS.ErrnoException) => (finish(socketFailure(err)), backend.destroy()));
    backend.on('close', () => this.backends.delete(backend));
    dataStream.attach({
      data: (chunk) => backend.write(chunk),
      // The client's FIN is a real half-close: the backend's reply still flows back.
      end: () => backend.end(),
      // The client gave up on this connection: drop the backend; the kubelet then closes the error stream.
      reset: () => {
        done = true;
        backend.destroy();
        errorStream.end();
      },
    });
  }
}

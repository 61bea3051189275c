/**
 * One checksummed echo transfer and one HTTP GET, each ending in exactly one outcome. Every byte that
 * comes back is compared with what was sent at that offset, so a transfer cut short by a fault is told
 * apart from one that delivered wrong bytes: the first is clean-closed, the second corrupted.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';

/** How one transfer ended. `refused`: nothing listened on the port (a forward lost its listener). */
export type Outcome =
  | { result: 'ok'; bytes: number }
  | { result: 'closed'; bytes: number; error: string }
  | { result: 'corrupted'; bytes: number; error: string }
  | { result: 'refused'; bytes: 0; error: string }
  | { result: 'stalled'; bytes: number; error: string };

/** What a transfer needs besides the port. */
export interface TransferOptions {
  /** Give up (outcome `stalled`) after this long without a byte moving either way. */
  idleMs: number;
  /** Send FIN after the payload and require the echo's FIN after the last byte (SPDY half-close). */
  halfClose: boolean;
}

const CHUNK = 64 * 1024;

/** Sends `payload` to an echo server on 127.0.0.1:`port` and checks what comes back, byte by byte and by sha256. */
export function echoTransfer(port: number, payload: Buffer, opts: TransferOptions): Promise<Outcome> {
  const sentHash = createHash('sha256').update(payload).digest('hex');
  const hash = createHash('sha256');
  let received = 0;
  let written = 0;
  let settled = false;
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const idle = setTimeout(() => finish({ result: 'stalled', bytes: received, error: `no progress for ${opts.idleMs} ms after ${received} of ${payload.length} bytes back (${written} written)` }), opts.idleMs);

    function finish(o: Outcome): void {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      socket.destroy();
      resolve(o);
    }

    function writeMore(): void {
      while (written < payload.length && !socket.destroyed) {
        const end = Math.min(payload.length, written + CHUNK);
        const more = socket.write(payload.subarray(written, end));
        written = end;
        idle.refresh();
        if (!more) return;
      }
      if (written >= payload.length && opts.halfClose) socket.end();
    }

    function onData(chunk: Buffer): void {
      idle.refresh();
      if (received + chunk.length > payload.length) {
        return finish({ result: 'corrupted', bytes: received, error: `${received + chunk.length - payload.length} bytes more than were sent (${payload.length})` });
      }
      if (!chunk.equals(payload.subarray(received, received + chunk.length))) {
        let at = 0;
        while (chunk[at] === payload[received + at]) at++;
        return finish({ result: 'corrupted', bytes: received, error: `byte ${received + at} of ${payload.length} differs` });
      }
      hash.update(chunk);
      received += chunk.length;
      if (received === payload.length && !opts.halfClose) complete();
    }

    function complete(): void {
      const got = hash.digest('hex');
      if (got !== sentHash) finish({ result: 'corrupted', bytes: received, error: `sha256 ${got} != ${sentHash}` });
      else finish({ result: 'ok', bytes: received });
    }

    function onEnd(): void {
      if (received === payload.length) return complete();
      finish({ result: 'closed', bytes: received, error: `ended after ${received} of ${payload.length} bytes` });
    }

    function onError(err: NodeJS.ErrnoException): void {
      if (err.code === 'ECONNREFUSED') return finish({ result: 'refused', bytes: 0, error: err.message });
      finish({ result: 'closed', bytes: received, error: err.code ?? err.message });
    }

    function onClose(): void {
      finish({ result: 'closed', bytes: received, error: `closed after ${received} of ${payload.length} bytes` });
    }

    socket.on('connect', writeMore);
    socket.on('drain', writeMore);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/**
 * GET `path` on 127.0.0.1:`port` (a fresh connection) and judge the body with `valid`: a 200 whose body
 * `valid` rejects is corrupted; any other status or a cut connection is clean-closed.
 */
export function httpCheck(port: number, path: string, valid: (body: string) => boolean, idleMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      req.destroy();
      resolve(o);
    };
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (idle.refresh(), (body += c)));
      res.on('error', (err: Error) => finish({ result: 'closed', bytes: body.length, error: err.message }));
      res.on('end', () => {
        const bytes = Buffer.byteLength(body);
        if (res.statusCode !== 200) return finish({ result: 'closed', bytes, error: `HTTP ${res.statusCode}: ${body.slice(0, 160).trim()}` });
        finish(valid(body) ? { result: 'ok', bytes } : { result: 'corrupted', bytes, error: `unexpected body ${JSON.stringify(body.slice(0, 80))}` });
      });
    });
    const idle = setTimeout(() => finish({ result: 'stalled', bytes: 0, error: `no answer for ${idleMs} ms` }), idleMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' ? { result: 'refused', bytes: 0, error: err.message } : { result: 'closed', bytes: 0, error: err.code ?? err.message }));
    req.end();
  });
}

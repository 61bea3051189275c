/** A bare WebSocket on a control socket, for what kportctl never sends: raw text in, parsed messages out. */
import { WebSocket, type ClientOptions } from 'ws';
import { RPC_PATH } from '../../daemon/api/rpc.js';

/** One connection; every message received is kept, in order, in `messages`. */
export class RawRpc {
  readonly messages: unknown[] = [];
  /** Resolves with the close code once the connection has ended, whichever side ended it. */
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.messages.push(JSON.parse(data.toString('utf8'))));
    this.closed = new Promise((resolve) => ws.once('close', resolve));
  }

  /** Connects to the control socket at `socket`. */
  static open(socket: string, opts: ClientOptions = {}): Promise<RawRpc> {
    const ws = new WebSocket(`ws+unix://${socket}:${RPC_PATH}`, { perMessageDeflate: false, ...opts });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawRpc(ws)));
      ws.once('error', reject);
    });
  }

  /** Sends `text` as it is. */
  send(text: string): void {
    this.ws.send(text);
  }

  /** Resolves with the first `n` messages once they have arrived; rejects after `timeoutMs`. */
  async take(n: number, timeoutMs = 5_000): Promise<unknown[]> {
    await this.until(() => this.messages.length >= n, `${n} messages`, timeoutMs);
    return this.messages.slice(0, n);
  }

  /** Resolves once `check()` holds, checked now and on every message; rejects naming `what` after `timeoutMs`. */
  until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (!check()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.messages).slice(0, 2_000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.ws.off('message', test);
      };
      this.ws.on('message', test);
      test();
    });
  }

  /** Closes the connection and waits until it is closed. */
  async close(): Promise<void> {
    this.ws.close();
    await this.closed;
  }
}

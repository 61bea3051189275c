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
  take(n: number, timeoutMs = 5_000): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.messages.length < n) return;
        done();
        resolve(this.messages.slice(0, n));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} messages; got ${JSON.stringify(this.messages).slice(0, 2_000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.ws.off('message', check);
      };
      this.ws.on('message', check);
      check();
    });
  }

  /** Closes the connection and waits until it is closed. */
  async close(): Promise<void> {
    this.ws.close();
    await this.closed;
  }
}

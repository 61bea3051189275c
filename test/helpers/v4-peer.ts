/**
 * A scripted v4.channel.k8s.io server on loopback, for tests of ChannelStream against what a server may send:
 * each connection gets the script it was dialled with, and comes back to the test paused, as the dialer hands
 * its WebSockets over (websocket/connect.ts).
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { CHANNEL_PROTOCOL } from '../../daemon/kube/transport/websocket/channel.js';

/** What the server does with one connection. */
export type V4Script = (server: WebSocket) => void;

/** The server; dial one connection at a time (scripts are handed out in order). */
export class V4Peer {
  private readonly scripts: V4Script[] = [];

  private constructor(
    private readonly server: WebSocketServer,
    private readonly url: string,
  ) {
    server.on('connection', (ws: WebSocket) => {
      ws.on('error', () => {});
      this.scripts.shift()?.(ws);
    });
  }

  static async start(): Promise<V4Peer> {
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(CHANNEL_PROTOCOL) ? CHANNEL_PROTOCOL : false),
    });
    await new Promise((resolve) => server.once('listening', resolve));
    return new V4Peer(server, `ws://127.0.0.1:${(server.address() as AddressInfo).port}/portforward`);
  }

  /** Opens a connection that the server plays `script` to; resolves with the client side, paused. */
  dial(script: V4Script): Promise<WebSocket> {
    this.scripts.push(script);
    const ws = new WebSocket(this.url, [CHANNEL_PROTOCOL], { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => (ws.pause(), resolve(ws)));
      ws.once('error', reject);
    });
  }

  /** Closes the server and every connection still open. */
  close(): Promise<void> {
    for (const ws of this.server.clients) ws.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

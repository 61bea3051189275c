/**
 * The kubelet's streaming endpoints over WebSocket channel protocols (v4.channel.k8s.io and its
 * base64 twin): `pods/NAME/portforward` dials the pod's backing servers and `pods/NAME/exec`
 * runs a pretend command. Deleting a pod closes its streams.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { dialContainerPort, forwardError, socketFailure } from './pod-dial.js';
import type { PodRuntime } from './pods.js';
import type { KubeObject } from './store.js';

const BINARY = 'v4.channel.k8s.io';
const BASE64 = 'v4.base64.channel.k8s.io';
/** v5 adds a close signal (channel 255) that our one-shot exec never needs; kubectl exec offers only v5. */
const V5 = 'v5.channel.k8s.io';
/** Subprotocols by endpoint, most preferred first (the kubelet speaks no v5 port-forward). */
export const STREAM_PROTOCOLS = { portforward: [BINARY, BASE64], exec: [V5, BINARY, BASE64] } as const;
type Endpoint = keyof typeof STREAM_PROTOCOLS;

function upgradeServer(endpoint: Endpoint): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => STREAM_PROTOCOLS[endpoint].find((p) => offered.has(p)) ?? false,
  });
}
/** Above this many bytes queued on a WebSocket, the backend socket is paused. */
const HIGH_WATER = 1 << 20;

/** Frames a payload for one channel in the negotiated protocol. */
function frame(protocol: string, channel: number, payload: Buffer): Buffer | string {
  if (protocol === BASE64) return String(channel) + payload.toString('base64');
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = channel;
  payload.copy(out, 1);
  return out;
}

/** Splits an incoming message into channel and payload. */
function unframe(protocol: string, data: Buffer): { channel: number; payload: Buffer } {
  if (protocol === BASE64) {
    const text = data.toString('latin1');
    return { channel: Number(text[0]), payload: Buffer.from(text.slice(1), 'base64') };
  }
  return { channel: data[0] ?? -1, payload: data.subarray(1) };
}

const portPrefix = (port: number) => Buffer.from([port & 0xff, port >> 8]);

/** Serves port-forward and exec upgrades; owns every open stream so it can drop them. */
export class StreamServer {
  private readonly servers = { portforward: upgradeServer('portforward'), exec: upgradeServer('exec') };
  private readonly byPod = new Map<string, Set<WebSocket>>();

  constructor(private readonly runtime: PodRuntime) {
    runtime.on('terminated', (uid: string) => this.closePod(uid));
  }

  /** True when the request offers a channel protocol this endpoint speaks. */
  static offersProtocol(req: IncomingMessage, endpoint: Endpoint): boolean {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    return STREAM_PROTOCOLS[endpoint].some((p) => offered.includes(p));
  }

  private accept(endpoint: Endpoint, req: IncomingMessage, socket: Duplex, head: Buffer, pod: KubeObject, serve: (ws: WebSocket) => void): void {
    this.servers[endpoint].handleUpgrade(req, socket, head, (ws) => {
      const uid = pod.metadata.uid;
      let set = this.byPod.get(uid);
      if (!set) this.byPod.set(uid, (set = new Set()));
      set.add(ws);
      ws.on('close', () => {
        set.delete(ws);
        if (set.size === 0) this.byPod.delete(uid);
      });
      ws.on('error', () => ws.terminate());
      serve(ws);
    });
  }

  /** Upgrades a port-forward request and connects each requested port to the pod's backend. */
  portForward(req: IncomingMessage, socket: Duplex, head: Buffer, pod: KubeObject, ports: number[]): void {
    this.accept('portforward', req, socket, head, pod, (ws) => {
      const protocol = ws.protocol;
      const send = (channel: number, payload: Buffer, cb?: (err?: Error) => void) => ws.send(frame(protocol, channel, payload), cb);
      const backends: Socket[] = [];
      let open = ports.length;
      const portDone = () => {
        if (--open === 0) ws.close(1000);
      };
      ports.forEach((port, i) => {
        send(2 * i, portPrefix(port));
        send(2 * i + 1, portPrefix(port));
        let finished = false;
        const finish = () => {
          if (!finished) (finished = true), portDone();
        };
        const fail = (why: string) => {
          if (!finished) send(2 * i + 1, Buffer.from(forwardError(pod, port, why)));
          finish();
        };
        const dialled = dialContainerPort(this.runtime, pod, port);
        if ('refused' in dialled) return fail(dialled.refused);
        const backend = dialled.socket;
        backends[i] = backend;
        backend.on('data', (chunk: Buffer) => {
          send(2 * i, chunk, () => {
            if (ws.bufferedAmount < HIGH_WATER / 2) backend.resume();
          });
          if (ws.bufferedAmount > HIGH_WATER) backend.pause();
        });
        backend.on('drain', () => ws.resume());
        backend.on('error', (err: NodeJS.ErrnoException) => fail(socketFailure(err)));
        backend.on('end', finish);
      });
      ws.on('message', (data: Buffer) => {
        const { channel, payload } = unframe(protocol, data);
        const backend = channel % 2 === 0 ? backends[channel / 2] : undefined;
        if (backend && !backend.destroyed && !backend.write(payload)) ws.pause();
      });
      ws.on('close', () => backends.forEach((b) => b?.destroy()));
    });
  }

  /** Upgrades an exec request: writes the command line to stdout, then a Success status, then closes. */
  exec(req: IncomingMessage, socket: Duplex, head: Buffer, pod: KubeObject, command: string[]): void {
    this.accept('exec', req, socket, head, pod, (ws) => {
      const send = (channel: number, payload: string) => ws.send(frame(ws.protocol, channel, Buffer.from(payload)));
      send(1, `${command.join(' ')}\n`);
      send(3, JSON.stringify({ metadata: {}, status: 'Success' }));
      ws.close(1000);
    });
  }

  private closePod(uid: string): void {
    for (const ws of this.byPod.get(uid) ?? []) ws.close(1000);
  }

  /** Cuts every open stream without a close handshake (a network drop); returns how many. */
  dropAll(): number {
    let n = 0;
    for (const set of this.byPod.values()) for (const ws of set) (ws.terminate(), n++);
    return n;
  }

  /** Closes every stream and the upgrade server. */
  close(): void {
    this.dropAll();
    this.servers.portforward.close();
    this.servers.exec.close();
  }
}

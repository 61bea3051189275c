/**
 * `pods/NAME/portforward` over SPDY/3.1, in both forms a client can reach it: the plain upgrade
 * (`POST`, `Upgrade: SPDY/3.1`, answered `101` by the kubelet through the API server) and SPDY
 * tunnelled in a WebSocket (subprotocol `SPDY/3.1+portforward.k8s.io`, API servers ≥ 1.31, what
 * kubectl ≥ 1.31 tries first). Either way one SPDY server connection follows; this module owns them
 * all, so that a deleted pod or a dropped network can end them, and counts them for tests.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { PodRuntime } from './pods.js';
import { PortForwardHandler } from './spdy-portforward.js';
import { SpdyServerConnection, type ConnectionFaults } from './spdy-server.js';
import type { KubeObject } from './store.js';

/** The one stream protocol the kubelet's port-forward negotiates (`X-Stream-Protocol-Version`). */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** The WebSocket subprotocol that carries SPDY port-forward. */
export const TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

/** How a port-forward upgrade asks to be served. */
export type UpgradeForm = 'spdy' | 'tunnel' | 'websocket';

/** Tells the forms apart by their headers; the tunnel wins whenever it is offered, as on a 1.31 server. */
export function upgradeForm(req: IncomingMessage): UpgradeForm {
  if (String(req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1') return 'spdy';
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  return offered.includes(TUNNEL_PROTOCOL) ? 'tunnel' : 'websocket';
}

/** Names the tunnel subprotocol in the 101 (see SpdyEndpoint.tunnel for why `ws` cannot). */
function acceptTunnelProtocol(headers: string[]): void {
  headers.push(`Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`);
}

/** SPDY port-forward connections, now and since the start. */
export interface SpdyCounts {
  /** Connections open now (plain and tunnelled). */
  connections: number;
  /** Streams open now over those connections (each forwarded TCP connection is two). */
  streams: number;
  /** Connections that read nothing now because one backend cannot take more (spdystream's unbuffered streams). */
  stalled: number;
  /** Connections accepted since the cluster started, by form. */
  accepted: { upgrade: number; tunnel: number };
}

interface Served {
  conn: SpdyServerConnection;
  namespace: string;
  name: string;
  uid: string;
  form: 'upgrade' | 'tunnel';
}

/** Serves SPDY port-forward upgrades and tunnels; owns every connection so it can close or cut them. */
export class SpdyEndpoint {
  private readonly open = new Set<Served>();
  /** Connections accepted so far, by `namespace/name` of the pod. */
  private readonly accepted = new Map<string, SpdyCounts['accepted']>();
  private readonly tunnels = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  constructor(
    private readonly runtime: PodRuntime,
    private readonly faults: ConnectionFaults,
    /** Whether the API server tunnels SPDY in WebSockets (≥ 1.31). */
    readonly servesTunnel: boolean,
    /** The kubelet's streamCreationTimeout (PortForwardHandler's default when omitted). */
    private readonly streamCreationTimeoutMs?: number,
  ) {
    runtime.on('terminated', (uid: string) => this.closePod(uid));
    this.tunnels.on('headers', acceptTunnelProtocol);
  }

  /**
   * Answers a plain SPDY upgrade as the kubelet's `httpstream.Handshake` and `UpgradeResponse` do:
   * a client that names stream protocols must name ours (else 403), then `101` and the connection.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, pod: KubeObject): void {
    const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (offered.length > 0 && !offered.includes(PORT_FORWARD_PROTOCOL)) {
      const text = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]\n`;
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\nx-accepted-stream-protocol-versions: ${PORT_FORWARD_PROTOCOL}\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
      return;
    }
    const version = offered.length > 0 ? `x-stream-protocol-version: ${PORT_FORWARD_PROTOCOL}\r\n` : '';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: SPDY/3.1\r\n${version}\r\n`);
    (socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.serve(socket, head, pod, 'upgrade');
  }

  /** Accepts the WebSocket tunnel: its binary messages are the SPDY byte stream (boundaries mean nothing). */
  tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, pod: KubeObject): void {
    // `ws` refuses `SPDY/3.1+portforward.k8s.io` as a subprotocol ('/' is not a token character,
    // RFC 6455 wants tokens) and fails the handshake with 400; Go's gorilla does not care. So the
    // offer (already checked by upgradeForm) is taken out of `ws`'s sight and the answer put back
    // by acceptTunnelProtocol.
    delete req.headers['sec-websocket-protocol'];
    this.tunnels.handleUpgrade(req, socket, head, (ws) => this.serve(createWebSocketStream(ws), Buffer.alloc(0), pod, 'tunnel'));
  }

  private serve(socket: Duplex, head: Buffer, pod: KubeObject, form: Served['form']): void {
    const handler = new PortForwardHandler(this.runtime, pod, this.streamCreationTimeoutMs);
    const conn = new SpdyServerConnection(socket, handler, this.faults);
    const { namespace = 'default', name, uid } = pod.metadata;
    const served: Served = { conn, namespace, name, uid, form };
    this.open.add(served);
    const key = `${namespace}/${name}`;
    const seen = this.accepted.get(key) ?? { upgrade: 0, tunnel: 0 };
    seen[form]++;
    this.accepted.set(key, seen);
    conn.once('close', () => (this.open.delete(served), handler.closed()));
    conn.start(head);
  }

  /** Open connections and streams, and connections accepted so far; of one pod (by name) or of all. */
  counts(namespace?: string, name?: string): SpdyCounts {
    const mine = (ns: string, n: string) => (namespace === undefined || ns === namespace) && (name === undefined || n === name);
    const open = [...this.open].filter((s) => mine(s.namespace, s.name));
    const accepted = { upgrade: 0, tunnel: 0 };
    for (const [key, seen] of this.accepted) {
      const [ns, n] = key.split('/') as [string, string];
      if (!mine(ns, n)) continue;
      accepted.upgrade += seen.upgrade;
      accepted.tunnel += seen.tunnel;
    }
    return {
      connections: open.length,
      streams: open.reduce((sum, s) => sum + s.conn.openStreams, 0),
      stalled: open.filter((s) => s.conn.stalled).length,
      accepted,
    };
  }

  /** A pod's containers stopped: its connections close as the kubelet closes them (streams reset, GOAWAY). */
  private closePod(uid: string): void {
    for (const s of this.open) if (s.uid === uid) s.conn.close();
  }

  /** Cuts every connection without a word (a network drop); returns how many. */
  dropAll(): number {
    const all = [...this.open];
    for (const s of all) s.conn.destroy();
    return all.length;
  }

  /** Cuts every connection and stops accepting tunnels. */
  close(): void {
    this.dropAll();
    this.tunnels.close();
  }
}

/**
 * The "containers": each declared container port of a running pod is a real TCP server on
 * 127.0.0.1 — an echo server, an HTTP server that answers with the pod's name, or a source that
 * streams bytes for as long as the client reads (for one-way throughput).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * What answers on a container port. `refuse` declares the port but listens nowhere; `stall`
 * accepts and never reads (a wedged container: whatever is sent to it backs up).
 */
export type BackendKind = 'echo' | 'http' | 'source' | 'stall' | 'refuse';

const KINDS: readonly string[] = ['echo', 'http', 'source', 'stall', 'refuse'];

/** A pod's container port as declared in its spec. */
export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/** Annotation that overrides backend kinds: `"8080=echo,9000=refuse,9100=source"`. */
export const BACKENDS_ANNOTATION = 'sim.kport.dev/backends';

/** Picks a port's backend: the annotation, else HTTP for ports named http*, else echo. */
export function backendKind(port: ContainerPort, annotation: string | undefined): BackendKind {
  for (const entry of (annotation ?? '').split(',')) {
    const [p, kind] = entry.split('=').map((s) => s.trim());
    if ((p === String(port.containerPort) || p === port.name) && kind && KINDS.includes(kind)) return kind as BackendKind;
  }
  return port.name?.startsWith('http') ? 'http' : 'echo';
}

/** The live servers of one pod, by container port. */
export class PodBackends {
  private readonly servers = new Map<number, Server | HttpServer>();
  private readonly sockets = new Set<Socket>();

  private constructor(readonly podName: string) {}

  /** Starts one server per declared port (except `refuse` ones). */
  static async start(podName: string, ports: ContainerPort[], annotation: string | undefined): Promise<PodBackends> {
    const b = new PodBackends(podName);
    for (const p of ports) {
      const kind = backendKind(p, annotation);
      if (kind === 'refuse') continue;
      const server = kind === 'http' ? b.httpServer() : kind === 'source' ? b.sourceServer() : kind === 'stall' ? b.stallServer() : b.echoServer();
      server.on('connection', (s: Socket) => b.track(s));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      b.servers.set(p.containerPort, server);
    }
    return b;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private echoServer(): Server {
    return createTcpServer({ noDelay: true }, (socket) => socket.pipe(socket));
  }

  /** Writes 256 KiB blocks while the client keeps up (backpressure via 'drain'), until it goes. */
  private sourceServer(): Server {
    const block = Buffer.alloc(256 * 1024, 0x6b);
    return createTcpServer({ noDelay: true }, (socket) => {
      const fill = () => {
        while (!socket.destroyed && socket.write(block));
      };
      socket.on('drain', fill);
      socket.resume();
      fill();
    });
  }

  /** Accepts and never reads: no 'data' listener, so the socket stops once its buffer is full. */
  private stallServer(): Server {
    return createTcpServer(() => {});
  }

  private httpServer(): HttpServer {
    return createHttpServer((req, res) => {
      req.resume();
      const body = `${this.podName}\n`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-pod-name': this.podName });
      res.end(body);
    });
  }

  /** The local TCP port serving a container port, or undefined when nothing listens there. */
  localPort(containerPort: number): number | undefined {
    const s = this.servers.get(containerPort);
    return s ? (s.address() as AddressInfo).port : undefined;
  }

  /** Stops every server and cuts every open connection (the container died). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([...this.servers.values()].map((s) => new Promise((r) => s.close(r))));
    this.servers.clear();
  }
}

/**
 * `services/NAME[:PORT]/proxy/...` and `pods/NAME[:PORT]/proxy/...`: HTTP relayed to a pod's
 * backing server, as the API server relays it to pod IPs.
 */
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { targetPortNumber } from './controllers.js';
import { isPodReady as isReady } from './pod-status.js';
import type { PodRuntime } from './pods.js';
import { findType, type ResourceType } from './resources.js';
import { matchesServiceSelector } from './selectors.js';
import { ApiError, notFound } from './status.js';
import type { KubeObject, ObjectStore } from './store.js';

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
}

/** Splits `[scheme:]name[:port]` as the API server does for proxy paths. */
function splitTarget(text: string): { name: string; port: string } {
  const parts = text.split(':');
  if (parts.length === 3) return { name: parts[1]!, port: parts[2]! };
  return { name: parts[0]!, port: parts[1] ?? '' };
}

/** Resolves proxy targets against the store and relays requests. */
export class ServiceProxy {
  private readonly pods: ResourceType;
  private readonly services: ResourceType;

  constructor(
    private readonly store: ObjectStore,
    types: readonly ResourceType[],
    private readonly runtime: PodRuntime,
  ) {
    this.pods = findType(types, '', 'pods')!;
    this.services = findType(types, '', 'services')!;
  }

  /** The local port behind `services/<target>`; throws ApiError 404/503 as the API server would. */
  serviceBackend(ns: string, target: string): number {
    const { name, port } = splitTarget(target);
    const svc = this.store.get(this.services, ns, name);
    if (!svc) throw notFound('services', name);
    const spec = svc.spec as { selector?: Record<string, string>; ports?: ServicePort[] };
    const ports = spec.ports ?? [];
    const sp = port === '' ? ports[0] : ports.find((p) => p.name === port || String(p.port) === port);
    if (!sp) throw new ApiError(503, 'ServiceUnavailable', `no service port ${JSON.stringify(port)} found for service "${name}"`);
    const ready = this.store.list(this.pods, ns).filter((p) => matchesServiceSelector(spec.selector, p.metadata.labels) && isReady(p));
    const pod = ready[Math.floor(Math.random() * ready.length)];
    if (!pod) throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${name}"`);
    return this.podPort(pod, targetPortNumber(sp, pod));
  }

  /** The local port behind `pods/<target>`; throws ApiError 404/503. */
  podBackend(ns: string, target: string): number {
    const { name, port } = splitTarget(target);
    const pod = this.store.get(this.pods, ns, name);
    if (!pod) throw notFound('pods', name);
    const declared = (pod.spec as { containers: { ports?: { name?: string; containerPort: number }[] }[] }).containers.flatMap((c) => c.ports ?? []);
    const number = port === '' ? declared[0]?.containerPort ?? 80 : /^\d+$/.test(port) ? Number(port) : declared.find((p) => p.name === port)?.containerPort;
    if (number === undefined) throw new ApiError(503, 'ServiceUnavailable', `no port ${JSON.stringify(port)} on pod "${name}"`);
    return this.podPort(pod, number);
  }

  private podPort(pod: KubeObject, containerPort: number): number {
    const local = this.runtime.localPort(pod.metadata.uid, containerPort);
    const ip = (pod.status as { podIP?: string } | undefined)?.podIP ?? '<none>';
    if (local === undefined) {
      throw new ApiError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${ip}:${containerPort}: connect: connection refused`);
    }
    return local;
  }

  /** Relays one request to 127.0.0.1:`port` at `path` (query string kept), streaming both bodies. */
  relay(req: IncomingMessage, res: ServerResponse, port: number, path: string): void {
    const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const headers = { ...req.headers };
    delete headers.authorization;
    delete headers.host;
    const upstream = request({ host: '127.0.0.1', port, method: req.method, path: (path || '/') + query, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      if (res.headersSent) return void res.destroy();
      const status = new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${err.message}`).toStatus();
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify(status));
    });
    req.pipe(upstream);
  }
}

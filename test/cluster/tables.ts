/**
 * Server-side printing: `meta.k8s.io/v1` Table responses, which `kubectl get` asks for
 * (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) and prints column by column.
 */
import type { KubeObject } from './store.js';

type Column = { name: string; type: string; format?: string; priority?: number; cell: (o: KubeObject) => string | number };

/** kubectl's HumanDuration: "45s", "5m12s", "35m", "3h12m", "2d". */
export function humanAge(created: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const field = (o: KubeObject, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
const num = (o: KubeObject, path: string) => Number(field(o, path) ?? 0);
const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const age: Column = { name: 'Age', type: 'string', cell: (o) => humanAge(o.metadata.creationTimestamp) };

function podStatus(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  return String(field(o, 'status.phase') ?? 'Pending');
}

function podReady(o: KubeObject): string {
  const statuses = (field(o, 'status.containerStatuses') as { ready: boolean }[] | undefined) ?? [];
  const total = ((field(o, 'spec.containers') as unknown[] | undefined) ?? []).length;
  return `${statuses.filter((s) => s.ready).length}/${total}`;
}

function servicePorts(o: KubeObject): string {
  const ports = (field(o, 'spec.ports') as { port: number; protocol?: string }[] | undefined) ?? [];
  return ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
}

function endpointList(o: KubeObject): string {
  const subsets = (field(o, 'subsets') as { addresses?: { ip: string }[]; ports?: { port: number }[] }[] | undefined) ?? [];
  const list = subsets.flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).map((p) => `${a.ip}:${p.port}`)));
  return list.join(',') || '<none>';
}

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    name,
    { name: 'Ready', type: 'string', cell: podReady },
    { name: 'Status', type: 'string', cell: podStatus },
    { name: 'Restarts', type: 'string', cell: () => '0' },
    age,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => String(field(o, 'status.podIP') ?? '<none>') },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => String(field(o, 'spec.nodeName') ?? '<none>') },
  ],
  Service: [
    name,
    { name: 'Type', type: 'string', cell: (o) => String(field(o, 'spec.type') ?? 'ClusterIP') },
    { name: 'Cluster-IP', type: 'string', cell: (o) => String(field(o, 'spec.clusterIP') ?? '<none>') },
    { name: 'External-IP', type: 'string', cell: () => '<none>' },
    { name: 'Port(s)', type: 'string', cell: servicePorts },
    age,
    { name: 'Selector', type: 'string', priority: 1, cell: (o) => Object.entries((field(o, 'spec.selector') as object) ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>' },
  ],
  Endpoints: [name, { name: 'Endpoints', type: 'string', cell: endpointList }, age],
  EndpointSlice: [
    name,
    { name: 'AddressType', type: 'string', cell: (o) => String(field(o, 'addressType')) },
    { name: 'Ports', type: 'string', cell: (o) => ((field(o, 'ports') as { port: number }[]) ?? []).map((p) => p.port).join(',') || '<unset>' },
    { name: 'Endpoints', type: 'string', cell: (o) => ((field(o, 'endpoints') as { addresses: string[] }[]) ?? []).flatMap((e) => e.addresses).join(',') || '<unset>' },
    age,
  ],
  Deployment: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${num(o, 'status.readyReplicas')}/${num(o, 'spec.replicas')}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => num(o, 'status.updatedReplicas') },
    { name: 'Available', type: 'integer', cell: (o) => num(o, 'status.availableReplicas') },
    age,
  ],
  ReplicaSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => num(o, 'spec.replicas') },
    { name: 'Current', type: 'integer', cell: (o) => num(o, 'status.replicas') },
    { name: 'Ready', type: 'integer', cell: (o) => num(o, 'status.readyReplicas') },
    age,
  ],
  StatefulSet: [name, { name: 'Ready', type: 'string', cell: (o) => `${num(o, 'status.readyReplicas')}/${num(o, 'spec.replicas')}` }, age],
  Namespace: [name, { name: 'Status', type: 'string', cell: () => 'Active' }, age],
};

/** True when the Accept header asks for a Table. */
export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}

/** Renders objects as a Table (rows carry partial object metadata, as kubectl expects by default). */
export function toTable(kind: string, objects: KubeObject[], resourceVersion: string): object {
  const columns = COLUMNS[kind] ?? [name, age];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.name, priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

/** How sessions read in a terminal: the `kportctl list` columns, route text, and one-line events. */
import { SESSION_STATES, type SessionStatus } from '../../daemon/api/session.js';
import { bytes, clock, endpoint, oneLine, since, target } from './format.js';
import type { Column } from './table.js';
import type { Style } from './style.js';

/** The default bind address, left out of the narrow table: a bare port there means this address. */
const LOOPBACK = '127.0.0.1';

/**
 * Local endpoint(s) → target with remote port(s): `127.0.0.1:8080,8443 → svc/web:80,https`; with `short`,
 * a bare port stands for 127.0.0.1 (`8080 → svc/web:80`) and other addresses are written out.
 */
export function route(s: SessionStatus, short = false): string {
  const spec = s.spec;
  const to = target(spec);
  const local = (addresses: readonly string[], ports: string) =>
    short && addresses.length === 1 && addresses[0] === LOOPBACK ? ports : endpoint(addresses, ports);
  if (s.listeners.length > 0) {
    const addresses = [...new Set(s.listeners.map((l) => l.address))];
    const first = s.listeners.filter((l) => l.address === addresses[0]);
    const from = local(addresses, first.map((l) => l.port).join(','));
    return spec.kind === 'forward' ? `${from} → ${to}:${first.map((l) => l.remote).join(',')}` : `${from} → ${to}`;
  }
  // Not bound (yet): what the spec asks for, `*` where any free port was asked.
  if (spec.kind === 'proxy') return `${spec.unixSocket ?? local(spec.addresses, String(spec.port || '*'))} → ${to}`;
  if (spec.kind === 'gateway') return `${local(spec.addresses, String(spec.port || '*'))} → ${to}`;
  const locals = spec.ports.map((p) => p.local || '*').join(',');
  return `${local(spec.addresses, locals)} → ${to}:${spec.ports.map((p) => p.remote).join(',')}`;
}

/** One line per bound listener (`127.0.0.1:8080 → svc/web:80`), as `add` reports them. */
export function listenerRoutes(s: SessionStatus): string[] {
  const to = target(s.spec);
  return s.listeners.map((l) => `${endpoint(l.address, l.port)} → ${s.kind === 'forward' ? `${to}:${l.remote}` : to}`);
}

/**
 * The columns of `kportctl list`. By default they fit 80 columns: 127.0.0.1 goes unsaid, and the reason
 * (which names the pod of a ready forward) is cut first, then the name, then the route; narrower still,
 * the reason goes. `wide` writes every address and adds kind, source, namespace, context, kubeconfig, pods, a
 * gateway's open connections by destination, transport, totals, churn and the last error, uncut.
 */
export function sessionColumns(wide: boolean, now: number, style: Style): Column<SessionStatus>[] {
  const name: Column<SessionStatus> = { header: 'NAME', cell: (s) => s.name, flex: 2, min: 10 };
  const state: Column<SessionStatus> = { header: 'STATE', cell: (s) => s.state, paint: (s) => style.state(s.state) };
  const via: Column<SessionStatus> = { header: 'LOCAL → TARGET', cell: (s) => route(s, !wide), flex: 3, min: 20 };
  const ageCol: Column<SessionStatus> = { header: 'AGE', cell: (s) => since(s.created, now), right: true };
  const reason: Column<SessionStatus> = { header: 'REASON', cell: (s) => (s.override === 'enabled' ? `enabled by kportctl; ${s.reason}` : s.reason), flex: 1, min: 12, optional: !wide };
  if (!wide) {
    return [
      name,
      state,
      via,
      { header: 'CONN', cell: (s) => String(s.counters.connectionsActive), right: true },
      { header: 'TRAFFIC', cell: (s) => bytes(s.counters.bytesIn + s.counters.bytesOut), right: true },
      ageCol,
      reason,
    ];
  }
  return [
    name,
    { header: 'KIND', cell: (s) => s.kind },
    { header: 'SOURCE', cell: (s) => (s.override ? `${s.source}, ${s.override} by kportctl` : s.source) },
    state,
    via,
    { header: 'NAMESPACE', cell: (s) => (s.spec.kind === 'proxy' ? '' : s.spec.namespace) },
    { header: 'CONTEXT', cell: (s) => s.spec.context ?? '' },
    // Empty: kport.yaml's kubeconfig (or kportd's $KUBECONFIG); else the one the session was added with.
    { header: 'KUBECONFIG', cell: (s) => s.spec.kubeconfig?.join(':') ?? '' },
    { header: 'PODS', cell: (s) => s.pods.join(',') },
    { header: 'DESTINATIONS', cell: (s) => s.destinations.map((d) => `${d.destination}×${d.active}`).join(',') },
    { header: 'TRANSPORT', cell: (s) => s.transport ?? (s.spec.kind === 'proxy' ? '' : s.spec.transport) },
    { header: 'CONN', cell: (s) => `${s.counters.connectionsActive}/${s.counters.connectionsTotal}`, right: true },
    { header: 'IN', cell: (s) => bytes(s.counters.bytesIn), right: true },
    { header: 'OUT', cell: (s) => bytes(s.counters.bytesOut), right: true },
    { header: 'RECONNECTS', cell: (s) => String(s.counters.reconnects), right: true },
    { header: 'FAILOVERS', cell: (s) => String(s.counters.failovers), right: true },
    ageCol,
    { header: 'SINCE', cell: (s) => since(s.since, now), right: true },
    reason,
    { header: 'LAST ERROR', cell: (s) => (s.lastError ? `${s.lastError.code}: ${s.lastError.message}` : '') },
    { header: 'ERROR AT', cell: (s) => (s.lastError ? `${since(s.lastError.at, now)} ago` : '') },
  ];
}

/** What an event line shows; a notification that changes none of it (counters only) prints nothing. */
export function eventKey(s: SessionStatus): string {
  return `${s.state}\n${s.reason}`;
}

/** `12:00:01  web  ready  forwarding to pod web-1 (svc/web)`. */
export function eventLine(at: Date, s: SessionStatus, style: Style): string {
  return `${clock(at)}  ${s.name}  ${style.state(s.state)(s.state)}  ${oneLine(s.reason)}`;
}

/** `12:00:01  web  removed`. */
export function removedLine(at: Date, name: string, style: Style): string {
  return `${clock(at)}  ${name}  ${style.dim('removed')}`;
}

/** `3 sessions: 2 ready, 1 waiting`, states in lifecycle order. */
export function countLine(sessions: readonly SessionStatus[]): string {
  const parts = SESSION_STATES.map((state) => [state, sessions.filter((s) => s.state === state).length] as const)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`);
  return `${sessions.length} session${sessions.length === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

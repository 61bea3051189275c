/**
 * The control API as a dispatch table: one handler per method, each taking validated params and a
 * narrow view of the daemon, mapping to core calls. Nothing here knows about sockets.
 */
import type { CachedKind, DaemonStatus, MethodName, MetricsStatus, ParamsOut, Results } from '../api/rpc.js';
import type { Supervisor } from '../supervisor.js';

/** What handlers may use of the daemon. */
export interface Control {
  supervisor: Pick<Supervisor, 'reload' | 'add' | 'remove' | 'restart' | 'setEnabled' | 'list' | 'get' | 'wait' | 'configStatus' | 'counts'>;
  info: Pick<DaemonStatus, 'version' | 'pid' | 'startedAt' | 'socket' | 'stateDir' | 'logFile'>;
  /** The metrics server's state; null when none is configured. */
  metrics(): MetricsStatus | null;
  /** Begins shutdown once the current response has gone out. */
  shutdown(): void;
  /** Names of `kind` the watch caches hold, on a context and namespace (every one held when not given), sorted. */
  cachedNames(query: { kind: CachedKind; context?: string | undefined; namespace?: string | undefined }): string[];
  /** The last `lines` lines of the log file; CANCELLED once `signal` aborts. */
  readLog(lines: number, signal: AbortSignal): Promise<string[]>;
}

/** Per-connection abilities a handler may use. */
export interface Caller {
  /** Starts notifications for this connection. */
  subscribe(opts: { logs: boolean }): void;
  /** Aborted when the connection closes: work still pending for it is released. */
  readonly signal: AbortSignal;
}

/** A handler for method M. */
export type Handler<M extends MethodName> = (params: ParamsOut<M>, caller: Caller) => Promise<Results[M]> | Results[M];

/** The dispatch table. */
export type Handlers = { [M in MethodName]: Handler<M> };

/** Builds the table over a daemon. */
export function handlers(control: Control): Handlers {
  const { supervisor } = control;
  return {
    'daemon.status': () => ({
      ...control.info,
      uptimeMs: Date.now() - Date.parse(control.info.startedAt),
      config: supervisor.configStatus(),
      sessions: supervisor.counts(),
      metrics: control.metrics(),
    }),
    'daemon.shutdown': () => {
      control.shutdown();
      return { stopping: true };
    },
    'config.reload': () => supervisor.reload(),
    'session.list': () => supervisor.list(),
    'session.get': ({ name }) => supervisor.get(name),
    'session.add': ({ kind, entry, ephemeral }) => supervisor.add(kind, entry, ephemeral),
    'session.remove': ({ name }) => supervisor.remove(name),
    'session.restart': ({ name }) => supervisor.restart(name),
    'session.enable': ({ name }) => supervisor.setEnabled(name, true),
    'session.disable': ({ name }) => supervisor.setEnabled(name, false),
    'session.wait': ({ name, timeoutMs }, caller) => supervisor.wait(name, timeoutMs, caller.signal),
    'events.subscribe': ({ logs }, caller) => {
      caller.subscribe({ logs });
      return { subscribed: true };
    },
    'cluster.names': (query) => ({ names: control.cachedNames(query) }),
    'logs.read': async ({ lines }, caller) => ({ lines: await control.readLog(lines, caller.signal) }),
  };
}

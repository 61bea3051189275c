/**
 * kportd assembled: logger, cluster view, supervisor with its session factory, the control socket,
 * the metrics endpoint, the config file watch and SIGHUP reloads. main.ts owns the process (arguments,
 * detaching, signals, exit); this module owns what runs inside it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ConfigEnv, DesiredState, SessionSpec } from '../config/types.js';
import { KportError } from './api/errors.js';
import type { DaemonPaths } from './api/paths.js';
import { VERSION } from './api/version.js';
import { watchConfigFile } from './config-watch.js';
import { ForwardSession } from './forward/session.js';
import { GatewaySession } from './gateway/session.js';
import { isoTime } from './iso-time.js';
import { cachedNames } from './kube/cached-names.js';
import { NamespaceCaches } from './kube/caches.js';
import { KubeClients } from './kube/clients.js';
import { probeSocket } from './liveness.js';
import { createLogger } from './log.js';
import { LogTail } from './log-tail.js';
import { MetricsEndpoint } from './metrics/endpoint.js';
import { ProxySession } from './proxy/session.js';
import { handlers } from './rpc/methods.js';
import { RpcServer } from './rpc/server.js';
import { DisabledSession } from './session/disabled.js';
import type { Session } from './session/session.js';
import { SessionStore } from './state.js';
import { Supervisor, type SessionFactory, type SessionPlan } from './supervisor.js';

/** How to run. */
export interface DaemonOptions {
  configFile: string;
  paths: DaemonPaths;
  foreground: boolean;
  env: ConfigEnv;
  logLevel?: string;
}

/** A running daemon. */
export interface RunningDaemon {
  log: Logger;
  /** Stops everything (idempotent); resolves when done. */
  shutdown(reason: string): Promise<void>;
  /** Resolves once shut down (by signal, RPC or shutdown()). */
  stopped: Promise<void>;
  reload(): void;
}

/** Thrown when another kportd already serves the socket. */
export class AlreadyRunning extends KportError {
  constructor(
    socket: string,
    readonly pid: number | null,
  ) {
    super('CONFLICT', `kportd is already running${pid ? ` (pid ${pid})` : ''} on ${socket}`, { pid });
  }
}

/** Starts kportd; throws AlreadyRunning when the socket is live, KportError for an unusable socket path. */
export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { paths } = opts;
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const probe = await probeSocket(paths.socket);
  if (probe.state === 'alive') throw new AlreadyRunning(paths.socket, probe.pid);

  const logs = await createLogger({ file: paths.log, foreground: opts.foreground, level: opts.logLevel });
  const log = logs.log;
  if (probe.state === 'stale') {
    log.info({ socket: paths.socket }, 'replacing a stale socket left by a daemon that is gone');
    rmSync(paths.socket, { force: true });
  }
  const clients = new KubeClients();
  const caches = new NamespaceCaches(log);
  const metrics = new MetricsEndpoint({ sessions: { list: () => supervisor.list() }, log, version: VERSION });
  const buildSession = (spec: SessionSpec, { source, kubeconfig, conflict, override, keptPorts }: SessionPlan): Session => {
    const sessionLog = log.child({ session: spec.name });
    if (!spec.enabled || conflict) return new DisabledSession(spec, source, sessionLog, conflict, override === false);
    // A session added with its own kubeconfig (kportctl add under another $KUBECONFIG) keeps it; the rest share the file's.
    const deps = { kubeconfig: spec.kubeconfig ?? kubeconfig, clients, log: sessionLog, source, ...(keptPorts ? { keptPorts } : {}) };
    if (spec.kind === 'forward') return new ForwardSession(spec, { ...deps, caches });
    if (spec.kind === 'gateway') return new GatewaySession(spec, { ...deps, caches });
    return new ProxySession(spec, deps);
  };
  const createSession: SessionFactory = (...args) => {
    const session = buildSession(...args);
    metrics.observe(session.core);
    return session;
  };
  const onApplied = (state: DesiredState) => metrics.apply(state.metrics);
  const supervisor = new Supervisor({ log, env: opts.env, configFile: opts.configFile, store: new SessionStore(paths.sessions, log), createSession, onApplied });

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let shutting: Promise<void> | null = null;
  const startedAt = isoTime();
  const logTail = new LogTail(paths.log);
  const rpc = new RpcServer(
    handlers({
      supervisor,
      info: { version: VERSION, pid: process.pid, startedAt, socket: paths.socket, stateDir: paths.stateDir, logFile: paths.log },
      metrics: () => metrics.status(),
      shutdown: () => setImmediate(() => void shutdown('kportctl stop')),
      cachedNames: (query) => cachedNames(caches.held(), query),
      readLog: (lines, signal) => logTail.read(lines, signal),
    }),
    { sessions: supervisor, logs: logs.tap },
    log,
  );

  const reload = () => void supervisor.reload();
  let unwatch = () => {};
  async function shutdown(reason: string): Promise<void> {
    shutting ??= (async () => {
      log.info({ reason }, 'kportd stopping');
      unwatch();
      await rpc.close();
      await Promise.all([supervisor.stopAll(), metrics.close()]);
      caches.stopAll();
      clients.closeAll();
      log.info('kportd stopped');
      logs.close();
      resolveStopped();
    })();
    return shutting;
  }

  const first = await supervisor.start();
  try {
    await rpc.listen(paths.socket);
  } catch (err) {
    await Promise.all([supervisor.stopAll(), metrics.close()]);
    caches.stopAll();
    clients.closeAll();
    logs.close();
    // Another daemon won the race between our probe and our bind.
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const again = await probeSocket(paths.socket);
      throw new AlreadyRunning(paths.socket, again.state === 'alive' ? again.pid : null);
    }
    throw new KportError('BIND_FAILED', `cannot listen on ${paths.socket}: ${(err as Error).message}`);
  }
  unwatch = watchConfigFile(opts.configFile, reload, log);
  log.info({ version: VERSION, socket: paths.socket, config: opts.configFile, configOk: first.ok, sessions: supervisor.counts().total }, 'kportd ready');
  return { log, shutdown, stopped, reload };
}

/** What the supervisor needs of any session, forward or proxy, and what it gives them. */
import type { Logger } from 'pino';
import type { SessionSource } from '../api/session.js';
import type { KubeClients } from '../kube/clients.js';
import type { SessionCore } from './core.js';

/** A running forward or proxy. `start` and `stop` never throw: failures become states and last errors. */
export interface Session {
  readonly core: SessionCore;
  /** Binds listeners and begins serving (or waiting, or retrying). */
  start(): Promise<void>;
  /** Closes listeners and every open connection; the state becomes `stopped`. */
  stop(): Promise<void>;
}

/** Shared services a session is built with. */
export interface SessionDeps {
  /** Kubeconfig files, merged in order (DesiredState.kubeconfig). */
  kubeconfig: readonly string[];
  clients: KubeClients;
  /** The session's logger (already bound to its name). */
  log: Logger;
  source: SessionSource;
  /**
   * The local ports a runtime session was given at its last start, by port mapping (a proxy: its one port), asked
   * for again where the spec says 0 (any); one that another process has taken since gives way to a new free port.
   */
  keptPorts?: readonly (number | null)[];
}

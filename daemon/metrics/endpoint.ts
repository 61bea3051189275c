/**
 * The metrics endpoint as kport.yaml asks for it. Without a `metrics:` section there is nothing: prom-client is not
 * even loaded, so kportd's start-up and memory stay as they are. With one, an HTTP server on its address and port
 * serves GET /metrics; each good load of the file starts, stops or moves it, as it does the sessions.
 */
import type { Logger } from 'pino';
import { formatHostPort } from '../../config/addresses.js';
import type { MetricsSpec } from '../../config/types.js';
import { toKportError, type ErrorCode, type KportError } from '../api/errors.js';
import type { MetricsStatus } from '../api/rpc.js';
import { Serial } from '../serial.js';
import type { SessionCore } from '../session/core.js';
import type { KportMetrics, SessionSource } from './registry.js';
import { serveMetrics, type MetricsServer } from './server.js';

/** What the endpoint is built with. */
export interface MetricsDeps {
  sessions: SessionSource;
  log: Logger;
  version: string;
}

const sameSpec = (a: MetricsSpec | null, b: MetricsSpec | null) => a?.address === b?.address && a?.port === b?.port;

/** Owns the metrics server (at most one) and, once first enabled, the registry. */
export class MetricsEndpoint {
  private spec: MetricsSpec | null = null;
  private server: MetricsServer | null = null;
  private failure: KportError | null = null;
  /** Loaded on first use and kept: the registry's counters and default collectors outlive a disabled section. */
  private metrics: KportMetrics | null = null;
  private readonly changes = new Serial();
  private closed = false;

  constructor(private readonly deps: MetricsDeps) {}

  /** Counts what `core` records from now on (errors by code, stream-open times) whenever metrics are loaded. */
  observe(core: SessionCore): void {
    const { name, kind } = core.spec;
    core.on('errorRecorded', (code: ErrorCode) => this.metrics?.recordError(name, kind, code));
    core.on('streamOpened', (ms: number) => this.metrics?.observeStreamOpen(name, kind, ms));
  }

  /**
   * Serves as `spec` says (null: not at all). The same spec changes nothing, unless the last attempt failed: then
   * it binds again, so `kportctl reload` retries a port that was in use. Never throws; a no-op once closed.
   */
  apply(spec: MetricsSpec | null): Promise<void> {
    return this.changes.run(async () => {
      if (!this.closed) await this.serve(spec);
    });
  }

  /** For `daemon.status`: null when no metrics are configured. */
  status(): MetricsStatus | null {
    if (this.spec === null) return null;
    const error = this.failure && { code: this.failure.code, message: this.failure.message };
    return { address: this.spec.address, port: this.spec.port, url: this.server?.url ?? null, error };
  }

  /** Stops serving for good (shutdown): a reload still under way cannot start it again. */
  close(): Promise<void> {
    this.closed = true;
    return this.changes.run(() => this.serve(null));
  }

  private async serve(spec: MetricsSpec | null): Promise<void> {
    if (sameSpec(spec, this.spec) && this.failure === null) return;
    await this.closeServer();
    this.spec = spec;
    this.failure = null;
    if (spec === null) return;
    try {
      this.server = await serveMetrics(spec.address, spec.port, await this.load(), this.deps.log);
      this.deps.log.info({ url: this.server.url }, 'serving metrics');
    } catch (err) {
      this.failure = toKportError(err);
      const address = formatHostPort(spec.address, spec.port);
      this.deps.log.error({ code: this.failure.code, err: this.failure.message, address }, 'cannot serve metrics');
    }
  }

  private async load(): Promise<KportMetrics> {
    if (this.metrics) return this.metrics;
    const { KportMetrics } = await import('./registry.js');
    this.metrics ??= new KportMetrics(this.deps.sessions, this.deps.version);
    return this.metrics;
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await server.close();
    this.deps.log.info({ url: server.url }, 'stopped serving metrics');
  }
}

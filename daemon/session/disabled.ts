/**
 * A session that is listed (so it is visible) but never started: declared with `enabled: false`, disabled with
 * kportctl disable, or added with kportctl and displaced by kport.yaml (it clashes with the file: its error says where).
 */
import type { Logger } from 'pino';
import type { SessionSpec } from '../../config/types.js';
import type { KportError } from '../api/errors.js';
import type { SessionSource } from '../api/session.js';
import { SessionCore } from './core.js';
import type { Session } from './session.js';

/** Stays `stopped`, saying why. */
export class DisabledSession implements Session {
  readonly core: SessionCore;

  constructor(
    spec: SessionSpec,
    source: SessionSource,
    log: Logger,
    private readonly conflict: KportError | null,
    /** Disabled by kportctl disable rather than by its declaration. */
    private readonly byKportctl = false,
  ) {
    this.core = new SessionCore(spec, source, log);
  }

  async start(): Promise<void> {
    const name = this.core.spec.name;
    if (this.conflict === null && this.byKportctl) return this.core.transition('stopped', `disabled with kportctl disable; kportctl enable ${name} starts it again`);
    if (this.conflict === null) return this.core.transition('stopped', `disabled (enabled: false); kportctl enable ${name} starts it`);
    this.core.recordError(this.conflict);
    this.core.transition('stopped', `not started: ${this.conflict.message}`);
  }

  async stop(): Promise<void> {}
}

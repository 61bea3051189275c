/** A session declared with `enabled: false`: listed (so it is visible) but never started. */
import type { Logger } from 'pino';
import type { SessionSpec } from '../../config/types.js';
import type { SessionSource } from '../api/session.js';
import { SessionCore } from './core.js';
import type { Session } from './session.js';

/** Stays `stopped`, saying why. */
export class DisabledSession implements Session {
  readonly core: SessionCore;

  constructor(spec: SessionSpec, source: SessionSource, log: Logger) {
    this.core = new SessionCore(spec, source, log);
  }

  async start(): Promise<void> {
    this.core.transition('stopped', 'disabled (enabled: false)');
  }

  async stop(): Promise<void> {}
}

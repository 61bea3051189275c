/** How a pod stream (any transport's PodStream) ended, for tests that script its server. */
import type { Readable } from 'node:stream';
import type { KportError } from '../../daemon/api/errors.js';

/** Resolves with how a stream ended: 'end', or the error. Starts it flowing. */
export function outcome(s: Readable): Promise<'end' | KportError> {
  return new Promise((resolve) => {
    s.on('error', (err) => resolve(err as KportError));
    s.on('end', () => resolve('end'));
    s.resume();
  });
}

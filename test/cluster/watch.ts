/**
 * Watch streams (`?watch=1`): newline-delimited JSON events from a resourceVersion on,
 * with selector transitions (an object that starts matching is ADDED, one that stops is
 * DELETED), BOOKMARKs on request, and a 410 Gone ERROR event for a compacted resourceVersion.
 */
import type { ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from './resources.js';
import type { LabelPredicate } from './selectors.js';
import { ApiError } from './status.js';
import type { KubeObject, ObjectStore, StoreEvent } from './store.js';
import { toTable } from './tables.js';

/** What a watch request asked for. */
export interface WatchRequest {
  type: ResourceType;
  namespace: string | null;
  labels: LabelPredicate;
  fields: (o: object) => boolean;
  resourceVersion: string | undefined;
  table: boolean;
  bookmarks: boolean;
  /** Ends the watch after this long (timeoutSeconds, or the expire-watches fault). */
  timeoutMs: number | null;
  bookmarkMs: number;
}

type EventType = StoreEvent['type'] | 'BOOKMARK' | 'ERROR';

/** Streams a watch on `res` until the client goes, the timeout passes or `stop()` is called. */
export function serveWatch(store: ObjectStore, res: ServerResponse, w: WatchRequest): { stop: () => void } {
  const matches = (o: KubeObject | undefined) =>
    o !== undefined && (w.namespace === null || o.metadata.namespace === w.namespace) && w.labels(o.metadata.labels) && w.fields(o);
  const write = (type: EventType, object: object) => {
    const body = w.table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')
      ? toTable(w.type.kind, [object as KubeObject], (object as KubeObject).metadata.resourceVersion)
      : object;
    res.write(`${JSON.stringify({ type, object: body })}\n`);
  };
  const deliver = (e: StoreEvent) => {
    if (e.resource !== w.type) return;
    const now = matches(e.object);
    const before = e.type === 'MODIFIED' ? matches(e.previous) : now;
    if (e.type === 'MODIFIED' && before !== now) write(now ? 'ADDED' : 'DELETED', e.object);
    else if (now) write(e.type, e.object);
  };

  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const rv = w.resourceVersion;
  if (rv === undefined || rv === '' || rv === '0') {
    for (const o of store.list(w.type, w.namespace)) if (matches(o)) write('ADDED', o);
  } else {
    const history = store.since(w.type, Number(rv));
    if (history === 'expired') {
      const gone = new ApiError(410, 'Expired', `too old resource version: ${rv} (${store.oldestRv()})`);
      write('ERROR', gone.toStatus());
      res.end();
      return { stop: () => {} };
    }
    history.forEach(deliver);
  }

  const unsubscribe = store.subscribe(deliver);
  const timers: NodeJS.Timeout[] = [];
  const stop = () => {
    unsubscribe();
    timers.forEach(clearTimeout);
    if (!res.writableEnded) res.end();
  };
  if (w.bookmarks) {
    const tick = setInterval(() => write('BOOKMARK', { kind: w.type.kind, apiVersion: apiVersionOf(w.type), metadata: { resourceVersion: String(store.currentRv()) } }), w.bookmarkMs);
    timers.push(tick);
  }
  if (w.timeoutMs !== null) timers.push(setTimeout(stop, w.timeoutMs));
  res.on('close', stop);
  return { stop };
}

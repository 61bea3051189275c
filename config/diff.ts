/** What changed between two desired states, by session name: what the daemon's live reload acts on. */
import { isDeepStrictEqual } from 'node:util';
import type { DesiredState, SessionSpec } from './types.js';

/** Sessions sorted by what a reload has to do with them. */
export interface StateDiff {
  added: SessionSpec[];
  removed: SessionSpec[];
  changed: { before: SessionSpec; after: SessionSpec }[];
  unchanged: SessionSpec[];
}

/** Every session of a state, forwards first, then proxies and gateways, in file order. */
export function sessionsOf(state: DesiredState): SessionSpec[] {
  return [...state.forwards, ...state.proxies, ...state.gateways];
}

/**
 * Compares by name (names are unique across every kind of session): equal specs are unchanged, whatever their key
 * order; a renamed session is one removed and one added; a forward that became a proxy of the same name is changed.
 */
export function diffSessions(before: SessionSpec[], after: SessionSpec[]): StateDiff {
  const old = new Map(before.map((s) => [s.name, s]));
  const now = new Set(after.map((s) => s.name));
  const diff: StateDiff = { added: [], removed: before.filter((s) => !now.has(s.name)), changed: [], unchanged: [] };
  for (const spec of after) {
    const was = old.get(spec.name);
    if (was === undefined) diff.added.push(spec);
    else if (isDeepStrictEqual(was, spec)) diff.unchanged.push(spec);
    else diff.changed.push({ before: was, after: spec });
  }
  return diff;
}

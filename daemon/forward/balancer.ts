/**
 * Which ready pod takes the next connection: `round-robin` spreads connections over every ready
 * pod; `first` is kubectl's choice — the pod ready the longest — kept for as long as it stays ready.
 */
import type { ForwardSpec } from '../../config/types.js';
import type { Pod } from '../kube/objects.js';

/** Chooses a pod among the ready candidates (never empty). */
export interface Balancer {
  pick(ready: readonly Pod[]): Pod;
}

/** Cycles through the candidates in name order. */
class RoundRobin implements Balancer {
  private next = 0;

  pick(ready: readonly Pod[]): Pod {
    return ready[this.next++ % ready.length]!;
  }
}

const readySince = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '';

/** kubectl's pick (the most "active" pod: ready the longest, then oldest), sticky while it stays ready. */
class First implements Balancer {
  private current: string | null = null;

  pick(ready: readonly Pod[]): Pod {
    const kept = ready.find((p) => p.metadata.name === this.current);
    if (kept) return kept;
    const chosen = [...ready].sort(
      (a, b) =>
        readySince(a).localeCompare(readySince(b)) ||
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    )[0]!;
    this.current = chosen.metadata.name;
    return chosen;
  }
}

/** The balancer a forward asked for. */
export function balancerFor(balance: ForwardSpec['balance']): Balancer {
  return balance === 'first' ? new First() : new RoundRobin();
}

/**
 * May this context's user port-forward in a namespace? Asked of the API server with a
 * SelfSubjectAccessReview before a forward says `ready`, so a forward that cannot work fails at
 * once instead of on its first connection. Answers are cached per namespace and verb for
 * ANSWER_TTL_MS, and forgotten after a 403 or a change of credentials. A cluster that will not
 * answer (old, or reviews forbidden) gives `null`: then the first stream's answer decides.
 */
import type { TransportChoice } from '../../config/types.js';
import { KportError } from '../api/errors.js';
import type { KubeClient } from './client.js';

/** The verb a transport's upgrade needs on pods/portforward: SPDY is a POST, WebSockets are GETs. */
export type PortForwardVerb = 'create' | 'get';

/** What the API server said; `allowed: null` when it would not say. */
export interface AccessAnswer {
  allowed: boolean | null;
  reason: string;
}

const ANSWER_TTL_MS = 5 * 60_000;

interface ReviewResponse {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

/** One per client: the review cache. */
export class AccessReviews {
  private readonly answers = new Map<string, { at: number; answer: Promise<AccessAnswer> }>();

  constructor(private readonly client: KubeClient) {}

  /** Whether the user may use `verb` on pods/portforward in `namespace` (cached). */
  mayPortForward(namespace: string, verb: PortForwardVerb): Promise<AccessAnswer> {
    const key = `${namespace}\n${verb}`;
    const cached = this.answers.get(key);
    if (cached && Date.now() - cached.at < ANSWER_TTL_MS) return cached.answer;
    const answer = this.ask(namespace, verb);
    this.answers.set(key, { at: Date.now(), answer });
    // An unanswered review is not worth keeping: ask again next time.
    void answer.then((a) => a.allowed === null && this.answers.get(key)?.answer === answer && this.answers.delete(key));
    return answer;
  }

  /** Forgets every answer (a 403 on a stream, or new credentials). */
  forget(): void {
    this.answers.clear();
  }

  private async ask(namespace: string, verb: PortForwardVerb): Promise<AccessAnswer> {
    const body = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace, verb, group: '', resource: 'pods', subresource: 'portforward' } },
    };
    try {
      const r = await this.client.request<ReviewResponse>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { method: 'POST', body, timeoutMs: 10_000 });
      const allowed = r.status?.allowed === true;
      return { allowed, reason: r.status?.reason ?? '' };
    } catch {
      return { allowed: null, reason: 'the API server did not answer a SelfSubjectAccessReview' };
    }
  }
}

/** The verbs a transport may upgrade with: SPDY is a POST (`create`), WebSockets are GETs (`get`); auto works with either. */
function verbsFor(transport: TransportChoice): PortForwardVerb[] {
  return transport === 'spdy' ? ['create'] : transport === 'auto' ? ['create', 'get'] : ['get'];
}

/**
 * Whether the user may port-forward in `namespace` over `transport`: `allowed` when any verb it can use is allowed
 * (or the cluster will not say: then the first stream's answer decides), else FORBIDDEN naming context and namespace.
 */
export async function portForwardVerdict(client: KubeClient, namespace: string, transport: TransportChoice): Promise<'allowed' | KportError> {
  const verbs = verbsFor(transport);
  let reason = '';
  for (const verb of verbs) {
    const answer = await client.access.mayPortForward(namespace, verb);
    if (answer.allowed !== false) return 'allowed';
    reason = answer.reason;
  }
  const why = `SelfSubjectAccessReview${reason ? `: ${reason}` : ''}`;
  return new KportError('FORBIDDEN', `forbidden: the user of context "${client.context}" may not ${verbs.join(' or ')} pods/portforward in namespace "${namespace}" (${why})`);
}

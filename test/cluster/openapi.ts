/**
 * Just enough OpenAPI v3 for kubectl: `kubectl create -f` asks whether the server validates
 * fields itself (a `fieldValidation` query parameter on each kind's PATCH operation) before it
 * falls back to downloading full schemas. Saying yes lets kubectl send `fieldValidation=Strict`.
 */
import { apiVersionOf, type ResourceType } from './resources.js';

const prefixOf = (t: ResourceType) => (t.group === '' ? 'api/v1' : `apis/${t.group}/${t.version}`);

/** The `/openapi/v3` index: one entry per group/version. */
export function openApiRoot(types: readonly ResourceType[]): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const t of types) paths[prefixOf(t)] = { serverRelativeURL: `/openapi/v3/${prefixOf(t)}?hash=${apiVersionOf(t).replace('/', '-')}` };
  return { paths };
}

/** The document for one group/version (`/openapi/v3/api/v1`), or undefined. */
export function openApiGroupVersion(types: readonly ResourceType[], prefix: string): object | undefined {
  const served = types.filter((t) => prefixOf(t) === prefix);
  if (served.length === 0) return undefined;
  const paths: Record<string, object> = {};
  for (const t of served) {
    const path = `/${prefix}/${t.namespaced ? 'namespaces/{namespace}/' : ''}${t.plural}/{name}`;
    paths[path] = {
      patch: {
        operationId: `patch${t.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (kport simulator)', version: 'v1.31.0' }, paths };
}

/**
 * The resource types the simulator serves: the single table that discovery, routing and
 * the object store all read, so a resource exists everywhere or nowhere.
 */

/** One served resource type (a row of an APIResourceList plus what routing needs). */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Subresources served under this resource (discovery lists them as "plural/sub"). */
  subresources: { name: string; kind: string; verbs: string[] }[];
}

const VERBS = ['create', 'delete', 'get', 'list', 'watch'];

function type(
  group: string,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[],
  subresources: ResourceType['subresources'] = [],
): ResourceType {
  return { group, version, plural, singular: kind.toLowerCase(), kind, namespaced, shortNames, subresources };
}

/** Every resource type the simulator knows, in discovery order. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  type('', 'v1', 'namespaces', 'Namespace', false, ['ns']),
  type('', 'v1', 'pods', 'Pod', true, ['po'], [
    { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
    { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'log', kind: 'Pod', verbs: ['get'] },
  ]),
  type('', 'v1', 'services', 'Service', true, ['svc'], [
    { name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ]),
  type('', 'v1', 'endpoints', 'Endpoints', true, ['ep']),
  type('apps', 'v1', 'deployments', 'Deployment', true, ['deploy']),
  type('apps', 'v1', 'replicasets', 'ReplicaSet', true, ['rs']),
  type('apps', 'v1', 'statefulsets', 'StatefulSet', true, ['sts']),
  type('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true, []),
  type('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, []),
];

/** The apiVersion string of a type: "v1" or "group/version". */
export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** Finds a type by group and plural among the types this cluster serves. */
export function findType(types: readonly ResourceType[], group: string, plural: string): ResourceType | undefined {
  return types.find((t) => t.group === group && t.plural === plural);
}

/** Finds a type by apiVersion and kind (for POSTed objects). */
export function typeForKind(types: readonly ResourceType[], apiVersion: string, kind: string): ResourceType | undefined {
  return types.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}

/** The APIResourceList for one group/version, as `GET /api/v1` and `GET /apis/G/V` return it. */
export function resourceList(types: readonly ResourceType[], group: string, version: string): object | undefined {
  const rows = types.filter((t) => t.group === group && t.version === version);
  if (rows.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: rows.flatMap((t) => [
      {
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: VERBS,
        shortNames: t.shortNames.length > 0 ? t.shortNames : undefined,
        categories: t.namespaced && t.kind !== 'EndpointSlice' && t.kind !== 'Endpoints' ? ['all'] : undefined,
      },
      ...t.subresources.map((s) => ({
        name: `${t.plural}/${s.name}`,
        singularName: '',
        namespaced: t.namespaced,
        kind: s.kind,
        verbs: s.verbs,
      })),
    ]),
  };
}

/** The APIGroupList for `GET /apis` (every group but the core one). */
export function groupList(types: readonly ResourceType[]): object {
  const groups = new Map<string, string[]>();
  for (const t of types) {
    if (t.group === '') continue;
    const versions = groups.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    groups.set(t.group, versions);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => {
      const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
      return { name, versions: list, preferredVersion: list[0] };
    }),
  };
}

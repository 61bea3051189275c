/**
 * API paths → what they address: discovery documents, a collection, an object, or an
 * object's subresource (`pods/web-0/portforward`, `services/web:80/proxy/some/path`).
 */
import { openApiGroupVersion, openApiRoot } from './openapi.js';
import { findType, groupList, resourceList, type ResourceType } from './resources.js';
import { ApiError } from './status.js';

/** A parsed request path. */
export type Route =
  | { kind: 'document'; body: object }
  | { kind: 'collection'; type: ResourceType; namespace: string | null }
  | { kind: 'object'; type: ResourceType; namespace: string | undefined; name: string }
  | { kind: 'subresource'; type: ResourceType; namespace: string | undefined; name: string; sub: string; rest: string };

/** The 404 every unknown path gets. */
export const NOT_SERVED = new ApiError(404, 'NotFound', 'the server could not find the requested resource');

/** Parses a path against the served types; throws NOT_SERVED for anything else. */
export function parseRoute(pathname: string, types: readonly ResourceType[], versionInfo: object): Route {
  const segments = pathname.split('/').slice(1);
  if (pathname === '/version') return { kind: 'document', body: versionInfo };
  if (pathname === '/api') return { kind: 'document', body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
  if (pathname === '/apis') return { kind: 'document', body: groupList(types) };
  if (pathname === '/openapi/v3') return { kind: 'document', body: openApiRoot(types) };
  if (pathname.startsWith('/openapi/v3/')) {
    const doc = openApiGroupVersion(types, pathname.slice('/openapi/v3/'.length));
    if (!doc) throw NOT_SERVED;
    return { kind: 'document', body: doc };
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments[1] === 'v1') [group, version, rest] = ['', 'v1', segments.slice(2)];
  else if (segments[0] === 'apis' && segments.length >= 3) [group, version, rest] = [segments[1]!, segments[2]!, segments.slice(3)];
  else if (segments[0] === 'apis' && segments.length === 2) {
    const g = (groupList(types) as { groups: { name: string }[] }).groups.find((x) => x.name === segments[1]);
    if (!g) throw NOT_SERVED;
    return { kind: 'document', body: { kind: 'APIGroup', apiVersion: 'v1', ...g } };
  } else throw NOT_SERVED;

  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) {
    const list = resourceList(types, group, version);
    if (!list) throw NOT_SERVED;
    return { kind: 'document', body: list };
  }
  // Namespaced paths: namespaces/NS/PLURAL[/NAME[/SUB[/REST...]]]; `namespaces/NS` alone is the Namespace object.
  let namespace: string | undefined;
  let at = 0;
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== '') {
    namespace = rest[1];
    at = 2;
  }
  const [plural, name, sub] = [rest[at]!, rest[at + 1], rest[at + 2]];
  const type = findType(types, group, plural);
  if (!type || (namespace !== undefined && !type.namespaced)) throw NOT_SERVED;
  if (name === undefined || name === '') {
    return { kind: 'collection', type, namespace: type.namespaced ? namespace ?? null : null };
  }
  if (type.namespaced && namespace === undefined) throw NOT_SERVED;
  if (sub === undefined) return { kind: 'object', type, namespace, name: decodeURIComponent(name) };
  const consumed = ['', ...segments.slice(0, segments.length - rest.length), ...rest.slice(0, at + 3)].join('/');
  return { kind: 'subresource', type, namespace, name: decodeURIComponent(name), sub, rest: pathname.slice(consumed.length) };
}

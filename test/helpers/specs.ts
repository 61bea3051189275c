/**
 * Resolved session specs for tests. kport's defaults are written out here rather than taken from
 * config/defaults.ts, so a changed default fails the tests that rely on it.
 */
import type { ForwardSpec, GatewaySpec, ProxySpec } from '../../config/types.js';

/** A forward with every default: service/NAME on 8080:80, context dev, namespace default. */
export function forwardSpec(name: string, over: Partial<ForwardSpec> = {}): ForwardSpec {
  return {
    kind: 'forward',
    name,
    context: 'dev',
    kubeconfig: null,
    namespace: 'default',
    target: { kind: 'service', name },
    ports: [{ local: 8080, remote: 80, spec: '8080:80' }],
    addresses: ['127.0.0.1'],
    exposed: false,
    balance: 'round-robin',
    connectTimeoutMs: 30_000,
    transport: 'auto',
    enabled: true,
    ...over,
  };
}

/** A proxy with kubectl proxy's defaults, on port 8001, context dev. */
export function proxySpec(name: string, over: Partial<ProxySpec> = {}): ProxySpec {
  return {
    kind: 'proxy',
    name,
    context: 'dev',
    kubeconfig: null,
    port: 8001,
    addresses: ['127.0.0.1'],
    exposed: false,
    unixSocket: null,
    apiPrefix: '/',
    acceptPaths: ['^.*'],
    rejectPaths: ['^/api/.*/pods/.*/exec', '^/api/.*/pods/.*/attach'],
    acceptHosts: ['^localhost$', '^127\\.0\\.0\\.1$', '^\\[::1\\]$'],
    rejectMethods: ['^$'],
    disableFilter: false,
    www: null,
    wwwPrefix: '/static/',
    enabled: true,
    ...over,
  };
}

/** A gateway with every default: port 1080, context dev, namespace default, cluster.local. */
export function gatewaySpec(name: string, over: Partial<GatewaySpec> = {}): GatewaySpec {
  return {
    kind: 'gateway',
    name,
    context: 'dev',
    kubeconfig: null,
    namespace: 'default',
    port: 1080,
    addresses: ['127.0.0.1'],
    exposed: false,
    clusterDomain: 'cluster.local',
    namespaces: null,
    connectTimeoutMs: 30_000,
    transport: 'auto',
    namespaceIdleMs: 300_000,
    enabled: true,
    ...over,
  };
}

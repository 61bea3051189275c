/**
 * Every default of kport.yaml in one literal. The schema shows them to editors; resolve.ts merges them once;
 * nothing downstream applies a default again. The proxy's filters are kubectl proxy's own defaults.
 */
import { LOOPBACK } from './addresses.js';

/** The defaults, as values of the resolved spec. */
export const DEFAULTS = {
  addresses: [LOOPBACK],
  namespace: 'default',
  connectTimeoutMs: 30_000,
  balance: 'round-robin',
  transport: 'auto',
  enabled: true,
  proxy: {
    port: 8001,
    apiPrefix: '/',
    acceptPaths: ['^.*'],
    rejectPaths: ['^/api/.*/pods/.*/exec', '^/api/.*/pods/.*/attach'],
    acceptHosts: ['^localhost$', '^127\\.0\\.0\\.1$', '^\\[::1\\]$'],
    rejectMethods: ['^$'],
    disableFilter: false,
    wwwPrefix: '/static/',
  },
  gateway: {
    port: 1080,
    clusterDomain: 'cluster.local',
    namespaceIdleMs: 300_000,
  },
  metrics: {
    address: LOOPBACK,
  },
} as const;

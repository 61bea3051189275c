/**
 * The one definition of kport.yaml: validation, the parsed types (z.output) and the JSON Schema for editors all come
 * from here. Values are parsed as they are checked (port specs, targets, addresses, durations), so what passes is
 * already typed; defaults that depend on other keys (context, namespace, address) are merged later, in resolve.ts.
 */
import * as z from 'zod';
import { overlaps, parseAddress, parseOneAddress } from './addresses.js';
import { DEFAULTS } from './defaults.js';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { fail, pass, quote, type Checked } from './issues.js';
import {
  checkContextName,
  checkLabelKey,
  checkLabelValue,
  checkName,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  SESSION_NAME,
  type NameRule,
} from './names.js';
import { checkPortNumber, LOCAL_PORT_RANGE, parsePortSpec, PORT_SPEC_PATTERN, REMOTE_PORT_RANGE } from './ports.js';
import { isMapping } from './source.js';
import { parseTarget, TARGET_PATTERN } from './target.js';
import { TRANSPORT_CHOICES } from './types.js';

/**
 * `base`, then `check` parsing what base accepted into the value passed on; a failed check's message becomes the
 * issue. Defaults and examples for editors go on `base`: zod drops them from transforming schemas.
 */
function parsed<B extends z.ZodType, T>(base: B, check: (value: z.output<B>) => Checked<T>) {
  return base.transform((value, ctx): T => {
    const result = check(value);
    if (result.ok) return result.value;
    ctx.issues.push({ code: 'custom', message: result.message, input: value });
    return z.NEVER;
  });
}

/** `base`, then `check` accepting or refusing the value as it is. */
function valid<B extends z.ZodType>(base: B, check: (value: z.output<B>) => Checked<unknown>) {
  return base.superRefine((value, ctx) => {
    const result = check(value);
    if (!result.ok) ctx.addIssue({ code: 'custom', message: result.message, input: value });
  });
}

/** A string following a Kubernetes-style name rule, with the rule's pattern shown to editors. */
function named(rule: NameRule, noun: string, description: string) {
  return valid(z.string(), (v) => checkName(rule, noun, v)).meta({
    description,
    pattern: rule.pattern.source,
    maxLength: rule.max,
  });
}

/** One item or a list of at least one: `address: 127.0.0.1` and `address: [127.0.0.1, ::1]` alike. */
function oneOrMore<S extends z.ZodType>(item: S) {
  return z.union([item, z.array(item).min(1)]);
}

function checkRegex(source: string): Checked<string> {
  try {
    new RegExp(source);
    return pass(source);
  } catch (e) {
    const why = String((e as Error).message).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return fail(`${quote(source)} is not a valid regular expression: ${why}`);
  }
}

function checkUrlPrefix(prefix: string): Checked<string> {
  return prefix.startsWith('/') ? pass(prefix) : fail(`${quote(prefix)} must start with "/"`);
}

function checkPath(path: string): Checked<string> {
  return path === '' ? fail('path cannot be empty') : pass(path);
}

const sessionName = named(SESSION_NAME, 'name', 'Unique name of this forward, proxy or gateway, across all three; kportctl uses it.');

const context = (description: string) => valid(z.string(), checkContextName).meta({ description });

const namespace = (description: string) => named(DNS1123_LABEL, 'namespace', description);

const address = parsed(z.string(), parseAddress);

/** Bind addresses: canonical text, no two overlapping (the same, or one a wildcard covering the other). */
const addresses = (description: string) =>
  oneOrMore(address)
    .transform((written, ctx) => {
      // One address parses to a list (localhost is two); a list of them to a list of lists.
      const single = !Array.isArray(written[0]);
      const groups = single ? [written as string[]] : (written as string[][]);
      const list: string[] = [];
      groups.forEach((group, i) => {
        for (const a of group) {
          const earlier = list.findIndex((b) => overlaps(a, b));
          list.push(a);
          if (earlier === -1) continue;
          const b = list[earlier]!;
          const how = a === b ? 'is already in this list' : `overlaps ${b}`;
          const from = groups.findIndex((g) => g.includes(b));
          ctx.issues.push({ code: 'custom', path: single ? [] : [i], message: `${a} ${how} (address[${from}])`, input: a });
        }
      });
      return list;
    })
    .meta({
      description: `${description} IPv4 or IPv6 literals, or localhost (127.0.0.1 and ::1); a non-loopback address exposes the session to the network.`,
    });

const duration = (description: string, fallback = `${DEFAULTS.connectTimeoutMs / 1000}s`) =>
  parsed(
    z
      .union([z.string().meta({ pattern: DURATION_PATTERN.source }), z.number().meta({ exclusiveMinimum: 0 })])
      .meta({ default: fallback, examples: ['500ms', '30s', '2m', 10] }),
    parseDuration,
  ).meta({ description: `${description} Seconds, or text such as "500ms", "30s", "2m", "1h".` });

const transport = (more: string) =>
  z.enum(TRANSPORT_CHOICES).meta({
    description: `How connections reach the pod: auto (SPDY as kubectl, then SPDY in a WebSocket, then one WebSocket per connection; what works is remembered per cluster), spdy, spdy-websocket or websocket. ${more}`,
    default: DEFAULTS.transport,
  });

const portSpec = parsed(
  z
    .union([
      z.string().meta({ pattern: PORT_SPEC_PATTERN.source }),
      z.int().meta({ minimum: REMOTE_PORT_RANGE.min, maximum: REMOTE_PORT_RANGE.max }),
    ])
    .meta({ examples: ['8080:80', '8443:https', '5432', ':80'] }),
  parsePortSpec,
).meta({
  description:
    'LOCAL:REMOTE. REMOTE may be a port name; "5432" uses the same number both sides; ":80" or "0:80" takes any free local port.',
});

const target = parsed(z.string(), parseTarget).meta({
  description:
    'What to forward to: pod/NAME, service/NAME (svc/), deployment/NAME (deploy/), statefulset/NAME (sts/), ' +
    'replicaset/NAME (rs/). Exactly one of target and selector.',
  pattern: TARGET_PATTERN.source,
});

const selector = z
  .record(valid(z.string(), checkLabelKey), valid(z.string(), checkLabelValue))
  .refine((labels) => Object.keys(labels).length > 0, 'a selector needs at least one label')
  .meta({
    description: 'Labels of the pods to forward to (any ready pod matching all). Exactly one of target and selector.',
    minProperties: 1,
  });

const regexList = (description: string, fallback: readonly string[]) =>
  z.array(valid(z.string(), checkRegex)).meta({ description, default: [...fallback] });

const urlPrefix = (description: string, fallback: string) =>
  valid(z.string(), checkUrlPrefix).meta({ description, default: fallback });

const path = (description: string) => valid(z.string(), checkPath).meta({ description });

/** A local port number; 0 asks the system for any free port. */
const localPort = (description: string, fallback?: number) =>
  valid(z.int(), (n) => checkPortNumber(n, LOCAL_PORT_RANGE, 'port')).meta({
    description,
    ...(fallback === undefined ? {} : { default: fallback }),
    minimum: LOCAL_PORT_RANGE.min,
    maximum: LOCAL_PORT_RANGE.max,
  });

const enabled = z.boolean().meta({
  description: 'false declares the session without starting it (kportctl enable NAME starts it; kportctl disable NAME stops one).',
  default: DEFAULTS.enabled,
});

// Zod skips object-level checks once a field has failed; these run anyway, so one pass reports every problem.
const whenObject = { when: (p: { value: unknown }) => isMapping(p.value) };

const isSet = (v: unknown) => v !== undefined && v !== null;

/** Kubeconfig file(s): a path or a list, ~ and $VAR expanded, relative to kport.yaml. */
const kubeconfigFiles = (description: string) =>
  oneOrMore(path('A kubeconfig file; ~ and $VAR are expanded; relative to this file.')).meta({ description });

const inherited = {
  context: "A context of the kubeconfig. Default: defaults.context, else the kubeconfig's current-context.",
  address: 'Local bind address(es). Default: defaults.address, else 127.0.0.1.',
  kubeconfig:
    "This session's own kubeconfig file(s), instead of the file's kubeconfig (kportctl add records its --kubeconfig or $KUBECONFIG here).",
};

/** One `forwards[]` entry as written. */
export const forwardSchema = z
  .strictObject({
    name: sessionName,
    target: target.optional(),
    selector: selector.optional(),
    ports: z.array(portSpec).min(1).meta({ description: 'Port specs; at least one.' }),
    context: context(inherited.context).optional(),
    kubeconfig: kubeconfigFiles(inherited.kubeconfig).optional(),
    namespace: namespace(
      "Namespace of the target. Default: defaults.namespace, else the context's namespace, else \"default\".",
    ).optional(),
    address: addresses(inherited.address).optional(),
    balance: z.enum(['round-robin', 'first']).optional().meta({
      description:
        "How connections spread over ready pods: round-robin, or first (kubectl's behaviour: one pod until it goes away).",
      default: DEFAULTS.balance,
    }),
    connectTimeout: duration(
      'How long a new connection waits for a ready pod. Default: defaults.connectTimeout, else 30s.',
    ).optional(),
    transport: transport('Default: defaults.transport, else auto.').optional(),
    enabled: enabled.optional(),
  })
  .superRefine((entry, ctx) => {
    if (isSet(entry.target) && isSet(entry.selector)) {
      ctx.addIssue({ code: 'custom', path: ['selector'], message: 'set either target or selector, not both' });
    } else if (entry.target === undefined && entry.selector === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs a target (KIND/NAME) or a selector' });
    }
  }, whenObject)
  .meta({ description: 'A port-forward kept alive by kportd.' });

/** One `proxies[]` entry as written: kubectl proxy's options. */
export const proxySchema = z
  .strictObject({
    name: sessionName,
    context: context(inherited.context).optional(),
    kubeconfig: kubeconfigFiles(inherited.kubeconfig).optional(),
    port: localPort('Local port; 0 takes any free port.', DEFAULTS.proxy.port).optional(),
    address: addresses(inherited.address).optional(),
    unixSocket: path('Listen on this Unix socket instead of a TCP port (~ and ${VAR} are expanded).').optional(),
    apiPrefix: urlPrefix('URL prefix under which the API is served.', DEFAULTS.proxy.apiPrefix).optional(),
    acceptPaths: regexList('Regular expressions of paths to accept.', DEFAULTS.proxy.acceptPaths).optional(),
    rejectPaths: regexList(
      'Regular expressions of paths to reject (wins over acceptPaths).',
      DEFAULTS.proxy.rejectPaths,
    ).optional(),
    acceptHosts: regexList('Regular expressions of Host headers to accept.', DEFAULTS.proxy.acceptHosts).optional(),
    rejectMethods: regexList('Regular expressions of HTTP methods to reject.', DEFAULTS.proxy.rejectMethods).optional(),
    disableFilter: z.boolean().optional().meta({
      description: 'Turn the path/host/method filter off. Dangerous: any local web page can then use your credentials.',
      default: DEFAULTS.proxy.disableFilter,
    }),
    www: path('Also serve static files from this folder, under wwwPrefix.').optional(),
    wwwPrefix: urlPrefix('URL prefix for the www files.', DEFAULTS.proxy.wwwPrefix).optional(),
    enabled: enabled.optional(),
  })
  .superRefine((entry, ctx) => {
    if (!isSet(entry.unixSocket)) return;
    for (const key of ['port', 'address'] as const) {
      if (isSet(entry[key])) {
        const message = `a proxy on a unixSocket has no ${key}: remove one of the two`;
        ctx.addIssue({ code: 'custom', path: [key], message });
      }
    }
  }, whenObject)
  .meta({ description: 'An API proxy, like kubectl proxy, kept alive by kportd.' });

/** A list of `key` with no item twice (`namespaces: [a, a]` is a slip). */
function distinct<S extends z.ZodType<string>>(key: string, item: S) {
  return z.array(item).superRefine((list, ctx) => {
    list.forEach((v, i) => {
      const earlier = list.indexOf(v);
      if (earlier < i) ctx.addIssue({ code: 'custom', path: [i], message: `${quote(v)} is already in this list (${key}[${earlier}])`, input: v });
    });
  });
}

/** One `gateways[]` entry as written: a SOCKS5 and HTTP proxy port that reaches services by their cluster names. */
export const gatewaySchema = z
  .strictObject({
    name: sessionName,
    port: localPort('Local port speaking SOCKS5 and HTTP proxy; 0 takes any free port.', DEFAULTS.gateway.port).optional(),
    address: addresses(inherited.address).optional(),
    context: context(inherited.context).optional(),
    kubeconfig: kubeconfigFiles(inherited.kubeconfig).optional(),
    namespace: namespace(
      'Namespace of bare names (`web`). Default: defaults.namespace, else the context\'s namespace, else "default".',
    ).optional(),
    clusterDomain: named(DNS1123_SUBDOMAIN, 'cluster domain', 'The cluster\'s DNS domain, as in SVC.NS.svc.DOMAIN.')
      .meta({ default: DEFAULTS.gateway.clusterDomain })
      .optional(),
    namespaces: distinct('namespaces', namespace('A namespace the gateway may reach.')).min(1).optional().meta({
      description: 'Only these namespaces may be reached (others are refused as not allowed). Default: every namespace.',
    }),
    connectTimeout: duration(
      'How long a new connection waits for a ready pod. Default: defaults.connectTimeout, else 30s.',
    ).optional(),
    transport: transport('Default: defaults.transport, else auto.').optional(),
    namespaceIdle: duration(
      "How long a namespace's watches keep running after its last connection closed.",
      `${DEFAULTS.gateway.namespaceIdleMs / 60_000}m`,
    ).optional(),
    enabled: enabled.optional(),
  })
  .meta({ description: 'A SOCKS5 and HTTP proxy port reaching every service by its cluster name, through port-forward streams.' });

/** The `defaults:` section as written. */
export const defaultsSchema = z
  .strictObject({
    context: context("Context for every session that sets none. Default: the kubeconfig's current-context.").optional(),
    namespace: namespace(
      'Namespace for every forward that sets none. Default: the namespace of its context, else "default".',
    ).optional(),
    address: addresses('Local bind address(es) for every session that sets none. Default: 127.0.0.1.').optional(),
    connectTimeout: duration('How long a new connection waits for a ready pod. Default: 30s.').optional(),
    transport: transport('For every forward that sets none. Default: auto.').optional(),
  })
  .meta({ description: 'Settings every forward and proxy inherits unless it sets its own.' });

/**
 * The `metrics:` section as written. One address, not a list like the sessions' binds: one HTTP server is all a
 * scraper needs. It does not inherit defaults.address: exposing forwards to a network is no reason to expose these.
 */
export const metricsSchema = z
  .strictObject({
    address: parsed(z.string().meta({ default: DEFAULTS.metrics.address }), parseOneAddress)
      .meta({
        description:
          'Bind address of the metrics server: an IPv4 or IPv6 literal, or localhost. A non-loopback address exposes the metrics to the network.',
      })
      .optional(),
    port: localPort('Port of the metrics server; 0 takes any free port (kportctl status shows it).'),
  })
  .meta({
    description:
      'Serve Prometheus metrics (GET /metrics) from kportd. Without this section (or with an empty one) there is no metrics server.',
  });

/** A whole kport.yaml as written. Empty sections (`forwards:` with nothing under it) are allowed. */
export const fileSchema = z
  .strictObject({
    kubeconfig: kubeconfigFiles('Kubeconfig file(s), merged as kubectl merges them. Default: $KUBECONFIG, else ~/.kube/config.').optional(),
    defaults: defaultsSchema.nullish(),
    forwards: z.array(forwardSchema).nullish(),
    proxies: z.array(proxySchema).nullish(),
    gateways: z.array(gatewaySchema).nullish(),
    metrics: metricsSchema.nullish(),
  })
  .meta({
    title: 'kport.yaml',
    description: 'Port-forwards, API proxies and cluster gateways that kportd keeps alive (see the kport README, "Configuration").',
  });

/** A forwards[] entry after validation. */
export type RawForward = z.output<typeof forwardSchema>;
/** A proxies[] entry after validation. */
export type RawProxy = z.output<typeof proxySchema>;
/** A gateways[] entry after validation. */
export type RawGateway = z.output<typeof gatewaySchema>;
/** The defaults section after validation. */
export type RawDefaults = z.output<typeof defaultsSchema>;
/** The metrics section after validation. */
export type RawMetrics = z.output<typeof metricsSchema>;
/** A whole file after validation. */
export type RawFile = z.output<typeof fileSchema>;

/**
 * Every rule of kport.yaml, fed a file that breaks it: the exact message, path, line and column a user sees.
 * The sandbox kubeconfig has contexts dev (current, namespace team) and staging.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfigText } from '../../config/load.js';
import { errorsOf, sandbox, warningsOf, type Sandbox } from './fixtures.js';

let box: Sandbox;
before(async () => {
  box = await sandbox();
});
after(() => box.cleanup());

interface Case {
  name: string;
  yaml: string;
  errors: string[];
  warnings?: string[];
  vars?: Record<string, string>;
}

const cases: Case[] = [
  // YAML itself.
  {
    name: 'a YAML syntax error',
    yaml: 'forwards:\n  - name: web\n    ports: ["8080:80"\n',
    errors: ['k.yaml:3:12: the list opened here with "[" is not closed: it needs a "]" (and lines inside it indented past its key)'],
  },
  {
    // yaml itself reports five errors for this, all on lines 5-6, and none where the mistake is.
    name: 'a missing "]" on line 4 is one error, on line 4, not the cascade after it',
    yaml: 'forwards:\n  - name: web\n    target: svc/web\n    ports: ["8080:80", "8443:443"\n  - name: db\n    target: sts/db\n    ports: ["5432"]\n',
    errors: ['k.yaml:4:12: the list opened here with "[" is not closed: it needs a "]" (and lines inside it indented past its key)'],
  },
  {
    name: 'an unclosed quote is reported where it opens',
    yaml: 'forwards:\n  - name: "web\n    target: svc/web\n    ports: ["8080:80"]\n',
    errors: ['k.yaml:2:11: the text quoted here with " is not closed: it needs a closing "'],
  },
  {
    name: 'another syntax error: the first one only',
    yaml: 'defaults: 1\n namespace: x\nforwards: [\n',
    errors: ['k.yaml:1:11: Nested mappings are not allowed in compact mappings'],
  },
  {
    name: 'a duplicate key',
    yaml: 'forwards:\n  - name: web\n    target: svc/web\n    ports: ["8080:80"]\n    target: svc/api\n',
    errors: ['k.yaml:5:5: duplicate key "target"'],
  },
  {
    name: 'two documents',
    yaml: 'forwards: []\n---\nproxies: []\n',
    errors: ['k.yaml:2:1: kport.yaml holds one YAML document; a second one starts here'],
  },
  {
    // Found by test/fuzz/kport-yaml: yaml's parser, recovering from the first error, does not report the line break
    // after the vertical tab, so the second error was placed at 2:5, past the end of line 2.
    name: 'errors after a line the parser recovers on are placed on their own line',
    yaml: ' :\n:\u000b\nd:',
    // Only the first syntax error is reported (the rest are its cascade), on its own line.
    errors: ['k.yaml:2:1: Unexpected scalar at node end'],
  },
  // Shape.
  {
    name: 'a top level that is not a mapping',
    yaml: '- name: web\n',
    errors: ['k.yaml:1:1: expected a mapping, got a list'],
  },
  {
    name: 'unknown keys, with "did you mean" where one is close',
    yaml: 'forward:\n  - name: web\ndefaults:\n  namepsace: x\n',
    errors: [
      'k.yaml:1:1: forward: unknown key "forward"; did you mean "forwards"?',
      'k.yaml:4:3: defaults.namepsace: unknown key "namepsace"; did you mean "namespace"?',
    ],
  },
  {
    name: 'an unknown key with nothing close lists the keys allowed',
    yaml: 'forwards:\n  - name: web\n    target: svc/web\n    ports: ["8080:80"]\n    image: nginx\n',
    errors: [
      'k.yaml:5:5: forwards[0].image: unknown key "image" (keys here: name, target, selector, ports, context, kubeconfig, namespace, address, balance, connectTimeout, transport, enabled)',
    ],
  },
  {
    name: 'a key of forwards used in a proxy',
    yaml: 'proxies:\n  - name: api\n    namespace: x\n',
    errors: [
      'k.yaml:3:5: proxies[0].namespace: unknown key "namespace" (keys here: name, context, kubeconfig, port, address, unixSocket, apiPrefix, acceptPaths, rejectPaths, acceptHosts, rejectMethods, disableFilter, www, wwwPrefix, enabled)',
    ],
  },
  {
    name: 'wrong types',
    yaml: [
      'forwards:',
      '  - name: 5',
      '    target: svc/web',
      '    ports: "8080:80"',
      '    enabled: yes',
      'proxies:',
      '  - name: api',
      '    port: "8001"',
      '    acceptPaths: "^/api"',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:2:11: forwards[0].name: expected a string, got 5 (write it in quotes: "5")',
      'k.yaml:4:12: forwards[0].ports: expected a list, got "8080:80"',
      'k.yaml:5:14: forwards[0].enabled: expected true or false, got "yes"',
      'k.yaml:8:11: proxies[0].port: expected a number, got "8001" (write it without quotes: 8001)',
      'k.yaml:9:18: proxies[0].acceptPaths: expected a list, got "^/api"',
    ],
  },
  {
    name: 'an entry that is not a mapping, and an empty value',
    yaml: 'forwards:\n  - web\n  - name: api\n    target:\n    ports: [80]\n',
    errors: ['k.yaml:2:5: forwards[0]: expected a mapping, got "web"', 'k.yaml:4:12: forwards[1].target: expected a string, got an empty value'],
  },
  {
    name: 'required keys',
    yaml: 'forwards:\n  - target: svc/web\nproxies:\n  - port: 8001\n',
    errors: [
      'k.yaml:2:5: forwards[0].name: is required',
      'k.yaml:2:5: forwards[0].ports: is required',
      'k.yaml:4:5: proxies[0].name: is required',
    ],
  },
  // Port specs.
  {
    name: 'a bad port spec (the issue\'s example)',
    yaml: [
      'forwards:',
      '  - name: web',
      '    target: svc/web',
      '    ports: ["8080:80"]',
      '  - name: api',
      '    target: svc/api',
      '    ports: ["80:abc!", "9000:8080"]',
      '',
    ].join('\n'),
    errors: ['k.yaml:7:13: forwards[1].ports[0]: "80:abc!" is not a port or port name'],
  },
  {
    name: 'port specs out of range, names without a local port, an empty list',
    yaml: [
      'forwards:',
      '  - name: web',
      '    target: svc/web',
      '    ports:',
      '      - 70000',
      '      - "70000:80"',
      '      - http',
      '      - "8080:0"',
      '  - name: api',
      '    target: svc/api',
      '    ports: []',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:5:9: forwards[0].ports[0]: port 70000 is out of range (1–65535)',
      'k.yaml:6:9: forwards[0].ports[1]: "70000:80": local port 70000 is out of range (0–65535)',
      'k.yaml:7:9: forwards[0].ports[2]: "http": a port name needs a local port, as in "8080:http" or ":http"',
      'k.yaml:8:9: forwards[0].ports[3]: "8080:0": remote port 0 is out of range (1–65535)',
      'k.yaml:11:12: forwards[1].ports: needs at least one item',
    ],
  },
  // Targets and selectors.
  {
    name: 'bad targets, both target and selector, neither',
    yaml: [
      'forwards:',
      '  - name: a',
      '    target: deploymnt/web',
      '    ports: [1001]',
      '  - name: b',
      '    target: svc/Web',
      '    ports: [1002]',
      '  - name: c',
      '    target: svc/web',
      '    selector: {app: web}',
      '    ports: [1003]',
      '  - name: d',
      '    ports: [1004]',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:3:13: forwards[0].target: "deploymnt/web": unknown kind "deploymnt"; did you mean "deployment"?',
      'k.yaml:6:13: forwards[1].target: "svc/Web": "Web" is not a valid service name: use lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit',
      'k.yaml:10:15: forwards[2].selector: set either target or selector, not both',
      'k.yaml:12:5: forwards[3]: needs a target (KIND/NAME) or a selector',
    ],
  },
  {
    name: 'bad selector labels, an empty selector',
    yaml: [
      'forwards:',
      '  - name: a',
      '    selector:',
      '      app: web',
      '      -tier: x',
      '      version: 1',
      '      release: "bad value"',
      '    ports: [1001]',
      '  - name: b',
      '    selector: {}',
      '    ports: [1002]',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:5:7: forwards[0].selector["-tier"]: "-tier" is not a valid label key: use letters, digits, \'-\', \'_\' and \'.\', starting and ending with a letter or digit',
      'k.yaml:6:16: forwards[0].selector.version: expected a string, got 1 (write it in quotes: "1")',
      'k.yaml:7:16: forwards[0].selector.release: "bad value" is not a valid label value: use letters, digits, \'-\', \'_\' and \'.\', starting and ending with a letter or digit',
      'k.yaml:10:15: forwards[1].selector: a selector needs at least one label',
    ],
  },
  // Names, namespaces, contexts.
  {
    name: 'bad names and namespaces',
    yaml: 'defaults:\n  namespace: Team\nforwards:\n  - name: Web\n    namespace: a_b\n    target: svc/web\n    ports: [80]\n',
    errors: [
      'k.yaml:2:14: defaults.namespace: "Team" is not a valid namespace: use lowercase letters, digits and \'-\', starting and ending with a letter or digit',
      'k.yaml:4:11: forwards[0].name: "Web" is not a valid name: use lowercase letters, digits, \'-\', \'_\' and \'.\', starting and ending with a letter or digit',
      'k.yaml:5:16: forwards[0].namespace: "a_b" is not a valid namespace: use lowercase letters, digits and \'-\', starting and ending with a letter or digit',
    ],
  },
  {
    name: 'duplicate names, across forwards and proxies',
    yaml: [
      'forwards:',
      '  - name: web',
      '    target: svc/web',
      '    ports: [8080]',
      '  - name: api',
      '    target: svc/api',
      '    ports: [9000]',
      '  - name: web',
      '    target: svc/web2',
      '    ports: [8081]',
      'proxies:',
      '  - name: api',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:8:11: forwards[2].name: "web" is already used by forwards[0]',
      'k.yaml:12:11: proxies[0].name: "api" is already used by forwards[1]',
    ],
  },
  {
    name: 'contexts the kubeconfig does not have',
    yaml: [
      'defaults:',
      '  context: stagng',
      'forwards:',
      '  - name: web',
      '    context: prod',
      '    target: svc/web',
      '    ports: [8080]',
      '  - name: api',
      '    target: svc/api',
      '    ports: [9000]',
      'proxies:',
      '  - name: k8s',
      '    context: ""',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:2:12: defaults.context: context "stagng" is not in the kubeconfig (contexts: dev, staging); did you mean "staging"?',
      'k.yaml:5:14: forwards[0].context: context "prod" is not in the kubeconfig (contexts: dev, staging)',
      'k.yaml:13:14: proxies[0].context: context cannot be empty',
    ],
  },
  // Addresses and binds.
  {
    name: 'bad addresses',
    yaml: [
      'defaults:',
      '  address: []',
      'forwards:',
      '  - name: web',
      '    target: svc/web',
      '    ports: [8080]',
      '    address: [myhost, "[::1]", 127.0.0.1, localhost, 0.0.0.0]',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:2:12: defaults.address: needs at least one item',
      'k.yaml:7:15: forwards[0].address[0]: "myhost" is not an IP address (or localhost)',
      'k.yaml:7:23: forwards[0].address[1]: "[::1]" is not an IP address: write IPv6 addresses without brackets',
    ],
  },
  {
    name: 'addresses that overlap within one list',
    yaml: 'forwards:\n  - name: web\n    target: svc/web\n    ports: [8080]\n    address: [127.0.0.1, localhost, 0.0.0.0, "::"]\n',
    errors: [
      'k.yaml:5:26: forwards[0].address[1]: 127.0.0.1 is already in this list (address[0])',
      'k.yaml:5:37: forwards[0].address[2]: 0.0.0.0 overlaps 127.0.0.1 (address[0])',
      'k.yaml:5:46: forwards[0].address[3]: :: overlaps 127.0.0.1 (address[0])',
    ],
  },
  {
    name: 'two sessions on one local address and port',
    yaml: [
      'forwards:',
      '  - name: web',
      '    target: svc/web',
      '    ports: ["8080:80", "8081:81", ":82", "8443:https"]',
      '  - name: web2',
      '    target: svc/web',
      '    ports: ["8080:80", ":82", "8082:80", "8082:81"]', // same port twice in one forward
      '  - name: open',
      '    target: svc/web',
      '    ports: ["8081:80"]',
      '    address: 0.0.0.0',
      '  - name: v6',
      '    target: svc/web',
      '    ports: ["8443:443"]',
      '    address: "::1"',
      '  - name: off',
      '    target: svc/web',
      '    ports: ["8080:80"]',
      '    enabled: false',
      'proxies:',
      '  - name: k8s',
      '    port: 8080',
      '    address: [::1, 127.0.0.1]',
      '  - name: k8s2',
      '  - name: k8s3',
      '    port: 0',
      '  - name: all',
      '    port: 8001',
      '    address: "::"',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:7:13: forwards[1].ports[0]: 127.0.0.1:8080 is already bound by forwards[0].ports[0]',
      'k.yaml:7:42: forwards[1].ports[3]: local port 8082 is already used by ports[2]',
      'k.yaml:10:13: forwards[2].ports[0]: 0.0.0.0:8081 overlaps 127.0.0.1:8081, bound by forwards[0].ports[1]',
      'k.yaml:22:11: proxies[0].port: 127.0.0.1:8080 is already bound by forwards[0].ports[0]',
      // proxies[1] takes the default port, 8001, on 127.0.0.1; "::" is dual-stack, so it overlaps.
      'k.yaml:28:11: proxies[3].port: [::]:8001 overlaps 127.0.0.1:8001, bound by proxies[1].port',
    ],
    warnings: [
      'k.yaml:11:14: warning: forwards[2].address: "0.0.0.0" exposes this forward beyond this machine',
      'k.yaml:29:14: warning: proxies[3].address: "::" exposes this proxy beyond this machine',
    ],
  },
  // Proxies.
  {
    name: 'proxy options: regexes, prefixes, unix sockets',
    yaml: [
      'proxies:',
      '  - name: a',
      '    acceptPaths: ["^/api", "("]',
      '    rejectMethods: ["[z-a]"]',
      '    apiPrefix: api',
      '    wwwPrefix: ""',
      '  - name: b',
      '    unixSocket: /tmp/k.sock',
      '    port: 8002',
      '  - name: c',
      '    unixSocket: /tmp/k2.sock',
      '    address: 127.0.0.1',
      '  - name: e',
      '    unixSocket: ""',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:3:28: proxies[0].acceptPaths[1]: "(" is not a valid regular expression: Unterminated group',
      'k.yaml:4:21: proxies[0].rejectMethods[0]: "[z-a]" is not a valid regular expression: Range out of order in character class',
      'k.yaml:5:16: proxies[0].apiPrefix: "api" must start with "/"',
      'k.yaml:6:16: proxies[0].wwwPrefix: "" must start with "/"',
      'k.yaml:9:11: proxies[1].port: a proxy on a unixSocket has no port: remove one of the two',
      'k.yaml:12:14: proxies[2].address: a proxy on a unixSocket has no address: remove one of the two',
      'k.yaml:14:17: proxies[3].unixSocket: path cannot be empty',
    ],
  },
  {
    name: 'unix sockets: shared, too long',
    yaml: [
      'proxies:',
      '  - name: b',
      '    unixSocket: /tmp/k.sock',
      '  - name: c',
      '    unixSocket: /tmp/../tmp/k.sock',
      '  - name: d',
      `    unixSocket: /tmp/${'s'.repeat(120)}.sock`,
      '',
    ].join('\n'),
    errors: [
      'k.yaml:5:17: proxies[1].unixSocket: "/tmp/k.sock" is already used by proxies[0].unixSocket',
      `k.yaml:7:17: proxies[2].unixSocket: "/tmp/${'s'.repeat(55)}…" is 130 bytes; Unix socket paths are limited to 107`,
    ],
  },
  {
    name: 'disableFilter and an exposed proxy are warnings',
    yaml: 'defaults:\n  address: 0.0.0.0\nproxies:\n  - name: a\n    disableFilter: true\n    port: 8001\n',
    errors: [],
    warnings: [
      'k.yaml:2:12: warning: defaults.address: "0.0.0.0" exposes proxy "a" beyond this machine',
      'k.yaml:5:20: warning: proxies[0].disableFilter: the request filter is off: any local process or web page can reach the API server with your credentials',
    ],
  },
  // Other values.
  {
    name: 'durations and balance',
    yaml: [
      'defaults:',
      '  connectTimeout: 0',
      'forwards:',
      '  - name: web',
      '    target: svc/web',
      '    ports: [80]',
      '    connectTimeout: 30 seconds',
      '    balance: roundrobin',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:2:19: defaults.connectTimeout: 0 is not a duration: it must be more than 0',
      'k.yaml:7:21: forwards[0].connectTimeout: "30 seconds" is not a duration: write seconds as a number, or text such as "500ms", "30s", "2m", "1h"',
      'k.yaml:8:14: forwards[0].balance: expected one of "round-robin", "first", got "roundrobin"; did you mean "round-robin"?',
    ],
  },
  // Environment.
  {
    name: 'variables that are not set',
    yaml: 'kubeconfig: [~/.kube/config, "${NOPE}/config"]\nproxies:\n  - name: a\n    www: $WWW/static\n',
    errors: [
      'k.yaml:1:30: kubeconfig[1]: "${NOPE}/config": $NOPE is not set',
      'k.yaml:4:10: proxies[0].www: "$WWW/static": $WWW is not set',
    ],
  },
  {
    name: 'an empty kubeconfig list',
    yaml: 'kubeconfig: []\n',
    errors: ['k.yaml:1:13: kubeconfig: needs at least one item'],
  },
  {
    name: 'a current-context that the kubeconfig lacks is reported at each session using it',
    yaml: 'kubeconfig: broken-current.yaml\nforwards:\n  - name: web\n    target: svc/web\n    ports: [80]\n',
    errors: [
      'k.yaml:3:5: forwards[0].context: the kubeconfig\'s current-context: context "gone" is not in the kubeconfig (contexts: dev)',
    ],
  },
  {
    name: 'no context at all',
    yaml: 'kubeconfig: no-current.yaml\nproxies:\n  - name: k8s\n',
    errors: ['k.yaml:3:5: proxies[0].context: no context: set one here or in defaults, or set current-context in the kubeconfig'],
  },
  // One run reports everything.
  {
    name: 'an entry with errors does not hide problems between the others',
    yaml: [
      'forwards:',
      '  - name: a',
      '    target: svc/a',
      '    ports: ["8080:80", "x:y"]',
      '  - name: b',
      '    target: svc/b',
      '    ports: [9000]',
      '    context: nope',
      '  - name: c',
      '    target: svc/c',
      '    ports: [9000]',
      '  - name: a',
      '    target: svc/d',
      '    prots: [1]',
      '',
    ].join('\n'),
    errors: [
      'k.yaml:4:24: forwards[0].ports[1]: "x:y": local port "x" is not a number',
      'k.yaml:8:14: forwards[1].context: context "nope" is not in the kubeconfig (contexts: dev, staging)',
      'k.yaml:11:13: forwards[2].ports[0]: 127.0.0.1:9000 is already bound by forwards[1].ports[0]',
      'k.yaml:12:5: forwards[3].ports: is required',
      'k.yaml:12:11: forwards[3].name: "a" is already used by forwards[0]',
      'k.yaml:14:5: forwards[3].prots: unknown key "prots"; did you mean "ports"?',
    ],
  },
];

for (const c of cases) {
  test(c.name, async () => {
    await box.write('broken-current.yaml', 'current-context: gone\ncontexts: [{name: dev, context: {}}]\n');
    await box.write('no-current.yaml', 'contexts: [{name: dev, context: {}}]\n');
    const result = await loadConfigText(c.yaml, 'k.yaml', box.env(c.vars));
    if (c.errors.length === 0) assert.equal(result.ok, true, JSON.stringify(result));
    else assert.deepEqual(errorsOf(result), c.errors);
    assert.deepEqual(warningsOf(result), c.warnings ?? []);
  });
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffSessions, sessionsOf } from '../../config/diff.js';
import { loadConfigText } from '../../config/load.js';
import type { DesiredState, ForwardSpec, ProxySpec } from '../../config/types.js';
import { forwardSpec, gatewaySpec, proxySpec } from '../helpers/specs.js';

const fwd = (name: string, local = 8080, labels?: Record<string, string>): ForwardSpec =>
  forwardSpec(name, { target: labels ? { kind: 'selector', labels } : { kind: 'service', name }, ports: [{ local, remote: 80, spec: `${local}:80` }] });

const prx = (name: string): ProxySpec => proxySpec(name, { rejectPaths: [], acceptHosts: ['^localhost$'] });

test('identical states: everything unchanged, even as separate objects', () => {
  const d = diffSessions([fwd('a'), prx('p')], [fwd('a'), prx('p')]);
  assert.deepEqual(d, { added: [], removed: [], changed: [], unchanged: [fwd('a'), prx('p')] });
});

test('labels in another order are the same selector', () => {
  const d = diffSessions([fwd('a', 1, { x: '1', y: '2' })], [fwd('a', 1, { y: '2', x: '1' })]);
  assert.equal(d.unchanged.length, 1);
});

test('added, removed, changed and unchanged together', () => {
  const before = [fwd('keep'), fwd('gone'), fwd('edit', 1)];
  const after = [fwd('edit', 2), fwd('new'), fwd('keep')];
  assert.deepEqual(diffSessions(before, after), {
    added: [fwd('new')],
    removed: [fwd('gone')],
    changed: [{ before: fwd('edit', 1), after: fwd('edit', 2) }],
    unchanged: [fwd('keep')],
  });
});

test('a rename is a removal and an addition', () => {
  assert.deepEqual(diffSessions([fwd('old')], [fwd('new')]), { added: [fwd('new')], removed: [fwd('old')], changed: [], unchanged: [] });
});

test('a forward that became a proxy of the same name is changed', () => {
  assert.deepEqual(diffSessions([fwd('x')], [prx('x')]), { added: [], removed: [], changed: [{ before: fwd('x'), after: prx('x') }], unchanged: [] });
});

test('any field counts: enabled, addresses, port order', () => {
  const off = { ...fwd('a'), enabled: false };
  const two = { ...fwd('a'), addresses: ['127.0.0.1', '::1'] };
  const swapped: ForwardSpec = { ...fwd('a'), ports: [...fwd('a', 2).ports, ...fwd('a', 1).ports] };
  const ordered: ForwardSpec = { ...fwd('a'), ports: [...fwd('a', 1).ports, ...fwd('a', 2).ports] };
  assert.equal(diffSessions([fwd('a')], [off]).changed.length, 1);
  assert.equal(diffSessions([fwd('a')], [two]).changed.length, 1);
  assert.equal(diffSessions([ordered], [swapped]).changed.length, 1);
});

test('sessionsOf lists forwards, then proxies, then gateways', () => {
  const state: DesiredState = {
    file: null,
    kubeconfig: [],
    defaults: { context: null, namespace: null, addresses: ['127.0.0.1'], connectTimeoutMs: 30_000, transport: 'auto' },
    forwards: [fwd('a'), fwd('b', 2)],
    proxies: [prx('p')],
    gateways: [gatewaySpec('g')],
    metrics: null,
  };
  assert.deepEqual(sessionsOf(state).map((s) => s.name), ['a', 'b', 'p', 'g']);
});

test('two loads of an edited file: reordered keys and entries change nothing, edits show by name', async () => {
  const env = { env: {}, home: '/nonexistent', cwd: '/' };
  const load = async (yaml: string) => {
    const result = await loadConfigText(yaml, null, env);
    assert.ok(result.ok, JSON.stringify(result));
    return sessionsOf(result.state);
  };
  const before = await load(`
forwards:
  - {name: same, target: svc/a, ports: ["8080:80"]}
  - {name: edited, target: svc/b, ports: [9000]}
  - {name: old-name, target: svc/c, ports: [9001]}
proxies:
  - {name: api, port: 8001}
`);
  const after = await load(`
proxies:
  - {port: 8001, name: api}
forwards:
  - {name: new-name, target: svc/c, ports: [9001]}
  - {ports: ["8080:80"], target: service/a, name: same}
  - {name: edited, target: svc/b, ports: [9000], enabled: false}
`);
  const d = diffSessions(before, after);
  const names = (list: Array<{ name: string }>) => list.map((s) => s.name);
  assert.deepEqual(
    { added: names(d.added), removed: names(d.removed), changed: names(d.changed.map((c) => c.after)), unchanged: names(d.unchanged) },
    { added: ['new-name'], removed: ['old-name'], changed: ['edited'], unchanged: ['same', 'api'] },
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfigPath, expandPath, kubeconfigFromEnv } from '../../config/paths.js';
import type { ConfigEnv } from '../../config/types.js';

const env = (vars: Record<string, string | undefined> = {}): ConfigEnv => ({ env: vars, home: '/home/u', cwd: '/work' });

test('expandPath: ~, $VAR, ${VAR}, $$, and relative paths', () => {
  const e = env({ DIR: '/data', EMPTY: '', NAME: 'x' });
  const cases: Array<[string, string]> = [
    ['~', '/home/u'],
    ['~/.kube/config', '/home/u/.kube/config'],
    ['${DIR}/k.yaml', '/data/k.yaml'],
    ['$DIR/k.yaml', '/data/k.yaml'],
    ['/a/${NAME}-$NAME.yaml', '/a/x-x.yaml'],
    ['/a/$$NAME', '/a/$NAME'],
    ['/a/b$', '/a/b$'],
    ['kube.yaml', '/cfg/kube.yaml'],
    ['../kube.yaml', '/kube.yaml'],
    ['${EMPTY}/k', '/k'],
  ];
  for (const [text, path] of cases) assert.deepEqual(expandPath(text, e, '/cfg'), { ok: true, value: path }, text);
});

test('expandPath refuses what it cannot expand', () => {
  const cases: Array<[string, string]> = [
    ['${NOPE}/k', '"${NOPE}/k": $NOPE is not set'],
    ['$NOPE', '"$NOPE": $NOPE is not set'],
    ['${DIR', '"${DIR": "${" is not closed'],
    ['${1X}', '"${1X}": "${1X}" is not a variable name'],
    ['~bob/k', '"~bob/k": only ~ and ~/ are expanded; write the full path'],
    ['${EMPTY}', '"${EMPTY}" is empty once expanded'],
  ];
  for (const [text, message] of cases) assert.deepEqual(expandPath(text, env({ EMPTY: '' }), '/cfg'), { ok: false, message }, text);
});

test('kubeconfigFromEnv: $KUBECONFIG as kubectl splits it, else ~/.kube/config', () => {
  assert.deepEqual(kubeconfigFromEnv(env()), ['/home/u/.kube/config']);
  assert.deepEqual(kubeconfigFromEnv(env({ KUBECONFIG: '' })), ['/home/u/.kube/config']);
  assert.deepEqual(kubeconfigFromEnv(env({ KUBECONFIG: '/a:rel/b::/a:/c' })), ['/a', '/work/rel/b', '/c']);
});

test('defaultConfigPath: $KPORT_CONFIG, else $XDG_CONFIG_HOME, else ~/.config', () => {
  assert.equal(defaultConfigPath(env()), '/home/u/.config/kport/kport.yaml');
  assert.equal(defaultConfigPath(env({ XDG_CONFIG_HOME: '/xdg' })), '/xdg/kport/kport.yaml');
  assert.equal(defaultConfigPath(env({ XDG_CONFIG_HOME: 'relative' })), '/home/u/.config/kport/kport.yaml');
  assert.equal(defaultConfigPath(env({ XDG_CONFIG_HOME: '/xdg', KPORT_CONFIG: 'my.yaml' })), '/work/my.yaml');
});

/**
 * Paths from the environment: `~` and `$VAR` / `${VAR}` expansion in kport.yaml, where kubeconfigs come from when the
 * file names none, and where kport.yaml itself lives by default.
 */
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fail, pass, quote, type Checked } from './issues.js';
import type { ConfigEnv } from './types.js';

/** The ConfigEnv of this process (or of `env`, with HOME taken from it when set). */
export function configEnvFromProcess(env: NodeJS.ProcessEnv = process.env): ConfigEnv {
  return { env, home: env.HOME || homedir(), cwd: process.cwd() };
}

// $$ is a literal dollar; ${...} takes any text so a bad name gets its own message.
const REFERENCE = /\$(?:\$|\{([^}]*)(\}?)|([A-Za-z_][A-Za-z0-9_]*))/g;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands a leading `~` and every `$VAR` / `${VAR}` (an unset variable is an error, not an empty string), then
 * resolves the result against `baseDir`.
 */
export function expandPath(text: string, env: ConfigEnv, baseDir: string): Checked<string> {
  let problem: string | null = null;
  const expanded = text.replace(REFERENCE, (match, braced: string | undefined, closed: string, bare: string | undefined) => {
    if (match === '$$') return '$';
    const name = braced ?? bare ?? '';
    if (braced !== undefined && closed === '') problem ??= `${quote(text)}: "\${" is not closed`;
    else if (!VAR_NAME.test(name)) problem ??= `${quote(text)}: ${quote(match)} is not a variable name`;
    else if (env.env[name] === undefined) problem ??= `${quote(text)}: $${name} is not set`;
    return env.env[name] ?? '';
  });
  if (problem !== null) return fail(problem);
  let path = expanded;
  if (text === '~' || text.startsWith('~/')) path = env.home + expanded.slice(1);
  else if (text.startsWith('~')) return fail(`${quote(text)}: only ~ and ~/ are expanded; write the full path`);
  if (path === '') return fail(`${quote(text)} is empty once expanded`);
  return pass(resolve(baseDir, path));
}

/** Kubeconfig files when kport.yaml names none: $KUBECONFIG (a list, as kubectl reads it), else ~/.kube/config. */
export function kubeconfigFromEnv(env: ConfigEnv): string[] {
  const list = (env.env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  if (list.length === 0) return [join(env.home, '.kube', 'config')];
  return [...new Set(list.map((p) => resolve(env.cwd, p)))];
}

/**
 * Where kport.yaml is read from by default: $KPORT_CONFIG, else $XDG_CONFIG_HOME/kport/kport.yaml, else
 * ~/.config/kport/kport.yaml.
 */
export function defaultConfigPath(env: ConfigEnv): string {
  const explicit = env.env.KPORT_CONFIG;
  if (explicit) return resolve(env.cwd, explicit);
  const xdg = env.env.XDG_CONFIG_HOME;
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.home, '.config');
  return join(base, 'kport', 'kport.yaml');
}

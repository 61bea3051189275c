/** `kportd check [FILE]`: validates a kport.yaml without starting anything. */
import { formatHostPort } from './addresses.js';
import { formatIssue } from './issues.js';
import { loadConfigFile } from './load.js';
import { configEnvFromProcess, defaultConfigPath } from './paths.js';
import type { DesiredState } from './types.js';

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function summary(state: DesiredState): string {
  const part = (list: Array<{ enabled: boolean }>, one: string, many: string) => {
    const off = list.filter((s) => !s.enabled).length;
    return count(list.length, one, many) + (off > 0 ? ` (${off} disabled)` : '');
  };
  const metrics = state.metrics ? `, metrics on ${formatHostPort(state.metrics.address, state.metrics.port)}` : '';
  const gateways = state.gateways.length > 0 ? `, ${part(state.gateways, 'gateway', 'gateways')}` : '';
  return `ok: ${part(state.forwards, 'forward', 'forwards')}, ${part(state.proxies, 'proxy', 'proxies')}${gateways}${metrics}`;
}

/**
 * Checks FILE (default: $KPORT_CONFIG, else $XDG_CONFIG_HOME/kport/kport.yaml, else ~/.config/kport/kport.yaml) and
 * returns the text to print: every issue, then `ok: N forwards, M proxies[, K gateways][, metrics on ADDRESS:PORT]` (exit code 0) or a count of errors (1).
 */
export async function runCheck(file: string | undefined, env: NodeJS.ProcessEnv): Promise<{ code: number; text: string }> {
  const configEnv = configEnvFromProcess(env);
  const path = file ?? defaultConfigPath(configEnv);
  const result = await loadConfigFile(path, configEnv);
  const lines = [...(result.ok ? [] : result.errors), ...result.warnings].map(formatIssue);
  if (result.ok) {
    lines.push(summary(result.state));
  } else {
    lines.push(`failed: ${count(result.errors.length, 'error', 'errors')} in ${path}`);
    if (file === undefined) lines.push('(that is the default file: pass FILE, or set $KPORT_CONFIG)');
  }
  return { code: result.ok ? 0 : 1, text: `${lines.join('\n')}\n` };
}

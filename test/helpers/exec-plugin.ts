/** A kubeconfig exec plugin for tests: it counts its runs and hands out whatever its token file holds. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExecPlugin {
  /** The kubeconfig `user.exec` that runs it. */
  exec: Record<string, unknown>;
  /** The plugin's script (the exec's one argument). */
  script: string;
  /** The file whose contents the plugin hands out as its token. */
  tokenFile: string;
  /** How many times it has run. */
  runs(): number;
}

/** Writes the plugin into `dir`; its credential comes already expired, so client-node never caches it. */
export function writeExecPlugin(dir: string, token: string): ExecPlugin {
  const runs = join(dir, 'runs');
  const tokenFile = join(dir, 'token');
  writeFileSync(runs, '');
  writeFileSync(tokenFile, token);
  const plugin = join(dir, 'plugin.mjs');
  writeFileSync(
    plugin,
    `import { appendFileSync, readFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(runs)}, 'x');
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',
  status: { token: readFileSync(${JSON.stringify(tokenFile)}, 'utf8'), expirationTimestamp: '2000-01-01T00:00:00Z' } }));`,
  );
  return {
    exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [plugin], interactiveMode: 'Never' },
    script: plugin,
    tokenFile,
    runs: () => readFileSync(runs, 'utf8').length,
  };
}

/** Shared test fixtures for config/: a throwaway home folder with a kubeconfig, and the ConfigEnv pointing at it. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIssue } from '../../config/issues.js';
import type { ConfigEnv, LoadResult } from '../../config/types.js';

/** The kubeconfig every fixture home holds: contexts dev (namespace team, current) and staging (no namespace). */
export const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: dev
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443" } }]
users: [{ name: u, user: { token: t } }]
contexts:
  - name: dev
    context: { cluster: c, user: u, namespace: team }
  - name: staging
    context: { cluster: c, user: u }
`;

/** A temporary folder with `home/.kube/config`; `cleanup()` removes it. */
export interface Sandbox {
  dir: string;
  home: string;
  env(vars?: Record<string, string>): ConfigEnv;
  write(name: string, text: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** Creates a sandbox under the system temp folder. */
export async function sandbox(): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'kport-config-'));
  const home = join(dir, 'home');
  await mkdir(join(home, '.kube'), { recursive: true });
  await writeFile(join(home, '.kube', 'config'), KUBECONFIG);
  return {
    dir,
    home,
    env: (vars = {}) => ({ env: { ...vars }, home, cwd: dir }),
    async write(name, text) {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The errors of a failed load as the user reads them; throws if the load succeeded. */
export function errorsOf(result: LoadResult): string[] {
  if (result.ok) throw new Error('expected the load to fail, but it succeeded');
  return result.errors.map(formatIssue);
}

/** The warnings of a load as the user reads them. */
export function warningsOf(result: LoadResult): string[] {
  return result.warnings.map(formatIssue);
}

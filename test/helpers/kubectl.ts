/** Running the real kubectl against a simulated cluster; tests skip with a reason where it is absent. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstExecutable, which } from './path.js';
import { startAndWait, stop, type Started } from './process.js';

/** The kubectl binary: $KUBECTL, else the first `kubectl` on PATH, else /usr/bin/kubectl; null when none. */
export function findKubectl(): string | null {
  return firstExecutable([process.env.KUBECTL, which('kubectl') ?? undefined, '/usr/bin/kubectl']);
}

/** `{ skip: reason }` for node:test when kubectl is missing, else `{}`. */
export function kubectlOrSkip(): { skip?: string } {
  return findKubectl() ? {} : { skip: 'kubectl not found (set $KUBECTL or install it at /usr/bin/kubectl)' };
}

/** Result of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with a private cache folder (removed afterwards) so tests leave nothing in ~/.kube. */
export function kubectl(kubeconfig: string, args: string[], timeoutMs = 30_000): Promise<KubectlResult> {
  const bin = findKubectl();
  if (!bin) throw new Error('kubectl not found');
  const cache = mkdtempSync(join(tmpdir(), 'kport-kubectl-cache-'));
  return new Promise((resolve) => {
    execFile(bin, [`--kubeconfig=${kubeconfig}`, `--cache-dir=${cache}`, ...args], { timeout: timeoutMs, env: { ...process.env, KUBECONFIG: kubeconfig } }, (err, stdout, stderr) => {
      rmSync(cache, { recursive: true, force: true });
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running kubectl (port-forward, proxy) with its own cache folder. */
export interface RunningKubectl extends Started {
  /** Kills kubectl, waits for its exit and removes its cache folder. */
  stop(): Promise<void>;
}

/**
 * Starts kubectl and resolves once a line of its output matches `ready`; `env` is its whole
 * environment besides KUBECONFIG (pass process.env to inherit it).
 */
export async function startKubectl(kubeconfig: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<RunningKubectl> {
  const bin = findKubectl();
  if (!bin) throw new Error('kubectl not found');
  const cache = mkdtempSync(join(tmpdir(), 'kport-kubectl-cache-'));
  const cleanUp = () => rmSync(cache, { recursive: true, force: true });
  try {
    const started = await startAndWait(bin, [`--kubeconfig=${kubeconfig}`, `--cache-dir=${cache}`, ...args], ready, { env: { ...env, KUBECONFIG: kubeconfig } });
    return { ...started, stop: async () => void (await stop(started.child), cleanUp()) };
  } catch (err) {
    cleanUp();
    throw err;
  }
}

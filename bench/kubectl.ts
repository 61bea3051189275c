/** The real `kubectl port-forward` for benchmarks: started on a pod, its local ports read from what it prints. */
import { execFileSync } from 'node:child_process';
import { findKubectl, startKubectl } from '../test/helpers/kubectl.js';

/** A running `kubectl port-forward`. */
export interface KubectlForward {
  pid: number;
  /** The local port for each remote port asked for, in order. */
  ports: number[];
  stop(): Promise<void>;
}

/** Which of kubectl's SPDY forms to use: the plain upgrade (kport's `spdy`) or its ≥ 1.31 default, the WebSocket tunnel. */
export type KubectlForm = 'upgrade' | 'tunnel';

/** `kubectl version --client`'s version, or null where kubectl is absent. */
export function kubectlVersion(): { bin: string; version: string } | null {
  const bin = findKubectl();
  if (!bin) return null;
  try {
    const out = JSON.parse(execFileSync(bin, ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 10_000 })) as { clientVersion?: { gitVersion?: string } };
    return { bin, version: out.clientVersion?.gitVersion ?? 'unknown version' };
  } catch {
    return { bin, version: 'unknown version' };
  }
}

/** Runs `kubectl port-forward pod/POD 0:P…` and resolves once it forwards every port. */
export async function startKubectlForward(kubeconfig: string, pod: string, remotePorts: number[], form: KubectlForm): Promise<KubectlForward> {
  const env = { ...process.env };
  delete env.KUBECTL_PORT_FORWARD_WEBSOCKETS;
  if (form === 'upgrade') env.KUBECTL_PORT_FORWARD_WEBSOCKETS = 'false';
  const last = remotePorts[remotePorts.length - 1]!;
  // kubectl prints one line per port and address family, in the order asked: the last port's IPv4 line comes after the others'.
  const k = await startKubectl(kubeconfig, ['port-forward', `pod/${pod}`, ...remotePorts.map((p) => `0:${p}`)], new RegExp(`^Forwarding from 127\\.0\\.0\\.1:\\d+ -> ${last}$`), env);
  // A benchmark that dies half-way must not leave kubectl running.
  const orphanGuard = () => k.child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  k.child.once('exit', () => process.off('exit', orphanGuard));
  const printed = new Map([...k.output().matchAll(/^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$/gm)].map((m) => [Number(m[2]), Number(m[1])]));
  const ports = remotePorts.map((p) => printed.get(p));
  if (ports.some((p) => p === undefined)) {
    await k.stop();
    throw new Error(`kubectl port-forward did not name a local port for each of ${remotePorts.join(', ')}; it printed:\n${k.output()}`);
  }
  return { pid: k.child.pid!, ports: ports as number[], stop: () => k.stop() };
}

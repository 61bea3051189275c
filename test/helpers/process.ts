/** Child processes in tests: start, wait for a line of output, stop and reap. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A started child with everything it printed so far. */
export interface Started {
  child: ChildProcess;
  /** The first line that matched. */
  match: RegExpMatchArray;
  output: () => string;
}

/** Spawns a command and resolves when a stdout/stderr line matches `ready`; rejects if it exits first or on timeout. */
export function startAndWait(cmd: string, args: string[], ready: RegExp, opts: SpawnOptions = {}, timeoutMs = 20_000): Promise<Started> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // SIGTERM first, so that a child with children of its own (the demo, npm) stops them too; SIGKILL if it lingers.
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => clearTimeout(hard));
      reject(new Error(`${cmd} did not print ${ready} within ${timeoutMs} ms; output:\n${output}`));
    }, timeoutMs);
    const onLine = (line: string) => {
      output += `${line}\n`;
      const m = ready.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, output: () => output });
      }
    };
    for (const s of [child.stdout, child.stderr]) if (s) createInterface({ input: s }).on('line', onLine);
    // 'close' comes after the output streams end, so everything printed is in the message.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code ?? signal}) before it was ready; output:\n${output}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Resolves with the exit code (or signal name) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal!)));
}

/** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode!;
  const done = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

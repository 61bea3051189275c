/** Runs the built kportctl as a child process, as a user's shell would (stdout a pipe: not a TTY). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { KPORTCTL } from '../helpers/bin.js';

/** The shipped kportctl (package.json's bin: the bundle). */
export { KPORTCTL };

/** What a finished run printed and its exit code. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment kportctl gets: the fake's socket and nothing of the machine's kport setup. */
export function env(socket: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: '/nonexistent', KPORT_SOCKET: socket, ...extra };
}

/** Runs `kportctl ARGS` to completion. */
export function kportctl(args: string[], environment: Record<string, string>): Promise<Ran> {
  const child = spawn(process.execPath, [KPORTCTL, ...args], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A kportctl that keeps running (events, list -w, logs -f): its lines as they come, and a way to wait for one. */
export class Following {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  stderr = '';
  private waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      const matched = this.waiters.filter((w) => w.re.test(line));
      this.waiters = this.waiters.filter((w) => !matched.includes(w));
      for (const w of matched) w.resolve(line);
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }

  /** Starts `kportctl ARGS`. */
  static start(args: string[], environment: Record<string, string>): Following {
    return new Following(spawn(process.execPath, [KPORTCTL, ...args], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Resolves with the first line, printed from now on, that matches `re`; rejects if kportctl exits first. */
  next(re: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ re, resolve });
      void this.exited.then((code) => reject(new Error(`kportctl exited (${code}) before printing ${re}; printed:\n${this.lines.join('\n')}\n${this.stderr}`)));
    });
  }

  /** Resolves with the first line printed so far or from now on that matches `re`. */
  line(re: RegExp): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    return seen === undefined ? this.next(re) : Promise.resolve(seen);
  }

  /** Sends Ctrl-C and resolves with the exit code. */
  interrupt(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }

  /** Kills it if still running (cleanup after a failed test). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

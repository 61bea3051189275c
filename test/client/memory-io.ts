/** kportctl in-process: an Io whose output is captured (optionally posing as a terminal), for tests that need no child process. */
import { runCli } from '../../client/cli.js';
import type { Io, Output } from '../../client/command.js';
import { COMMANDS } from '../../client/commands/index.js';
import type { Ran } from './kportctl.js';

/** A terminal's size, for output that should believe it is on one. */
export interface Terminal {
  columns: number;
  rows: number;
}

/** Captured output, with a way to wait until it contains something. */
class Captured implements Output {
  text = '';
  readonly isTTY: boolean;
  readonly columns: number | undefined;
  readonly rows: number | undefined;
  private waiters: { re: RegExp; resolve: () => void }[] = [];

  constructor(terminal: Terminal | null) {
    this.isTTY = terminal !== null;
    this.columns = terminal?.columns;
    this.rows = terminal?.rows;
  }

  write(text: string): void {
    this.text += text;
    const met = this.waiters.filter((w) => w.re.test(this.text));
    this.waiters = this.waiters.filter((w) => !met.includes(w));
    met.forEach((w) => w.resolve());
  }

  onResize(): () => void {
    return () => {};
  }

  /** Resolves once everything written so far matches `re`; fails after `safetyMs` so a wrong pattern cannot hang the run. */
  until(re: RegExp, safetyMs = 10_000): Promise<void> {
    if (re.test(this.text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`output never matched ${re}; it was:\n${JSON.stringify(this.text)}`)), safetyMs);
      this.waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

/** A kportctl run in this process: its output as it grows, Ctrl-C, and its end. */
export interface InProcess {
  stdout: Captured;
  stderr: Captured;
  interrupt(): void;
  done: Promise<Ran>;
}

/** Starts `kportctl ARGS` in this process with `env`; on a pretend terminal when `terminal` is given. */
export function startInProcess(args: string[], env: Record<string, string>, terminal: Terminal | null = null, over: Partial<Pick<Io, 'cwd' | 'platform'>> = {}): InProcess {
  const stdout = new Captured(terminal);
  const stderr = new Captured(terminal);
  let interrupt = () => {};
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  const io: Io = { stdout, stderr, env, cwd: '/', platform: 'linux', interrupted: () => interrupted, ...over };
  const done = runCli(args, COMMANDS, io).then((code) => ({ code, stdout: stdout.text, stderr: stderr.text }));
  return { stdout, stderr, interrupt, done };
}

/** Runs `kportctl ARGS` in this process to its end, as a pipe would see it (not a terminal). */
export function runInProcess(args: string[], env: Record<string, string>, over: Partial<Pick<Io, 'cwd' | 'platform'>> = {}): Promise<Ran> {
  return startInProcess(args, env, null, over).done;
}

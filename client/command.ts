/**
 * What a kportctl verb is: its flags (with help text), its positional arguments, and a `run` that
 * gets parsed arguments, the terminal, and a lazy connection to kportd. The runner (cli.ts) owns
 * parsing, help, connecting, closing and exit codes, so verbs only say what they do.
 */
import type { RpcClient } from './rpc.js';

/** Exit codes, the same for every verb (kportctl --help lists them). */
export const EXIT = {
  OK: 0,
  /** kportd answered with an error (or the command failed). */
  ERROR: 1,
  /** Unknown verb or flag, missing or extra argument, bad value. */
  USAGE: 2,
  /** No kportd answers on the socket. */
  NOT_RUNNING: 3,
  /** A wait ran out. */
  TIMEOUT: 4,
} as const;

/** One flag: parseArgs' type, short and multiple, plus what help prints. */
export interface Flag {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder for the value in help (`NS` in `--namespace NS`). */
  arg?: string;
  help: string;
  /** What shell completion offers for the value: fixed words, or the kubeconfig's contexts. */
  completes?: readonly string[] | 'context';
}

/** What shell completion offers for a positional argument: session names, a TARGET (svc/NAME…), fixed words. */
export type Completes = 'session' | 'target' | readonly string[] | null;

/** A verb's flags by long name. */
export type Flags = Readonly<Record<string, Flag>>;

/** Parsed flag values: strings (or lists of them) and booleans; absent when not given. */
export type FlagValues<F extends Flags> = {
  [K in keyof F]?: F[K] extends { type: 'string' } ? (F[K] extends { multiple: true } ? string[] : string) : boolean;
};

/** Where a verb writes: stdout or stderr, with what is known about the terminal. */
export interface Output {
  write(text: string): void;
  readonly isTTY: boolean;
  /** The terminal's size when it is one. */
  readonly columns: number | undefined;
  readonly rows: number | undefined;
  /** Calls `listener` when the terminal is resized; returns the unsubscribe. */
  onResize(listener: () => void): () => void;
}

/** The process around a verb, injected so tests can run verbs in-process. */
export interface Io {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  cwd: string;
  /** The operating system (`service` writes a systemd unit on linux, a launchd agent on darwin). */
  platform: NodeJS.Platform;
  /** Resolves on the next Ctrl-C (SIGINT); follow-mode verbs stop cleanly on it. */
  interrupted(): Promise<void>;
}

/** What a verb's `run` gets. */
export interface Context<F extends Flags> {
  args: string[];
  /** Every verb (the completion helper completes them). */
  commands: readonly Command[];
  flags: FlagValues<F>;
  io: Io;
  /** The connection to kportd, opened on first use and closed by the runner; rejects with DaemonNotRunning. */
  connect(): Promise<RpcClient>;
}

/** A kportctl verb. */
export interface Command<F extends Flags = Flags> {
  name: string;
  /** Other names it answers to, kubectl's among them (`ls`, `rm`, `get`). */
  aliases?: readonly string[];
  /** Left out of `kportctl --help` (the completion scripts' helper). */
  hidden?: boolean;
  /** One line for `kportctl --help`. */
  summary: string;
  /** The forms of the usage line after `kportctl VERB` (`NAME [--timeout T]`), one per way of calling it. */
  usage: string[];
  /** Paragraphs for `kportctl VERB --help`. */
  description: string;
  examples: string[];
  flags: F;
  /** How many positional arguments the verb takes. */
  positionals: { min: number; max: number };
  /** The exit codes this verb uses and what each means here. */
  exits: Readonly<Record<number, string>>;
  /** What shell completion offers for each positional argument (the last for any further ones); none when absent. */
  completes?: readonly Completes[];
  /** Gets its arguments as given, unparsed (the completion helper, whose arguments are a command line). */
  rawArgs?: boolean;
  /** Does the work; returns the exit code (errors thrown map to codes in the runner). */
  run(ctx: Context<F>): Promise<number>;
}

/** Declares a verb with its flag types inferred from `flags`. */
export function command<const F extends Flags>(c: Command<F>): Command<F> {
  return c;
}

/**
 * A failure of kportctl's own, outside kportd (a service manager that refuses, a platform without one): printed as
 * `kportctl: CODE: message`, exit 1.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: 'SERVICE_MANAGER' | 'UNSUPPORTED',
    message: string,
  ) {
    super(message);
  }
}

/** A mistake in how kportctl was called: the runner prints it with the verb's usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Accepts a session as `NAME` or as `-o name` prints it (`forward/NAME`, `proxy/NAME`, `gateway/NAME`). */
export function sessionName(arg: string): string {
  return arg.replace(/^(?:forward|proxy|gateway)\//, '');
}

/** `--json`, shared by every verb whose output a script would read. */
export const JSON_FLAG = { json: { type: 'boolean', help: 'print JSON instead of text' } } as const satisfies Flags;

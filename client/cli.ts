/**
 * The runner every verb shares: find the verb, parse its flags, print help, connect lazily, run,
 * close, and turn whatever was thrown into one line on stderr and an exit code.
 */
import { parseArgs } from 'node:util';
import { didYouMean, formatIssue } from '../config/issues.js';
import type { ConfigIssue } from '../config/types.js';
import { KportError } from '../daemon/api/errors.js';
import { daemonPaths } from '../daemon/api/paths.js';
import { VERSION } from '../daemon/api/version.js';
import { CliError, EXIT, UsageError, type Command, type FlagValues, type Flags, type Io } from './command.js';
import { HELP_FLAG, mainHelp, usage, verbHelp } from './help.js';
import { oneLine } from './output/format.js';
import { connect, DaemonNotRunning, type RpcClient } from './rpc.js';

/** The verb named `name`, by its name or an alias. */
export function findCommand(commands: readonly Command[], name: string): Command | undefined {
  return commands.find((c) => c.name === name || c.aliases?.includes(name));
}

/** Runs `kportctl ARGV…` against `commands`; resolves with the exit code. */
export async function runCli(argv: readonly string[], commands: readonly Command[], io: Io): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === '-h' || verb === '--help') return print(io.stdout, mainHelp(commands), EXIT.OK);
  if (verb === '--version') return print(io.stdout, `kportctl ${VERSION}\n`, EXIT.OK);
  if (verb === undefined) return print(io.stderr, mainHelp(commands), EXIT.USAGE);
  if (verb === 'help') {
    if (rest[0] === undefined) return print(io.stdout, mainHelp(commands), EXIT.OK);
    const c = findCommand(commands, rest[0]);
    return c ? print(io.stdout, verbHelp(c), EXIT.OK) : unknownVerb(rest[0], commands, io);
  }
  const c = findCommand(commands, verb);
  return c ? runCommand(c, rest, io, commands) : unknownVerb(verb, commands, io);
}

function print(out: Io['stdout'], text: string, code: number): number {
  out.write(text);
  return code;
}

function unknownVerb(verb: string, commands: readonly Command[], io: Io): number {
  const names = commands.filter((c) => !c.hidden).flatMap((c) => [c.name, ...(c.aliases ?? [])]);
  const what = verb.startsWith('-') ? 'flag' : 'verb';
  const hint = didYouMean(verb, verb.startsWith('-') ? ['--help', '--version'] : names);
  io.stderr.write(`kportctl: USAGE: unknown ${what} ${JSON.stringify(verb)}${hint}\nRun "kportctl --help" for the list of verbs.\n`);
  return EXIT.USAGE;
}

async function runCommand<F extends Flags>(c: Command<F>, argv: string[], io: Io, commands: readonly Command[]): Promise<number> {
  const daemon = lazyConnection(io.env);
  try {
    const { help, args, flags } = c.rawArgs ? { help: false, args: argv, flags: {} as FlagValues<F> } : parse(c, argv);
    if (help) return print(io.stdout, verbHelp(c), EXIT.OK);
    return await c.run({ args, flags, commands, io, connect: daemon.get });
  } catch (err) {
    return report(err, c, io);
  } finally {
    await daemon.close();
  }
}

/** One connection per run, opened when a verb first asks for it. */
function lazyConnection(env: Io['env']): { get(): Promise<RpcClient>; close(): Promise<void> } {
  let client: Promise<RpcClient> | null = null;
  return {
    get: () => (client ??= connect(daemonPaths(env).socket)),
    close: async () => {
      if (client) await client.then((rpc) => rpc.close(), () => {});
    },
  };
}

function parse<F extends Flags>(c: Command<F>, argv: string[]): { help: boolean; args: string[]; flags: FlagValues<F> } {
  const options = Object.fromEntries(
    // Only parseArgs' own keys, and none set to undefined: it validates the ones present.
    Object.entries({ ...c.flags, help: HELP_FLAG }).map(([name, f]) => [name, { type: f.type, ...(f.short ? { short: f.short } : {}), multiple: f.multiple === true }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const code = String((err as NodeJS.ErrnoException).code);
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw unknownFlag(c, argv);
    // parseArgs explains at length how to pass "-x" as an argument; its first sentence is the point.
    throw new UsageError((err as Error).message.replace(/\. .*$/s, ''));
  }
  const { help, ...flags } = parsed.values;
  const args = parsed.positionals;
  if (!help) {
    if (args.length < c.positionals.min) throw new UsageError(`missing ${positionalNames(c)[args.length] ?? 'argument'}`);
    if (args.length > c.positionals.max) throw new UsageError(`unexpected argument ${JSON.stringify(args[c.positionals.max])}`);
  }
  return { help: help === true, args, flags: flags as FlagValues<F> };
}

/** The first argument that is none of the verb's flags, with the closest one suggested (`--namspace` → `--namespace`). */
function unknownFlag(c: Command, argv: readonly string[]): UsageError {
  const flags = Object.entries({ ...c.flags, help: HELP_FLAG }).flatMap(([name, f]) => [`--${name}`, ...(f.short ? [`-${f.short}`] : [])]);
  const known = new Set(flags);
  const end = argv.indexOf('--');
  const given = (end === -1 ? argv : argv.slice(0, end)).map((a) => a.replace(/=.*$/s, ''));
  const flag = given.find((a) => a.startsWith('-') && a !== '-' && !known.has(a) && !(/^-[^-]/.test(a) && [...a.slice(1)].every((ch) => known.has(`-${ch}`)))) ?? '';
  return new UsageError(`unknown flag ${JSON.stringify(flag)}${didYouMean(flag, flags.filter((f) => f.startsWith('--')))}`);
}

/** The positional arguments of a verb's first usage form: `NAME TARGET PORT... [flags]` → NAME, TARGET, PORT. */
function positionalNames(c: Command): string[] {
  return (c.usage[0] ?? '').split(' ').filter((w) => /^[A-Z]+(\.\.\.)?$/.test(w)).map((w) => w.replace('...', ''));
}

/** Prints what went wrong on stderr, one `kportctl: CODE: message` line each, and picks the exit code. */
function report(err: unknown, c: Command, io: Io): number {
  const say = (code: string, line: string) => io.stderr.write(`kportctl: ${code}: ${oneLine(line)}\n`);
  if (err instanceof UsageError) {
    say('USAGE', err.message);
    io.stderr.write(`${usage(c)}Run "kportctl ${c.name} --help" for more.\n`);
    return EXIT.USAGE;
  }
  if (err instanceof DaemonNotRunning) {
    say('NOT_RUNNING', err.message);
    return EXIT.NOT_RUNNING;
  }
  if (err instanceof CliError) {
    say(err.code, err.message);
    return EXIT.ERROR;
  }
  if (err instanceof KportError) {
    const issues = configIssues(err.data);
    // The daemon's message summarises the issues; printed one per line they read better.
    if (issues.length > 0) for (const i of issues) say(err.code, formatIssue(i));
    else say(err.code, err.message);
    return err.code === 'TIMEOUT' ? EXIT.TIMEOUT : EXIT.ERROR;
  }
  say('INTERNAL', err instanceof Error ? err.message : String(err));
  return EXIT.ERROR;
}

/** `details` of an INVALID_CONFIG or CONFLICT error: ConfigIssues; anything else yields none. */
function configIssues(details: unknown): ConfigIssue[] {
  if (!Array.isArray(details)) return [];
  return details.filter((i): i is ConfigIssue => typeof i === 'object' && i !== null && typeof i.message === 'string' && typeof i.path === 'string' && (i.severity === 'error' || i.severity === 'warning'));
}

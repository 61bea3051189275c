/** `kportctl completion SHELL` prints a completion script; `kportctl __complete WORDS…` is what the scripts call. */
import { homedir } from 'node:os';
import { complete } from '../completion/complete.js';
import { completionScript, SHELLS, type Shell } from '../completion/scripts.js';
import { command, EXIT, UsageError } from '../command.js';
import { STANDARD_EXITS } from '../help.js';

/** `kportctl completion bash|zsh|fish`. */
export const completion = command({
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  usage: ['bash|zsh|fish'],
  description: `
Prints a script that makes the shell complete kportctl's verbs and flags, session names (asked
of kportd), contexts (from the kubeconfig: --kubeconfig, else $KUBECONFIG, else ~/.kube/config)
and, after svc/, pod/, deploy/, sts/ or rs/, the names kportd's watch caches already hold for
the context and namespace given (-n, --context): no request reaches the API server per key
pressed. Each script says how to load it for every new shell.`,
  examples: ['source <(kportctl completion bash)', 'kportctl completion zsh > "${fpath[1]}/_kportctl"', 'kportctl completion fish > ~/.config/fish/completions/kportctl.fish'],
  flags: {},
  positionals: { min: 1, max: 1 },
  completes: [SHELLS],
  exits: { [EXIT.OK]: 'the script was printed', [EXIT.USAGE]: STANDARD_EXITS[EXIT.USAGE]! },
  async run({ args, io }) {
    const shell = args[0]!;
    if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`no completion for ${JSON.stringify(shell)}: write bash, zsh or fish`);
    io.stdout.write(completionScript(shell as Shell));
    return EXIT.OK;
  },
});

/** `kportctl __complete WORDS…`: the candidates for the last word, one per line (what the scripts call). */
export const completeWords = command({
  name: '__complete',
  hidden: true,
  rawArgs: true,
  summary: 'the candidates for the last of WORDS (used by the completion scripts)',
  usage: ['WORDS...'],
  description: `
Prints the candidates for the last of WORDS (the words after kportctl on the command line being
completed; the last is the one being typed, maybe empty), one per line. The scripts that
kportctl completion prints call it; it never fails.`,
  examples: ['kportctl __complete add web svc/'],
  flags: {},
  positionals: { min: 0, max: Infinity },
  exits: { [EXIT.OK]: 'the candidates were printed (perhaps none)' },
  async run({ args, commands, io, connect }) {
    const candidates = await complete(args, { commands, env: io.env, cwd: io.cwd, home: io.env.HOME || homedir(), connect });
    io.stdout.write(candidates.map((c) => `${c}\n`).join(''));
    return EXIT.OK;
  },
});

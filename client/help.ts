/** The text of `kportctl --help`, `kportctl VERB --help` and the usage shown with a usage error. */
import { EXIT, type Command, type Flag } from './command.js';

/** Every verb's `-h, --help`. */
export const HELP_FLAG: Flag = { type: 'boolean', short: 'h', help: 'show this help' };

/** What each exit code means, for verbs that use the standard set. */
export const STANDARD_EXITS: Readonly<Record<number, string>> = {
  [EXIT.OK]: 'ok',
  [EXIT.ERROR]: 'kportd reported an error (printed as "kportctl: CODE: message")',
  [EXIT.USAGE]: 'usage error: unknown verb or flag, missing argument, bad value',
  [EXIT.NOT_RUNNING]: 'kportd is not running',
};

const ENVIRONMENT = `Environment:
  KPORT_SOCKET     kportd's control socket (default:
                   $XDG_RUNTIME_DIR/kport/kportd.sock, else in the state folder)
  KPORT_STATE_DIR  kportd's state folder (default: $XDG_STATE_HOME/kport,
                   else ~/.local/state/kport)
  NO_COLOR         no colour, even on a terminal (never any when not on one)
`;

/** `usage: kportctl VERB …`, one line per form. */
export function usage(c: Command): string {
  return c.usage.map((form, i) => `${`${i === 0 ? 'usage:' : '      '} kportctl ${c.name} ${form}`.trimEnd()}\n`).join('');
}

/** Help text fits 80 columns. */
const WIDTH = 80;

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

function flagLines(c: Command): string {
  const rows = Object.entries({ ...c.flags, help: HELP_FLAG }).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.arg ? ` ${f.arg}` : ''}`;
    return [left, f.multiple ? `${f.help}; repeatable` : f.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  const indent = ' '.repeat(width + 4);
  return rows
    .map(([left, text]) => wrap(text, WIDTH - indent.length).map((l, i) => `${i === 0 ? `  ${left.padEnd(width)}  ` : indent}${l}\n`).join(''))
    .join('');
}

function exitLines(exits: Readonly<Record<number, string>>): string {
  return Object.entries(exits)
    .map(([code, text]) => `  ${code}  ${text}\n`)
    .join('');
}

/** Paragraphs rewrapped to the help width; indented lines (examples, formats) stay as written. */
function reflow(text: string): string {
  return text
    .trim()
    .split('\n\n')
    .map((paragraph) => {
      const out: string[] = [];
      let prose: string[] = [];
      const flush = () => {
        if (prose.length > 0) out.push(...wrap(prose.join(' '), WIDTH));
        prose = [];
      };
      for (const line of paragraph.split('\n')) {
        if (line.startsWith(' ')) {
          flush();
          out.push(line);
        } else prose.push(line);
      }
      flush();
      return out.join('\n');
    })
    .join('\n\n');
}

/** The full help of one verb. */
export function verbHelp(c: Command): string {
  const examples = c.examples.map((e) => `  ${e}\n`).join('');
  const aliases = c.aliases?.length ? `\nAliases: ${c.aliases.join(', ')}.` : '';
  return `${usage(c)}\n${reflow(c.description)}${aliases}\n\nFlags:\n${flagLines(c)}\nExamples:\n${examples}\nExit codes:\n${exitLines(c.exits)}`;
}

/** The help of kportctl itself: every verb, exit codes, environment. */
export function mainHelp(commands: readonly Command[]): string {
  const shown = commands.filter((c) => !c.hidden);
  const width = Math.max(...shown.map((c) => c.name.length));
  const verbs = shown.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n`).join('');
  const aliases = shown.filter((c) => c.aliases?.length).map((c) => `${c.aliases!.join(', ')} (${c.name})`).join('; ');
  const exits = { ...STANDARD_EXITS, [EXIT.TIMEOUT]: 'timed out (wait, stop)' };
  return `kportctl: control kportd, which keeps kubectl port-forwards and proxies alive

usage: kportctl VERB [ARGUMENTS] [FLAGS]

Verbs:
${verbs}
${wrap(`Aliases: ${aliases}.`, WIDTH).join('\n')}

Run "kportctl VERB --help" (or "kportctl help VERB") for a verb's arguments,
flags and examples. kportctl --version prints the version.
Most verbs take --json (list: -o json|yaml|name|wide) for scripts.

Exit codes:
${exitLines(exits)}
${ENVIRONMENT}`;
}

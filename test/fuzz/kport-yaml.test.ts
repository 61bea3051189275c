/**
 * kport.yaml fuzzed: the shipped examples, mutated line by line and character by character, with YAML's specials
 * (anchors, aliases, merges, tags, tabs, document markers, very long scalars, nesting past the limit) put in.
 * Whatever comes out, loading never throws, and every error has a message and a place in the text, but for the
 * few that config/source.ts documents as having none.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { loadConfigText } from '../../config/load.js';
import type { ConfigEnv, ConfigIssue } from '../../config/types.js';
import { KUBECONFIG, sandbox, type Sandbox } from '../config/fixtures.js';
import { fuzz } from '../helpers/fuzz.js';

// Compiled to dist/test/fuzz/: the package root is three folders up.
const examples = fileURLToPath(new URL('../../../config/examples/', import.meta.url));
const EXAMPLES = ['kport.example.yaml', 'demo.yaml'].map((f) => readFileSync(join(examples, f), 'utf8'));

/** Errors that have no place in the text (config/source.ts): the file's size, NUL bytes, an alias bomb. */
const UNPLACEABLE = [/^file is .* limited to /, /^not a text file: it contains NUL bytes$/, /^aliases expand to too much data/];

/** Short texts that mean something to YAML. */
const SPECIALS = [
  '&a ', '*a', '*b', '&a [1, 2]', '&b {x: 1}', '<<: *a', '<<: *b', '<<: [*a, *b]', '<<: 1', '<<: {}', '<<: [1]',
  '!!str ', '!!int ', '!!binary aGVsbG8=', '!custom ', '!!map ', '!!seq ', '!!set ', '!!null ', '!!float .nan',
  '!<tag:yaml.org,2002:str> ', '!!timestamp 2001-12-14', '\t', '\t- x', '|', '>-', '|+2', '"', "'", '"\\x"', '"\\u12"',
  '{', '}', '[', ']', ',', '? ', ': ', '- ', '---', '...', '%YAML 1.2', '%TAG ! tag:x,', '#', ' #c', '\r', '\r\n',
  '\uFEFF', '\u2028', '\u0085', '\u0000', '😀', 'name: dup', 'ports: [":0"]', 'forwards:', 'proxies: []', '~', 'null',
  'enabled: yes', '0o17', '0x1F', '.inf', '1e400', '- name: x', '  - &f {name: f, target: svc/f, ports: [1]}', '  - *f',
];

/** A text to put in: a special, a very long scalar, or nesting of some depth (the limit is 64). */
type Insert = { special: number } | { long: number } | { deep: number; form: number };
const DEEP_FORMS = [(k: number) => '['.repeat(k), (k: number) => '{a: '.repeat(k), (k: number) => '- '.repeat(k), (k: number) => Array.from({ length: k }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')];

const insertArb: fc.Arbitrary<Insert> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ special: fc.nat({ max: SPECIALS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ long: fc.oneof(fc.integer({ min: 1, max: 200_000 }), fc.constant(1_100_000)) }) },
  { weight: 1, arbitrary: fc.record({ deep: fc.integer({ min: 1, max: 80 }), form: fc.nat({ max: DEEP_FORMS.length - 1 }) }) },
);

function textOf(i: Insert): string {
  if ('special' in i) return SPECIALS[i.special]!;
  if ('long' in i) return 'x'.repeat(i.long);
  return DEEP_FORMS[i.form]!(i.deep);
}

/** One edit; positions are taken modulo the text's lines or characters when applied. */
type Mutation =
  | { op: 'delete-line' | 'duplicate-line'; at: number }
  | { op: 'swap-lines'; at: number; other: number }
  | { op: 'replace-line' | 'insert-line' | 'insert'; at: number; text: Insert }
  | { op: 'flip-char'; at: number; char: string }
  | { op: 'delete-chars'; at: number; count: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete-line' as const, 'duplicate-line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap-lines' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constantFrom('replace-line' as const, 'insert-line' as const, 'insert' as const), at: fc.nat(), text: insertArb }),
  fc.record({ op: fc.constant('flip-char' as const), at: fc.nat(), char: fc.oneof(fc.constantFrom(...':-[]{}&*!|>\'"%@`#,? \t\n'), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })) }),
  fc.record({ op: fc.constant('delete-chars' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 40 }) }),
);

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\n');
  const line = m.at % lines.length;
  const pos = text.length === 0 ? 0 : m.at % text.length;
  switch (m.op) {
    case 'delete-line':
      return lines.filter((_, i) => i !== line).join('\n');
    case 'duplicate-line':
      return lines.flatMap((l, i) => (i === line ? [l, l] : [l])).join('\n');
    case 'swap-lines': {
      const other = m.other % lines.length;
      [lines[line], lines[other]] = [lines[other]!, lines[line]!];
      return lines.join('\n');
    }
    case 'replace-line':
      return lines.map((l, i) => (i === line ? textOf(m.text) : l)).join('\n');
    case 'insert-line':
      return lines.flatMap((l, i) => (i === line ? [textOf(m.text), l] : [l])).join('\n');
    case 'insert':
      return text.slice(0, pos) + textOf(m.text) + text.slice(pos);
    case 'flip-char':
      return text.slice(0, pos) + m.char + text.slice(pos + 1);
    case 'delete-chars':
      return text.slice(0, pos) + text.slice(pos + m.count);
  }
}

/** The position is on a line of the text, at most one past its last character. */
function within(text: string, issue: ConfigIssue): boolean {
  const lines = text.split('\n');
  const { line, col } = issue;
  return line !== null && col !== null && line >= 1 && line <= lines.length && col >= 1 && col <= lines[line - 1]!.length + 1;
}

let box: Sandbox;
let env: ConfigEnv;
before(async () => {
  box = await sandbox();
  await box.write('home/.kube/staging.yaml', 'contexts: [{name: staging, context: {namespace: stg}}]\n');
  const sim = await box.write('sim.kubeconfig', KUBECONFIG.replace('- name: staging', '- name: sim'));
  env = box.env({ HOME: box.home, XDG_RUNTIME_DIR: box.dir, KPORT_DEMO_KUBECONFIG: sim });
});
after(() => box.cleanup());

test('a mutated kport.yaml never throws, and every error says what and where', async (t) => {
  const arb = fc.record({ example: fc.nat({ max: EXAMPLES.length - 1 }), mutations: fc.array(mutationArb, { minLength: 1, maxLength: 8 }) });
  await fuzz(
    t,
    arb,
    async ({ example, mutations }) => {
      const text = mutations.reduce(mutate, EXAMPLES[example]!);
      const result = await loadConfigText(text, 'k.yaml', env);
      const issues = result.ok ? result.warnings : [...result.errors, ...result.warnings];
      for (const issue of issues) {
        assert.notEqual(issue.message.trim(), '', `an issue without a message: ${JSON.stringify(issue)}`);
        if (issue.line === null) {
          // Unplaced: a warning about no file (no kubeconfig found), or one of the documented errors.
          const documented = issue.severity === 'warning' ? issue.file === null : UNPLACEABLE.some((re) => re.test(issue.message));
          assert.ok(documented, `an issue with no line and column: ${JSON.stringify(issue)}`);
        } else {
          assert.ok(within(text, issue), `an issue placed outside the text: ${JSON.stringify(issue)}`);
        }
      }
    },
    { numRuns: 400, timeLimitMs: 10_000 },
  );
});

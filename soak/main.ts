#!/usr/bin/env node
/**
 * `npm run soak -- [--minutes N] [--seed S] [--workers N] [--rate MB/s] [--http N] [--stuck-seconds N] [--keep]`:
 * a real kportd against the simulated cluster under load and seeded faults; prints the summary and
 * exits 1 on corruption, a stuck session, a kportd crash, an fd leak, or a session lost to a bad save.
 */
import { parseArgs } from 'node:util';
import { formatReport, verdict } from './report.js';
import { runSoak } from './run.js';

const USAGE = `usage: npm run soak -- [--minutes N] [--seed S] [--workers N] [--rate MB/s] [--http N] [--stuck-seconds N] [--keep]
  --minutes N        length of the load phase (default 10)
  --seed S           replay a fault schedule (default: a new seed, printed)
  --workers N        concurrent echo transfers (default 4)
  --rate MB/s        echo payload rate, all workers together (default 16)
  --http N           GETs per second through forward web and through proxy api (default 10)
  --stuck-seconds N  a session that serves nothing this long after a fault is lifted is stuck (default 60)
  --keep             keep the temp folder (kportd's output, log and state)
`;

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`soak: --${name} wants a positive number, not ${JSON.stringify(text)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        workers: { type: 'string' },
        rate: { type: 'string' },
        http: { type: 'string' },
        'stuck-seconds': { type: 'string' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) return void process.stdout.write(USAGE);
  const interrupt = new AbortController();
  // The first Ctrl-C ends the run cleanly (faults lifted, kportd resumed and stopped); a second one is not caught.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => interrupt.abort());
  const report = await runSoak({
    minutes: number('minutes', values.minutes, 10),
    seed: values.seed === undefined ? undefined : Math.floor(number('seed', values.seed, 1)),
    workers: Math.floor(number('workers', values.workers, 4)),
    rateMBs: number('rate', values.rate, 16),
    httpPerSec: number('http', values.http, 10),
    stuckMs: number('stuck-seconds', values['stuck-seconds'], 60) * 1000,
    keep: values.keep ?? false,
    print: (line) => process.stdout.write(`${line}\n`),
    signal: interrupt.signal,
  });
  process.stdout.write(`\n${formatReport(report)}\n`);
  process.exitCode = verdict(report).length ? 1 : 0;
}

await main();

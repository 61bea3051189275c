/**
 * `node --import …/record-loads.js`: appends the URL of every module the process loads, one a line, to the
 * file named by $KPORT_RECORD_LOADS. Imported with --import it registers itself as the loader hooks; in the
 * hooks thread its `load` hook does the recording. At exit the main thread adds node's own modules, as
 * `node:NAME` lines (from process.moduleLoadList, which also sees those loaded with require()). Tests use it
 * to check what a command loads.
 */
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

type Next = (url: string, context: unknown) => Promise<unknown>;

/** The load hook: record, then load as usual. */
export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  if (process.env.KPORT_RECORD_LOADS) appendFileSync(process.env.KPORT_RECORD_LOADS, `${url}\n`);
  return next(url, context);
}

if (isMainThread) {
  register(import.meta.url);
  process.once('exit', () => {
    const builtins = (process as unknown as { moduleLoadList: string[] }).moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice('NativeModule '.length)}`);
    if (process.env.KPORT_RECORD_LOADS) appendFileSync(process.env.KPORT_RECORD_LOADS, `${builtins.join('\n')}\n`);
  });
}

/** logs.read's source: the tail of the log file, read from the end and bounded in lines and bytes. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LogTail, readTail } from '../../daemon/log-tail.js';

const dir = mkdtempSync(join(tmpdir(), 'kport-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const line = (i: number) => `{"level":30,"n":${i},"msg":"${'x'.repeat(100)}"}`;

function logFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('the last lines of a large file, at most the lines asked for and the bytes allowed, whole lines only', async () => {
  const count = 200_000; // about 24 MiB
  const file = logFile('big.log', Array.from({ length: count }, (_, i) => `${line(i)}\n`).join(''));
  assert.deepEqual(await readTail(file, 3, 1 << 20), [line(count - 3), line(count - 2), line(count - 1)]);
  const capped = await readTail(file, 10_000, 64 * 1024);
  assert.ok(capped.length > 0 && capped.length < 10_000);
  assert.ok(Buffer.byteLength(capped.join('\n')) <= 64 * 1024);
  assert.deepEqual(capped, Array.from({ length: capped.length }, (_, i) => line(count - capped.length + i)));
});

test('a short file, one without a final newline, an empty one', async () => {
  assert.deepEqual(await readTail(logFile('short.log', 'a\nb\n'), 100, 1 << 20), ['a', 'b']);
  assert.deepEqual(await readTail(logFile('open.log', 'a\nb\nc'), 2, 1 << 20), ['b', 'c']);
  assert.deepEqual(await readTail(logFile('empty.log', ''), 100, 1 << 20), []);
  assert.deepEqual(await readTail(logFile('long-line.log', `${'y'.repeat(5_000)}\n`), 10, 1_000), []);
});

test('a read whose caller has gone is not done', async () => {
  const tail = new LogTail(logFile('gone.log', 'a\n'));
  const gone = new AbortController();
  gone.abort();
  await assert.rejects(tail.read(10, gone.signal), { code: 'CANCELLED' });
  assert.deepEqual(await tail.read(10, new AbortController().signal), ['a']);
});

/** Reads a config or kubeconfig file as text, refusing what is too large or not text before it costs much. */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { checkSize, decodeText, type TextLimits } from './source.js';

/** The text, or why there is none; `missing` tells "no such file" apart, as kubectl skips those in $KUBECONFIG. */
export type ReadText = { ok: true; value: string } | { ok: false; message: string; missing: boolean };

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
};

const CHUNK = 64 * 1024;

function failure(e: unknown): ReadText {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return { ok: false, message: `cannot read: ${REASONS[code] ?? (e as Error).message}`, missing: code === 'ENOENT' };
}

/** Reads `file` as UTF-8 text within `limits`. */
export async function readText(file: string, limits: TextLimits): Promise<ReadText> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever; it is refused below anyway.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return failure(e);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) return { ok: false, message: `cannot read: ${REASONS.EISDIR}`, missing: false };
    if (!stat.isFile()) return { ok: false, message: 'cannot read: not a regular file', missing: false };
    const size = checkSize(stat.size, limits);
    if (!size.ok) return { ...size, missing: false };
    // Read in chunks, stopping past the limit: the file may have grown since stat(), or be a /proc-style file.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(CHUNK);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      const grown = checkSize(length, limits);
      if (!grown.ok) return { ...grown, missing: false };
    }
    const text = decodeText(Buffer.concat(chunks, length));
    return text.ok ? text : { ...text, missing: false };
  } catch (e) {
    return failure(e);
  } finally {
    await handle.close();
  }
}

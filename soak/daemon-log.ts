/**
 * What kportd said during a soak, from its output (the JSON log lines it prints in the foreground,
 * and whatever a crash printed): lines by level, and the warnings and errors grouped by message.
 */

/** A digest of kportd's output. */
export interface LogDigest {
  lines: number;
  byLevel: Record<string, number>;
  /** Warnings and worse, grouped by level, message and error code, most frequent first, with one example each. */
  top: { what: string; count: number; example: string }[];
  /** Lines that are not JSON (a crash's stack, node's own warnings), last ones kept. */
  raw: string[];
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Digests kportd's output text. */
export function digestLog(text: string): LogDigest {
  const byLevel: Record<string, number> = {};
  const counts = new Map<string, { count: number; example: string }>();
  const raw: string[] = [];
  let lines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    lines++;
    let entry: { level?: number; msg?: string; code?: string; session?: string; err?: string | { message?: string; code?: string } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      raw.push(line);
      if (raw.length > 40) raw.shift();
      continue;
    }
    const level = LEVELS[entry.level ?? 30] ?? String(entry.level);
    byLevel[level] = (byLevel[level] ?? 0) + 1;
    if ((entry.level ?? 30) < 40) continue;
    const err = typeof entry.err === 'string' ? entry.err : entry.err?.message ?? '';
    const code = entry.code ?? (typeof entry.err === 'object' ? entry.err.code : undefined);
    const what = `${level} ${entry.msg ?? '?'}${code ? ` ${code}` : ''}`;
    const seen = counts.get(what);
    if (seen) seen.count++;
    else counts.set(what, { count: 1, example: `${entry.session ? `${entry.session}: ` : ''}${err}`.slice(0, 160) });
  }
  const top = [...counts].map(([what, c]) => ({ what, ...c })).sort((a, b) => b.count - a.count);
  return { lines, byLevel, top, raw };
}

/**
 * ISO 8601 times for what kportd reports (`2026-12-01T20:26:58.123Z`), written from the UTC fields. Node 20's V8
 * works out the local time zone's offset and display name in every Date-to-string conversion, toISOString
 * included, which maps ICU's time-zone data into the process: ~0.7 MB of RSS for a daemon that never shows a
 * local time (measured with one forward).
 */
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `ms` (default: now) as Date#toISOString writes it, for years 0-9999. */
export function isoTime(ms: number = Date.now()): string {
  const d = new Date(ms);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return `${date}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}

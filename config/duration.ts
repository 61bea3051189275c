/** Durations in kport.yaml: a number of seconds, or Go-style text such as `500ms`, `30s`, `2m`, `1h30m`. */
import { fail, pass, quote, type Checked } from './issues.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The shape of duration text; the JSON Schema uses it too. */
export const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

// Longer than a day is a mistake, and Node timers overflow past 24.8 days anyway.
const MAX_MS = 86_400_000;

/** Parses a duration into whole milliseconds, more than 0 and at most a day. */
export function parseDuration(raw: string | number): Checked<number> {
  let ms: number;
  if (typeof raw === 'number') {
    ms = Math.round(raw * 1000);
  } else {
    if (raw.length > 64 || !DURATION_PATTERN.test(raw)) {
      return fail(`${quote(raw)} is not a duration: write seconds as a number, or text such as "500ms", "30s", "2m", "1h"`);
    }
    ms = 0;
    for (const [, amount, unit] of raw.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(amount) * UNIT_MS[unit!]!;
    ms = Math.round(ms);
  }
  const shown = typeof raw === 'number' ? String(raw) : quote(raw);
  if (!Number.isFinite(ms) || ms <= 0) return fail(`${shown} is not a duration: it must be more than 0`);
  if (ms > MAX_MS) return fail(`${shown} is too long: at most 24h`);
  return pass(ms);
}

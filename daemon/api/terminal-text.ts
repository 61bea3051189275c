/**
 * Text for a terminal, shared by kportctl and kportd's foreground log: one safe line, a wall-clock time, a colour.
 */

/** Wraps text in one colour; the identity when colour is off. */
export type Paint = (text: string) => string;

/** An ANSI SGR colour that `off` resets; empty text stays empty. */
export const sgr =
  (on: number, off: number): Paint =>
  (text) =>
    text === '' ? text : `\x1b[${on}m${text}\x1b[${off}m`;

const two = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time `HH:MM:SS`, with `.mmm` when `millis`. */
export function clock(at: Date, millis = false): string {
  const hms = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  return millis ? `${hms}.${String(at.getMilliseconds()).padStart(3, '0')}` : hms;
}

/** Text from the daemon made safe for one terminal line: control characters (newlines, escapes) become spaces. */
export function oneLine(text: string): string {
  // C0 controls, DEL and C1 controls (CSI among them): a pod's error text must not move the cursor.
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

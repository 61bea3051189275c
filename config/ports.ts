/**
 * Port specs as kubectl port-forward takes them: `LOCAL:REMOTE`, `REMOTE` (same number both sides), `:REMOTE` and
 * `0:REMOTE` (any free local port); REMOTE may be a port name, resolved later against the service or pod.
 */
import { fail, pass, quote, type Checked } from './issues.js';
import { checkPortName } from './names.js';
import type { PortMapping } from './types.js';

/** The shape of a spec; the JSON Schema uses it too. Ranges and name rules are checked after the match. */
export const PORT_SPEC_PATTERN = /^(?:(\d*):)?(\d+|[-a-z0-9]+)$/;

/** Lowest and highest local port; 0 asks the system for any free port. */
export const LOCAL_PORT_RANGE = { min: 0, max: 65535 } as const;

/** Lowest and highest remote port. */
export const REMOTE_PORT_RANGE = { min: 1, max: 65535 } as const;

const FORMS = 'write LOCAL:REMOTE, REMOTE, or :REMOTE';

/** A port number within a range, or why not; `what` names it in the message. */
export function checkPortNumber(n: number, range: { min: number; max: number }, what: string): Checked<number> {
  if (!Number.isInteger(n)) return fail(`${what} ${n} is not a whole number`);
  if (n < range.min || n > range.max) return fail(`${what} ${n} is out of range (${range.min}–${range.max})`);
  return pass(n);
}

/** Parses one spec as written in `ports:`; a bare YAML number is a port used on both sides. */
export function parsePortSpec(raw: string | number): Checked<PortMapping> {
  if (typeof raw === 'number') {
    const same = checkPortNumber(raw, REMOTE_PORT_RANGE, 'port');
    return same.ok ? pass({ local: same.value, remote: same.value, spec: String(raw) }) : same;
  }
  const spec = raw;
  const m = PORT_SPEC_PATTERN.exec(spec);
  if (!m) return fail(diagnose(spec));
  const [, localText, remoteText = ''] = m;
  const within = (text: string, range: { min: number; max: number }, what: string): Checked<number> =>
    // Digits only reach here; anything above the range fails alike, so a long run of digits is no problem.
    checkPortNumber(Number(text), range, `${quote(spec)}: ${what}`);

  let remote: number | string;
  if (/^\d+$/.test(remoteText)) {
    const r = within(remoteText, REMOTE_PORT_RANGE, 'remote port');
    if (!r.ok) return r;
    remote = r.value;
  } else {
    const name = checkPortName(remoteText);
    if (!name.ok) return fail(`${quote(spec)}: ${name.message}`);
    if (localText === undefined) {
      return fail(`${quote(spec)}: a port name needs a local port, as in "8080:${remoteText}" or ":${remoteText}"`);
    }
    remote = remoteText;
  }

  let local: number;
  if (localText === undefined) local = remote as number;
  else if (localText === '') local = 0;
  else {
    const l = within(localText, LOCAL_PORT_RANGE, 'local port');
    if (!l.ok) return l;
    local = l.value;
  }
  return pass({ local, remote, spec });
}

/** Why a spec does not have the shape at all, for the message. */
function diagnose(spec: string): string {
  if (spec === '') return `port spec cannot be empty (${FORMS})`;
  const parts = spec.split(':');
  if (parts.length > 2) return `${quote(spec)} is not a port spec: ${FORMS}`;
  const [local = '', remote = ''] = parts.length === 2 ? parts : ['', spec];
  if (parts.length === 2 && !/^\d*$/.test(local)) {
    return `${quote(spec)}: local port ${quote(local)} is not a number`;
  }
  if (remote === '') return `${quote(spec)} has no remote port (${FORMS})`;
  // Something close to a name ("HTTP", "my_port") deserves the name rule rather than the generic message.
  if (/^[-\w]+$/.test(remote)) {
    const name = checkPortName(remote);
    if (!name.ok) return `${quote(spec)}: ${name.message}`;
  }
  return `${quote(spec)} is not a port or port name`;
}

/** ANSI colour for a terminal, or nothing: only when stdout is a TTY and NO_COLOR is unset (no-color.org). */
import type { SessionState } from '../../daemon/api/session.js';
import { sgr, type Paint } from '../../daemon/api/terminal-text.js';

export type { Paint } from '../../daemon/api/terminal-text.js';

/** The colours kportctl uses. */
export interface Style {
  enabled: boolean;
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  /** The colour of a session state: green when ready, yellow while it is getting there, red when failed. */
  state(state: SessionState): Paint;
}

const plain: Paint = (text) => text;

/** Colour for this terminal and environment. */
export function styleFor(isTTY: boolean, env: Record<string, string | undefined>): Style {
  const enabled = isTTY && !env.NO_COLOR;
  const [bold, dim, red, green, yellow] = enabled ? [sgr(1, 22), sgr(2, 22), sgr(31, 39), sgr(32, 39), sgr(33, 39)] : [plain, plain, plain, plain, plain];
  const byState: Record<SessionState, Paint> = { starting: yellow, ready: green, waiting: yellow, backoff: yellow, failed: red, stopped: dim };
  return { enabled, bold, dim, red, green, yellow, state: (s) => byState[s] };
}

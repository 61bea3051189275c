/** A frame redrawn in place on a terminal (`kportctl list -w`), throttled, and refreshed so ages stay true. */
import type { Output } from '../command.js';

/** Redraws at most this often, however fast changes come. */
const MIN_INTERVAL_MS = 250;
/** Redraws at least this often, for the AGE column. */
const TICK_MS = 1_000;

/** Draws `render()` from the top of the screen on `request()`, throttled; call `stop()` when done. */
export class Screen {
  private pending: NodeJS.Timeout | null = null;
  private tick: NodeJS.Timeout | null = null;
  private lastDraw = 0;
  private cleared = false;
  private unsubscribe = () => {};

  constructor(
    private readonly out: Output,
    private readonly render: () => string[],
  ) {}

  /** Draws now, then on every request, resize and tick. */
  start(): void {
    this.draw();
    this.tick = setInterval(() => this.request(), TICK_MS);
    this.unsubscribe = this.out.onResize(() => this.request());
  }

  /** Asks for a redraw; several requests within the interval make one. */
  request(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => this.draw(), Math.max(0, this.lastDraw + MIN_INTERVAL_MS - Date.now()));
  }

  /** Stops redrawing, leaving the last frame on screen. */
  stop(): void {
    if (this.pending) clearTimeout(this.pending);
    if (this.tick) clearInterval(this.tick);
    this.unsubscribe();
  }

  private draw(): void {
    this.pending = null;
    this.lastDraw = Date.now();
    let lines = this.render();
    // Past the bottom the terminal scrolls and "home" no longer means the top of the frame.
    const room = (this.out.rows ?? Infinity) - 1;
    if (lines.length > room) lines = [...lines.slice(0, Math.max(0, room - 1)), `… ${lines.length - room + 1} more lines (a taller terminal shows them)`];
    // Home, each line cleared to its end, then everything below: no flicker from clearing the whole screen.
    this.out.write(`${this.cleared ? '' : '\x1b[2J'}\x1b[H${lines.map((l) => `${l}\x1b[K\n`).join('')}\x1b[J`);
    this.cleared = true;
  }
}

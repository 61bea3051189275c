/**
 * Column layout for a terminal width: every column as wide as its widest cell; while the table is
 * too wide, free-text columns are cut (with `…`) down to their minimums in the order they name
 * (the least telling first); if that is not enough, optional columns are left out, and only then
 * is every column cut alike.
 */
import { oneLine } from './format.js';
import type { Paint } from './style.js';

/** One column of a table over rows of type R. */
export interface Column<R> {
  header: string;
  cell(row: R): string;
  /** Free text (targets, reasons) that may be cut: columns with a lower rank are cut first. */
  flex?: number;
  /** The narrowest a flexible column is cut to; default the header's width. */
  min?: number;
  /** Left out, rather than every column cut below its minimum, when the table cannot fit otherwise. */
  optional?: boolean;
  /** Right-align (numbers). */
  right?: boolean;
  /** Colour for this row's cell, applied after layout so escapes never count as width. */
  paint?(row: R): Paint;
}

const GAP = '  ';

/** Display width in code points (kportctl's cells are ASCII plus a few single-width symbols). */
function width(text: string): number {
  return [...text].length;
}

/** `text` cut to `w` code points, ending in `…` when cut. */
export function truncate(text: string, w: number): string {
  const chars = [...text];
  if (chars.length <= w) return text;
  return w <= 0 ? '' : `${chars.slice(0, w - 1).join('')}…`;
}

/** The narrowest a flexible column is cut to. */
function minimum<R>(c: Column<R>): number {
  return c.min ?? width(c.header);
}

/** Narrows `widths` in place until the row fits `max`: flexible columns rank by rank, then all columns. */
function fit<R>(widths: number[], columns: readonly Column<R>[], max: number): void {
  let excess = widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1) - max;
  // Widest first among `candidates`, one column at a time, down to `floor`.
  const shrink = (candidates: number[], floor: (i: number) => number) => {
    while (excess > 0) {
      let pick = -1;
      for (const i of candidates) if (widths[i]! > floor(i) && (pick === -1 || widths[i]! > widths[pick]!)) pick = i;
      if (pick === -1) return;
      widths[pick]!--;
      excess--;
    }
  };
  const all = columns.map((_, i) => i);
  const ranks = [...new Set(columns.flatMap((c) => (c.flex === undefined ? [] : [c.flex])))].sort((a, b) => a - b);
  for (const rank of ranks) {
    shrink(
      all.filter((i) => columns[i]!.flex === rank),
      (i) => minimum(columns[i]!),
    );
  }
  shrink(all, () => 1);
}

/** Renders `rows` under a header as lines no wider than `maxWidth` (Infinity: never cut). */
export function table<R>(columns: readonly Column<R>[], rows: readonly R[], maxWidth: number): string[] {
  const cells = rows.map((row) => columns.map((c) => oneLine(c.cell(row))));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...cells.map((r) => width(r[i]!))));
  const narrowest = widths.reduce((sum, w, i) => sum + (columns[i]!.flex === undefined ? w : Math.min(w, minimum(columns[i]!))), 0);
  const optional = columns.findLastIndex((c) => c.optional);
  if (narrowest + GAP.length * (columns.length - 1) > maxWidth && optional !== -1) {
    return table(columns.filter((_, i) => i !== optional), rows, maxWidth);
  }
  fit(widths, columns, maxWidth);

  const line = (texts: string[], paints: (Paint | undefined)[]) =>
    texts
      .map((text, i) => {
        const w = widths[i]!;
        const shown = truncate(text, w);
        const pad = ' '.repeat(w - width(shown));
        const painted = paints[i]?.(shown) ?? shown;
        return columns[i]!.right ? pad + painted : painted + pad;
      })
      .join(GAP)
      .trimEnd();

  return [
    line(columns.map((c) => c.header), []),
    ...rows.map((row, r) => line(cells[r]!, columns.map((c) => c.paint?.(row)))),
  ];
}

/** The width to lay tables out for: the terminal's, else $COLUMNS, else 80. */
export function tableWidth(out: { isTTY: boolean; columns: number | undefined }, env: Record<string, string | undefined>): number {
  const fromEnv = Number(env.COLUMNS);
  if (out.isTTY && out.columns) return out.columns;
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
}

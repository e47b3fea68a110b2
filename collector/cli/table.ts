/** Plain-text tables for CLI output: one header row, right-aligned numbers, control characters escaped. */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Escapes control characters so recorded data cannot drive the terminal. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An exact decimal (money), printed as its text and aligned like a number. */
export interface DecimalCell { decimal: string }

export function decimalCell(text: string): DecimalCell {
  return { decimal: text };
}

export type Cell = string | number | boolean | null | undefined | Date | DecimalCell;

function isNumeric(v: Cell): boolean {
  return typeof v === 'number' || v === null || v === undefined || (typeof v === 'object' && !(v instanceof Date));
}

function show(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object' && !(v instanceof Date)) return v.decimal;
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  if (typeof v === 'number') return String(Number.isInteger(v) ? v : Number(v.toPrecision(10)));
  return printable(String(v));
}

export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const text = rows.map((r) => r.map(show));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => isNumeric(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

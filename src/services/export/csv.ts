/** CSV as RFC 4180 has it, for spreadsheets: CRLF lines, quoted cells, a BOM, formula-safe. */

export type Cell = string | number | null;

/** Byte order mark: Excel reads a CSV without one in the machine's code page, not UTF-8. */
export const CSV_BOM = '\uFEFF';

/**
 * Characters that make a spreadsheet read a cell as a formula (=, +, -, @) or that some strip
 * before doing so (tab, carriage return): a cell starting with one gets a leading single quote,
 * so a document titled `=HYPERLINK(...)` is shown as text instead of run (CSV injection).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: text that could start a formula is quoted away; quotes, commas and line breaks are enclosed. */
export function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvLine(cells: readonly Cell[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += i === 0 ? csvCell(cells[i]!) : `,${csvCell(cells[i]!)}`;
  return `${line}\r\n`;
}

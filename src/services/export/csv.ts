/** CSV as RFC 4180 has it, for spreadsheets: CRLF lines, quoted cells, a BOM, formula-safe. */

export type Cell = string | number | null;

/** Byte order mark: Excel reads a CSV without one in the machine's code page, not UTF-8. */
export const CSV_BOM = '\uFEFF';

/**
 * Whether a cell starting with this code unit would be read by a spreadsheet as a formula (=, +,
 * -, @) or after some strip it (tab, carriage return): such a cell gets a leading single quote,
 * so a document titled `=HYPERLINK(...)` is shown as text instead of run (CSV injection).
 * Looked up by the first code unit instead of a regular expression: it runs for every cell.
 */
const formulaStart = (unit: number): boolean => unit === 61 || unit === 43 || unit === 45 || unit === 64 || unit === 9 || unit === 13;

/** Characters that make a cell enclosed in quotes. */
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell: text that could start a formula is quoted away; quotes, commas and line breaks are enclosed. */
export function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = formulaStart(value.charCodeAt(0)) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvLine(cells: readonly Cell[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += i === 0 ? csvCell(cells[i]!) : `,${csvCell(cells[i]!)}`;
  return `${line}\r\n`;
}

/**
 * What an export writes of a document: its columns, in order, for CSV and XLSX, and its JSONL object.
 *
 * Each format's line is written straight from the record, column by column, with no array of
 * cells or object per row in between: at 100,000 rows those short-lived values and their garbage
 * cost more than the writing itself (issue 19: 20,000 rows/s or more).
 */
import { PII_KINDS } from '../../domain/vocabulary.ts';
import type { ExportRecord } from '../../store/export.repository.ts';
import type { DuplicateMembership } from '../duplicates.service.ts';
import { csvCell, type Cell } from './csv.ts';
import type { FieldValue } from '../../domain/fields.ts';

/** A document as an export writes it: the store's record and the duplicate group its file is in. */
export interface ExportRow extends ExportRecord {
  /** null: the file is in no duplicate group (or the document is inside a file: groups are of files). */
  duplicate: DuplicateMembership | null;
}

interface Column {
  header: string;
  cell: (r: ExportRow) => Cell;
  /** The JSONL value, when it is not the cell's. */
  json?: (r: ExportRow) => unknown;
}

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

/** Tags as one cell: `label (confidence)` joined with '; '. */
export function tagsCell(tags: ExportRecord['tags']): string | null {
  return tags ? tags.map((t) => `${t.label} (${t.confidence})`).join('; ') : null;
}

export const EXPORT_COLUMNS: readonly Column[] = [
  { header: 'path', cell: (r) => r.path },
  { header: 'name', cell: (r) => r.name },
  { header: 'folder', cell: (r) => r.folder },
  { header: 'extension', cell: (r) => r.extension },
  { header: 'size', cell: (r) => r.size },
  { header: 'modified', cell: (r) => iso(r.modified) },
  { header: 'format', cell: (r) => r.format },
  { header: 'status', cell: (r) => r.status },
  { header: 'title', cell: (r) => r.title },
  { header: 'author', cell: (r) => r.author },
  { header: 'created', cell: (r) => iso(r.created) },
  { header: 'language', cell: (r) => r.language },
  { header: 'pages', cell: (r) => r.pages },
  { header: 'words', cell: (r) => r.words },
  { header: 'origin', cell: (r) => r.origin },
  { header: 'parent_path', cell: (r) => r.parentPath },
  { header: 'text_source', cell: (r) => r.textSource },
  {
    header: 'tags',
    cell: (r) => tagsCell(r.tags),
    // Tags stay a list in JSONL.
    json: (r) => r.tags?.map((t) => ({ label: t.label, confidence: t.confidence })) ?? null,
  },
  { header: 'primary_category', cell: (r) => r.primaryCategory },
  { header: 'summary', cell: (r) => r.summary },
  { header: 'duplicate_group', cell: (r) => r.duplicate?.group ?? null },
  { header: 'duplicate_kind', cell: (r) => r.duplicate?.kind ?? null },
  { header: 'duplicate_of', cell: (r) => r.duplicate?.duplicateOf ?? null },
  { header: 'duplicate_similarity', cell: (r) => r.duplicate?.similarity ?? null },
  // One column per kind, in the vocabulary's order: distinct values found, 0 when none.
  ...PII_KINDS.map((kind): Column => ({ header: `personal_data_${kind}`, cell: (r) => r.personalData[kind] ?? 0 })),
];

export const EXPORT_HEADER: readonly string[] = EXPORT_COLUMNS.map((c) => c.header);

export function exportCells(r: ExportRow): Cell[] {
  const out = new Array<Cell>(EXPORT_COLUMNS.length);
  for (let i = 0; i < EXPORT_COLUMNS.length; i++) out[i] = EXPORT_COLUMNS[i]!.cell(r);
  return out;
}

/** One JSONL line's object: the same fields under the same names, tags kept as a list. */
export function exportJson(r: ExportRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of EXPORT_COLUMNS) out[c.header] = c.json ? c.json(r) : c.cell(r);
  return out;
}

/** A custom field's value as a cell: numbers stay numbers, booleans and dates become text. */
function fieldCell(value: FieldValue | undefined): Cell {
  if (value === undefined || value === null) return null;
  return typeof value === 'boolean' ? String(value) : value;
}

/** A cell as JSON.stringify writes it (a number that is not finite is null there). */
function cellJson(value: Cell): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  return JSON.stringify(value);
}

/**
 * The columns of one export: the fixed ones, then one `field.<name>` column per custom field of
 * the taxonomies the folder's documents were classified with (`fields`, in order); in JSONL the
 * values are one `fields` object (every listed field, null where a document has none).
 *
 * `csvLine` and `jsonLine` write what `csvLine(cells(r))` and `JSON.stringify(json(r))` would,
 * without building the cells or the object.
 */
export function exportLayout(fields: readonly string[]) {
  const cells = (r: ExportRow): Cell[] => {
    const out = exportCells(r);
    for (const f of fields) out.push(fieldCell(r.fields?.[f]));
    return out;
  };
  const fieldsJson = (r: ExportRow) => Object.fromEntries(fields.map((f) => [f, r.fields?.[f] ?? null]));
  // Each column's key as JSON writes it, with the separator before it.
  const jsonKeys = EXPORT_COLUMNS.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c.header)}:`);
  return {
    header: [...EXPORT_HEADER, ...fields.map((f) => `field.${f}`)] as readonly string[],
    cells,
    json: (r: ExportRow): Record<string, unknown> => {
      const out = exportJson(r);
      if (fields.length > 0) out.fields = fieldsJson(r);
      return out;
    },
    /** One CSV record, CRLF-terminated. */
    csvLine(r: ExportRow): string {
      let line = csvCell(EXPORT_COLUMNS[0]!.cell(r));
      for (let i = 1; i < EXPORT_COLUMNS.length; i++) line += `,${csvCell(EXPORT_COLUMNS[i]!.cell(r))}`;
      for (const f of fields) line += `,${csvCell(fieldCell(r.fields?.[f]))}`;
      return `${line}\r\n`;
    },
    /** One JSONL line, newline-terminated. */
    jsonLine(r: ExportRow): string {
      let line = '';
      for (let i = 0; i < EXPORT_COLUMNS.length; i++) {
        const c = EXPORT_COLUMNS[i]!;
        line += jsonKeys[i]! + (c.json ? JSON.stringify(c.json(r)) : cellJson(c.cell(r)));
      }
      if (fields.length > 0) line += `,"fields":${JSON.stringify(fieldsJson(r))}`;
      return `${line}}\n`;
    },
  };
}

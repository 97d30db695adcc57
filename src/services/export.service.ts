/**
 * Exports: every document of a folder and its subfolders with its metadata and classification,
 * as CSV, JSONL or XLSX, written while the documents are read a page at a time. The body is pulled
 * by its consumer (the HTTP reply): a page is read ahead while the last one is written, and no
 * further, so a slow reader holds the export at two pages.
 */
import type { Principal } from '../domain/access.ts';
import type { ExportRepository } from '../store/export.repository.ts';
import type { DuplicateMembership, DuplicatesService } from './duplicates.service.ts';
import { exportLayout, type ExportRow } from './export/columns.ts';
import { CSV_BOM, csvLine } from './export/csv.ts';
import { xlsxStream } from './export/xlsx.ts';
import type { InsightsService } from './insights.service.ts';

export const EXPORT_FORMATS = ['csv', 'jsonl', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export interface FolderExport {
  folder: string;
  format: ExportFormat;
  contentType: string;
  /** ASCII only, safe in a Content-Disposition header. */
  fileName: string;
  body: AsyncIterable<string | Uint8Array>;
}

export interface ExportServiceDeps {
  exports: ExportRepository;
  knownFolder: InsightsService['knownFolder'];
  /** The folder's files in duplicate groups; absent: the export says nothing of duplicates. */
  duplicates?: Pick<DuplicatesService, 'membership'>;
  /** Documents read per statement. */
  pageSize?: number;
  now?: () => Date;
}

/** `docsight-<folder's last name>-<date>.<format>`, in letters, digits, '.', '_' and '-' only. */
export function exportFileName(folder: string, format: ExportFormat, now: Date): string {
  const base = (folder.split('/').at(-1) ?? '').normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '').slice(0, 80);
  return `docsight-${base || 'all'}-${now.toISOString().slice(0, 10)}.${format}`;
}

export function createExportService(deps: ExportServiceDeps) {
  const pageSize = deps.pageSize ?? 2000;

  async function* pages(folder: string): AsyncGenerator<ExportRow[]> {
    const read = (after: string | null) => {
      const page = deps.exports.page(folder, after, pageSize);
      // Awaited below; a consumer that stops early leaves it unread, and that is no failure.
      page.catch(() => undefined);
      return page;
    };
    // The first page is read while the groups are found: the database works on it meanwhile.
    let next = read(null);
    // Groups are found over the whole folder before the first row (they need every signature);
    // what is kept is one small entry per file in a group, not the folder's rows.
    const groups = (await deps.duplicates?.membership(folder)) ?? new Map<string, DuplicateMembership>();
    for (;;) {
      const page = await next;
      const more = page.length === pageSize;
      // The next page is read while this one is written: the database and the writer overlap,
      // and no more than two pages are held.
      if (more) next = read(page[page.length - 1]!.path);
      if (page.length > 0) {
        // The record becomes the row in place: a copy of each would be garbage at once.
        const rows = page as ExportRow[];
        for (const r of rows) r.duplicate = groups.get(r.id) ?? null;
        yield rows;
      }
      if (!more) return;
    }
  }

  type Layout = ReturnType<typeof exportLayout>;

  async function* csv(folder: string, layout: Layout): AsyncGenerator<string> {
    yield CSV_BOM + csvLine(layout.header);
    for await (const page of pages(folder)) {
      let text = '';
      for (const r of page) text += layout.csvLine(r);
      yield text;
    }
  }

  async function* jsonl(folder: string, layout: Layout): AsyncGenerator<string> {
    for await (const page of pages(folder)) {
      let text = '';
      for (const r of page) text += layout.jsonLine(r);
      yield text;
    }
  }

  async function* xlsxRows(folder: string, layout: Layout) {
    for await (const page of pages(folder)) yield page.map(layout.cells);
  }

  return {
    /**
     * The export of `path` (404 outside the caller's scope or unknown); the body is read lazily,
     * after the folder was checked, so a refusal comes before any byte is written.
     */
    async exportFolder(path: string, format: ExportFormat, access: Principal): Promise<FolderExport> {
      const { rel } = await deps.knownFolder(path, access);
      // The columns come before the first row, so the custom fields are those of every taxonomy
      // version the folder's documents were last classified under, read up front.
      const layout = exportLayout(await deps.exports.fieldNames(rel));
      const body = format === 'csv' ? csv(rel, layout) : format === 'jsonl' ? jsonl(rel, layout) : xlsxStream(layout.header, xlsxRows(rel, layout));
      const fileName = exportFileName(rel, format, deps.now?.() ?? new Date());
      return { folder: rel, format, contentType: CONTENT_TYPES[format], fileName, body };
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;

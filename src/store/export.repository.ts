/**
 * Pages of a folder's documents (recursive) for exports: each document with what the export
 * writes of it, in path order, one page per statement (keyset on the unique path), so an export
 * of any size holds one page at a time.
 */
import { sql } from 'kysely';
import { descendantRange } from '../domain/paths.ts';
import type { DocumentOrigin, DocumentStatus, PiiKind, TextSource } from '../domain/vocabulary.ts';
import type { PiiSummary } from '../contract.ts';
import type { FieldValue } from '../domain/fields.ts';
import type { Db } from './database.ts';

/** One document as an export writes it. */
export interface ExportRecord {
  id: string;
  path: string;
  name: string;
  folder: string;
  extension: string;
  size: number;
  /** The document's own modified date when known, else the file's. */
  modified: Date;
  format: string | null;
  status: DocumentStatus;
  title: string | null;
  author: string | null;
  created: Date | null;
  language: string | null;
  pages: number | null;
  words: number | null;
  origin: DocumentOrigin;
  /** The e-mail or archive the document was found in. */
  parentPath: string | null;
  textSource: TextSource | null;
  tags: { label: string; confidence: number }[] | null;
  primaryCategory: string | null;
  summary: string | null;
  /** Distinct values of personal data found, per kind found (none: an empty object). */
  personalData: Partial<Record<PiiKind, number>>;
  /** Custom field values of the latest classification (migration 0019); null when unclassified. */
  fields: Record<string, FieldValue> | null;
}

interface ExportRow {
  id: string;
  path: string;
  name: string;
  folder: string;
  extension: string;
  size: string;
  modified: Date;
  format: string | null;
  status: DocumentStatus;
  title: string | null;
  author: string | null;
  doc_created: Date | null;
  language: string | null;
  page_count: number | null;
  word_count: number | null;
  origin: DocumentOrigin;
  parent_path: string | null;
  text_source: TextSource | null;
  tags: { label: string; confidence: number }[] | null;
  primary_category: string | null;
  summary: string | null;
  pii: PiiSummary | null;
  fields: Record<string, FieldValue> | null;
}

/** Live documents inside `folder` (recursive); a document inside a file is in its file's folder. */
function withinFolder(folder: string) {
  const range = descendantRange(folder);
  return range
    ? sql`and d.path >= ${range.lower} and d.path < ${range.upper}
          and (d.origin = 'file' or d.folder = ${folder} or (d.folder >= ${range.lower} and d.folder < ${range.upper}))`
    : sql``;
}

export function createExportRepository(db: Db) {
  return {
    /**
     * Up to `limit` live documents inside `folder` whose path comes after `afterPath`, in path
     * order. A document inside a file is in its file's folder: a real folder named like
     * '<file>#1' holds none of that file's attachments, though their paths fall in its range.
     */
    async page(folder: string, afterPath: string | null, limit: number): Promise<ExportRecord[]> {
      const within = withinFolder(folder);
      const after = afterPath === null ? sql`` : sql`and d.path > ${afterPath}`;
      // The page's documents are chosen first and joined after: with the joins around the
      // limit, the planner took a parallel plan for 2,000 rows whose workers' start cost more than
      // the page (a third of the export's time on the insights benchmark).
      const r = await sql<ExportRow>`
        select d.id, d.path, d.name, d.folder, d.extension, d.size, d.modified,
               d.format, d.status, d.title, d.author, d.doc_created, d.language, d.page_count, d.word_count,
               d.origin, p.path as parent_path, d.text_source, c.tags, c.primary_category, c.summary, c.fields, d.pii
        from (select d.id, d.path, d.name, d.folder, d.extension, d.size, coalesce(d.doc_modified, d.mtime) as modified,
                     d.format, d.status, d.title, d.author, d.doc_created, d.language, d.page_count, d.word_count,
                     d.origin, d.parent_id, d.text_source, d.classification_id, d.pii
              from documents d
              where d.deleted_at is null ${within} ${after}
              order by d.path
              limit ${limit}) d
        left join documents p on p.id = d.parent_id
        left join classifications c on c.id = d.classification_id
        order by d.path`.execute(db);
      return r.rows.map((x) => ({
        id: x.id,
        path: x.path,
        name: x.name,
        folder: x.folder,
        extension: x.extension,
        size: Number(x.size),
        modified: x.modified,
        format: x.format,
        status: x.status,
        title: x.title,
        author: x.author,
        created: x.doc_created,
        language: x.language,
        pages: x.page_count,
        words: x.word_count,
        origin: x.origin,
        parentPath: x.parent_path,
        textSource: x.text_source,
        tags: x.tags,
        primaryCategory: x.primary_category,
        summary: x.summary,
        fields: x.fields,
        personalData: Object.fromEntries(Object.entries(x.pii ?? {}).map(([kind, found]) => [kind, found.count])),
      }));
    },

    /**
     * The custom field names of every taxonomy version the folder's documents were last
     * classified under: by taxonomy name, newest version first, each name once. One pass over
     * the folder's documents, before the export's first row.
     */
    async fieldNames(folder: string): Promise<string[]> {
      const r = await sql<{ fields: { name: string }[] }>`
        select v.fields
        from (select distinct c.taxonomy_id, c.taxonomy_version
              from documents d join classifications c on c.id = d.classification_id
              where d.deleted_at is null ${withinFolder(folder)}) k
        join taxonomy_versions v on v.taxonomy_id = k.taxonomy_id and v.version = k.taxonomy_version
        join taxonomies t on t.id = k.taxonomy_id
        where v.fields <> '[]'::jsonb
        order by t.name, k.taxonomy_version desc`.execute(db);
      const names = new Set<string>();
      for (const row of r.rows) for (const f of row.fields) names.add(f.name);
      return [...names];
    },
  };
}

export type ExportRepository = ReturnType<typeof createExportRepository>;

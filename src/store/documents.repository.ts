/** Documents: the scan's upserts, the extractor's bulk updates, and reads by id. */
import { type Transaction, sql } from 'kysely';
import { unchangedSinceExtraction } from '../domain/documents.ts';
import { descendantRange } from '../domain/paths.ts';
import type { Db } from './database.ts';
import type { Database, DocumentStatus } from './schema.ts';

export interface SeenFile {
  path: string;
  folder: string;
  name: string;
  extension: string;
  size: number;
  mtime: Date;
}

export interface SeenRow {
  id: string;
  path: string;
  /** True when the row existed with the same size and mtime and a final status. */
  unchanged: boolean;
}

export interface ExtractionTarget {
  id: string;
  path: string;
  sha256: string | null;
  status: DocumentStatus;
}

/** What extraction decided for one document; written in bulk by applyExtraction. */
export type DocumentUpdate =
  | {
      id: string;
      status: 'extracted' | 'unsupported';
      size: number;
      mtime: Date;
      sha256: string;
      mimeType: string;
      format: string;
      title: string | null;
      author: string | null;
      docCreated: string | null;
      docModified: string | null;
      language: string | null;
      pageCount: number | null;
      wordCount: number | null;
      metadata: Record<string, unknown>;
      text: string;
      textTruncated: boolean;
    }
  | {
      id: string;
      status: 'failed';
      size: number;
      mtime: Date;
      sha256: string | null;
      mimeType: string | null;
      format: string | null;
      errorCode: string;
      errorMessage: string;
    }
  /** Same content as last time (hash unchanged): refresh the file facts only. */
  | { id: string; status: 'unchanged'; size: number; mtime: Date };

/** The fields every read of a document carries (listings and the document itself). */
export interface DocumentFields {
  id: string;
  path: string;
  folder: string;
  name: string;
  extension: string;
  size: number;
  mtime: Date;
  sha256: string | null;
  mimeType: string | null;
  format: string | null;
  status: DocumentStatus;
  errorCode: string | null;
  errorMessage: string | null;
  title: string | null;
  author: string | null;
  docCreated: Date | null;
  docModified: Date | null;
  language: string | null;
  pageCount: number | null;
  wordCount: number | null;
  metadata: Record<string, unknown>;
}

/** The columns behind DocumentFields, for every query that reads them. */
export const DOCUMENT_COLUMNS = [
  'id', 'path', 'folder', 'name', 'extension', 'size', 'mtime', 'sha256', 'mime_type', 'format', 'status',
  'error_code', 'error_message', 'title', 'author', 'doc_created', 'doc_modified', 'language', 'page_count',
  'word_count', 'metadata',
] as const;

type DocumentColumnsRow = {
  id: string;
  path: string;
  folder: string;
  name: string;
  extension: string;
  size: number | string;
  mtime: Date;
  sha256: string | null;
  mime_type: string | null;
  format: string | null;
  status: DocumentStatus;
  error_code: string | null;
  error_message: string | null;
  title: string | null;
  author: string | null;
  doc_created: Date | null;
  doc_modified: Date | null;
  language: string | null;
  page_count: number | null;
  word_count: number | null;
  metadata: Record<string, unknown>;
};

export function toDocumentFields(r: DocumentColumnsRow): DocumentFields {
  return {
    id: r.id,
    path: r.path,
    folder: r.folder,
    name: r.name,
    extension: r.extension,
    size: Number(r.size),
    mtime: r.mtime,
    sha256: r.sha256,
    mimeType: r.mime_type,
    format: r.format,
    status: r.status,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    title: r.title,
    author: r.author,
    docCreated: r.doc_created,
    docModified: r.doc_modified,
    language: r.language,
    pageCount: r.page_count,
    wordCount: r.word_count,
    metadata: r.metadata,
  };
}

export interface DocumentDetail extends DocumentFields {
  textLength: number;
  textPreview: string | null;
  textTruncated: boolean;
  extractionCount: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  extractedAt: Date | null;
  deletedAt: Date | null;
  classificationId: string | null;
}

export function createDocumentsRepository(db: Db) {
  return {
    /**
     * Record a batch of files seen by a scan in one statement: new files become pending rows;
     * known files are marked seen (and undeleted). The returned flag says whether the file can be
     * skipped: same size and mtime as when it was last extracted.
     *
     * Lock order: the known rows are locked first, in id order (as applyExtraction and the
     * classification trigger lock them), then the upsert runs in path order. An upsert locks
     * conflicting rows in the order of its VALUES, so without the first step a scan (file order)
     * and an extraction of the same documents (another order) could each hold a row the other
     * waits for: a deadlock, and one of them rolled back.
     */
    async upsertSeen(files: SeenFile[]): Promise<SeenRow[]> {
      if (files.length === 0) return [];
      const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const paths = sorted.map((f) => f.path);
      const rows = await db
        .with('locked', (qb) =>
          qb
            .selectFrom('documents')
            .select('id')
            .where('path', '=', sql<string>`any(${paths}::text[])`)
            .orderBy('id')
            .forNoKeyUpdate(),
        )
        .insertInto('documents')
        .columns(['path', 'folder', 'name', 'extension', 'size', 'mtime'])
        .expression((eb) =>
          eb
            .selectFrom(
              sql<{ path: string; folder: string; name: string; extension: string; size: number; mtime: Date }>`(values ${sql.join(
                sorted.map((f) => sql`(${f.path}, ${f.folder}, ${f.name}, ${f.extension}, ${f.size}::bigint, ${f.mtime}::timestamptz)`),
              )})`.as(sql`v(path, folder, name, extension, size, mtime)`),
            )
            .select(['v.path', 'v.folder', 'v.name', 'v.extension', 'v.size', 'v.mtime'])
            // Referenced, so the locking CTE runs (once, before the first row is inserted).
            .where(sql<boolean>`(select count(*) from locked) >= 0`),
        )
        .onConflict((oc) =>
          oc.column('path').doUpdateSet({ last_seen_at: sql`now()`, deleted_at: null }),
        )
        // size and mtime are not updated here, so RETURNING gives the values of the last extraction.
        .returning(['id', 'path', 'size', 'mtime', 'status', sql<boolean>`(xmax = 0)`.as('inserted')])
        .execute();
      const byPath = new Map(files.map((f) => [f.path, f]));
      return rows.map((r) => {
        const f = byPath.get(r.path);
        const unchanged = !r.inserted && f !== undefined && unchangedSinceExtraction(r, f);
        return { id: r.id, path: r.path, unchanged };
      });
    },

    async loadForExtraction(ids: string[]): Promise<ExtractionTarget[]> {
      if (ids.length === 0) return [];
      return db
        .selectFrom('documents')
        .select(['id', 'path', 'sha256', 'status'])
        .where('id', 'in', ids)
        .execute();
    },

    /**
     * Write a batch of extraction outcomes in one statement per kind, after locking the batch's
     * rows in id order (the order upsertSeen and the classification trigger use): an UPDATE ...
     * FROM locks rows in whatever order its plan visits them.
     */
    async applyExtraction(trx: Transaction<Database>, updates: DocumentUpdate[]): Promise<void> {
      if (updates.length === 0) return;
      await sql`
        select 1 from documents where id = any(${updates.map((u) => u.id)}::uuid[])
        order by id for no key update`.execute(trx);
      const full = updates.filter((u) => u.status !== 'unchanged');
      const touched = updates.filter((u) => u.status === 'unchanged');
      if (full.length > 0) {
        const payload = full.map((u) =>
          u.status === 'failed'
            ? {
                id: u.id,
                size: u.size,
                mtime: u.mtime.toISOString(),
                sha256: u.sha256,
                mime_type: u.mimeType,
                format: u.format,
                status: 'failed',
                error_code: u.errorCode,
                error_message: u.errorMessage,
                metadata: {},
                text_truncated: false,
              }
            : {
                id: u.id,
                size: u.size,
                mtime: u.mtime.toISOString(),
                sha256: u.sha256,
                mime_type: u.mimeType,
                format: u.format,
                status: u.status,
                error_code: u.status === 'unsupported' ? 'unsupported' : null,
                error_message: null,
                title: u.title,
                author: u.author,
                doc_created: u.docCreated,
                doc_modified: u.docModified,
                language: u.language,
                page_count: u.pageCount,
                word_count: u.wordCount,
                metadata: u.metadata,
                text: u.text,
                text_truncated: u.textTruncated,
              },
        );
        await sql`
          update documents d set
            size = x.size, mtime = x.mtime, sha256 = x.sha256, mime_type = x.mime_type,
            format = x.format, status = x.status, error_code = x.error_code,
            error_message = x.error_message, title = x.title, author = x.author,
            doc_created = x.doc_created, doc_modified = x.doc_modified, language = x.language,
            page_count = x.page_count, word_count = x.word_count, metadata = x.metadata,
            text = x.text, text_truncated = x.text_truncated,
            extraction_count = d.extraction_count + 1, extracted_at = now(), updated_at = now()
          from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(
            id uuid, size bigint, mtime timestamptz, sha256 text, mime_type text, format text,
            status text, error_code text, error_message text, title text, author text,
            doc_created timestamptz, doc_modified timestamptz, language text, page_count integer,
            word_count integer, metadata jsonb, text text, text_truncated boolean)
          where d.id = x.id`.execute(trx);
      }
      if (touched.length > 0) {
        const payload = touched.map((u) => ({ id: u.id, size: u.size, mtime: u.mtime.toISOString() }));
        await sql`
          update documents d set size = x.size, mtime = x.mtime, updated_at = now()
          from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(id uuid, size bigint, mtime timestamptz)
          where d.id = x.id`.execute(trx);
      }
    },

    /** Files that vanished between the scan and their extraction. */
    async markDeleted(ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await db
        .updateTable('documents')
        .set({ deleted_at: sql`now()`, updated_at: sql`now()` })
        .where('id', 'in', ids)
        .execute();
    },

    /** After a complete walk: documents under `folder` not seen since `since` are gone. */
    async markDeletedNotSeenSince(folder: string, since: Date): Promise<number> {
      const range = descendantRange(folder);
      let q = db
        .updateTable('documents')
        .set({ deleted_at: sql`now()`, updated_at: sql`now()` })
        .where('deleted_at', 'is', null)
        .where('last_seen_at', '<', since);
      if (range) q = q.where('path', '>=', range.lower).where('path', '<', range.upper);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    async findById(id: string): Promise<DocumentDetail | undefined> {
      const r = await db
        .selectFrom('documents')
        .select([
          ...DOCUMENT_COLUMNS, 'text_truncated',
          'extraction_count', 'first_seen_at', 'last_seen_at', 'extracted_at', 'deleted_at', 'classification_id',
          sql<number>`coalesce(length(text), 0)`.as('text_length'),
          sql<string | null>`left(text, 2000)`.as('text_preview'),
        ])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!r) return undefined;
      return {
        ...toDocumentFields(r),
        textLength: r.text_length,
        textPreview: r.text_preview,
        textTruncated: r.text_truncated,
        extractionCount: r.extraction_count,
        firstSeenAt: r.first_seen_at,
        lastSeenAt: r.last_seen_at,
        extractedAt: r.extracted_at,
        deletedAt: r.deleted_at,
        classificationId: r.classification_id,
      };
    },

    async textOf(id: string): Promise<string | null> {
      const r = await db.selectFrom('documents').select('text').where('id', '=', id).executeTakeFirst();
      return r?.text ?? null;
    },
  };
}

export type DocumentsRepository = ReturnType<typeof createDocumentsRepository>;

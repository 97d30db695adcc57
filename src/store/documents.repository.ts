/** Documents: the scan's upserts, the extractor's bulk updates, and reads by id. */
import { randomUUID } from 'node:crypto';
import { type RawBuilder, type Selectable, type Transaction, sql } from 'kysely';
import type { ChildDocument, DocumentOcr, PiiSummary } from '../contract.ts';
import { unchangedSinceExtraction } from '../domain/documents.ts';
import { descendantRange, parentOf } from '../domain/paths.ts';
import { type ChangeEntry, recordChanges } from './changes.repository.ts';
import type { Db } from './database.ts';
import type { DocumentOrigin, OcrStatus, TextSource } from '../domain/vocabulary.ts';
import type { Database, DocumentsTable, DocumentStatus } from './schema.ts';

export type { ChildDocument, DocumentOcr };

export interface SeenFile {
  path: string;
  folder: string;
  name: string;
  extension: string;
  size: number;
  mtime: Date;
  /** A bucket object's ETag: with size and mtime, what tells it unchanged (absent for files on disk). */
  etag?: string | null;
}

export interface SeenRow {
  id: string;
  path: string;
  /** True when the row existed with the same size and mtime and a final status. */
  unchanged: boolean;
  /** True when this walk saw the path for the first time. */
  inserted: boolean;
}

/** A file on record as a scan compares it with what its listing found (known files, deleted ones too). */
export interface KnownFile {
  id: string;
  path: string;
  size: number | string;
  mtime: Date;
  etag: string | null;
  status: DocumentStatus;
  deleted: boolean;
}

/** A folder's recorded files with a path in (after, upTo] (null: unbounded on that side). */
export interface KnownRange {
  folder: string;
  after: string | null;
  upTo: string | null;
}

/** A file under the retention period: kept as deleted, and a move of its content can take it back. */
export interface MoveCandidate {
  id: string;
  path: string;
  sha256: string;
  deletedAt: Date | null;
}

/** A fresh document found to be a known one moved: the known row takes the new path. */
export interface AdoptedMove {
  /** The fresh row the scan made for the new path (deleted). */
  freshId: string;
  /** The known document, which keeps its id, classification and history. */
  knownId: string;
  oldPath: string;
  newPath: string;
  sha256: string;
  size: number;
  mtime: Date;
  /** The new object's ETag (null: a file on disk), so the next scan finds it unchanged. */
  etag: string | null;
  /** When the known row was marked deleted (null: its file was just found missing). */
  deletedAt: Date | null;
  /** The scan that found the move (null: none, as in a test). */
  jobId: string | null;
}

export interface ExtractionTarget {
  id: string;
  path: string;
  /** Bytes as last recorded (a new document: as listed). */
  size: number | string;
  sha256: string | null;
  status: DocumentStatus;
  /** 0: never extracted, so whatever extraction finds is new (or a known document moved). */
  extractionCount: number;
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
      /** Where the text came from (absent: nowhere yet). */
      textSource?: TextSource | null;
      /** Set when the document has pages only OCR can read. */
      ocr?: OcrState;
      /** MinHash signature of the text (extract/minhash.ts); absent: too short to compare. */
      signature?: number[];
      /** Personal data found, masked (src/pii); absent: none, or detection off. */
      pii?: PiiSummary;
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

/** The bucket object's ETag as it was read, recorded beside size and mtime (files on disk have none). */
export type ObjectTag = { id: string; etag: string };

/** A document's OCR stage as extraction leaves it (a cached result is applied at once: `done`). */
export interface OcrState {
  status: OcrStatus;
  jobId: string | null;
  pages: number | null;
  confidence: number | null;
  languages: string[] | null;
  lowConfidence: boolean | null;
  errorCode: string | null;
  errorMessage: string | null;
}

/** A document inside a file (attachment, archive entry), as extraction found it. */
export interface EmbeddedDocument {
  /** Its address: `<parent path>#<index>/<name>`. */
  path: string;
  /** The parent's address (the file's path for a direct child). */
  parentPath: string;
  folder: string;
  name: string;
  extension: string;
  origin: Exclude<DocumentOrigin, 'file'>;
  /** Index path from the file on disk: [2, 1] is the first child of its second child. */
  embeddedAt: number[];
  /** Everything else, as for a file (its size and sha256 are the embedded bytes'). */
  update: Exclude<DocumentUpdate, { status: 'unchanged' }>;
}

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
  origin: DocumentOrigin;
  /** The document this one was found inside (null: a file on disk). */
  parent: { id: string; path: string } | null;
  textSource: TextSource | null;
  /** What OCR made of the document (null: it needed none). */
  ocr: DocumentOcr | null;
}

/** The parent's path, read with the row (documents_parent_idx is on the child; the parent by primary key). */
const PARENT_PATH = sql<string | null>`(select p.path from documents p where p.id = documents.parent_id)`.as('parent_path');

/** The columns behind DocumentFields, for every query over `documents` (unaliased) that reads them. */
export const DOCUMENT_COLUMNS = [
  'id', 'path', 'folder', 'name', 'extension', 'size', 'mtime', 'sha256', 'mime_type', 'format', 'status',
  'error_code', 'error_message', 'title', 'author', 'doc_created', 'doc_modified', 'language', 'page_count',
  'word_count', 'metadata', 'origin', 'parent_id', 'text_source', 'ocr_status', 'ocr_pages', 'ocr_confidence',
  'ocr_languages', 'ocr_low_confidence', 'ocr_error_code', 'ocr_error_message', PARENT_PATH,
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
  parent_path: string | null;
} & Pick<
  Selectable<DocumentsTable>,
  | 'origin' | 'parent_id' | 'text_source' | 'ocr_status' | 'ocr_pages' | 'ocr_confidence' | 'ocr_languages'
  | 'ocr_low_confidence' | 'ocr_error_code' | 'ocr_error_message'
>;

function toDocumentOcr(r: DocumentColumnsRow): DocumentOcr | null {
  if (r.ocr_status === null) return null;
  return {
    status: r.ocr_status,
    pages: r.ocr_pages,
    confidence: r.ocr_confidence,
    languages: r.ocr_languages ?? [],
    lowConfidence: r.ocr_low_confidence === true,
    error: r.ocr_error_code ? { code: r.ocr_error_code, message: r.ocr_error_message } : null,
  };
}

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
    origin: r.origin,
    // A parent is deleted with its file, never before its children: its path is there while they are.
    parent: r.parent_id !== null && r.parent_path !== null ? { id: r.parent_id, path: r.parent_path } : null,
    textSource: r.text_source,
    ocr: toDocumentOcr(r),
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
  /** The path of the file on disk the document is in (its own path for a file): what access is decided on. */
  filePath: string;
  /** Personal data found in it, masked (null: none found, or detection off). */
  personalData: PiiSummary | null;
}

/** The record type of an extracted row as applyExtraction and replaceEmbedded write it. */
const EXTRACTED_RECORD = sql.raw(`id uuid, size bigint, mtime timestamptz, sha256 text, mime_type text, format text,
  status text, error_code text, error_message text, title text, author text,
  doc_created timestamptz, doc_modified timestamptz, language text, page_count integer,
  word_count integer, metadata jsonb, text text, text_truncated boolean, text_source text,
  ocr_status text, ocr_job_id uuid, ocr_pages integer, ocr_confidence real, ocr_languages text[],
  ocr_low_confidence boolean, ocr_error_code text, ocr_error_message text, minhash int4[], pii jsonb, pii_kinds text[]`);

/** One extracted (or failed) document as the record EXTRACTED_RECORD reads. */
function extractedRecord(u: Exclude<DocumentUpdate, { status: 'unchanged' }>) {
  const file = { id: u.id, size: u.size, mtime: u.mtime.toISOString(), sha256: u.sha256, mime_type: u.mimeType, format: u.format, status: u.status };
  if (u.status === 'failed') {
    return { ...file, error_code: u.errorCode, error_message: u.errorMessage, metadata: {}, text_truncated: false, text_source: null, pii_kinds: [] };
  }
  return {
    ...file,
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
    text_source: u.textSource ?? null,
    ...ocrColumns(u.ocr),
    // int4 holds the unsigned 32-bit values as their signed twins; equality, all they are used for, is kept.
    minhash: u.signature ? u.signature.map((v) => v | 0) : null,
    // Masked samples only (src/pii): no clear value reaches the database.
    pii: u.pii ?? null,
    pii_kinds: Object.keys(u.pii ?? {}),
  };
}

function ocrColumns(o: OcrState | undefined) {
  return {
    ocr_status: o?.status ?? null,
    ocr_job_id: o?.jobId ?? null,
    ocr_pages: o?.pages ?? null,
    ocr_confidence: o?.confidence ?? null,
    ocr_languages: o?.languages ?? null,
    ocr_low_confidence: o?.lowConfidence ?? null,
    ocr_error_code: o?.errorCode ?? null,
    ocr_error_message: o?.errorMessage ?? null,
  };
}

const extensionOf = (name: string) => {
  const i = name.lastIndexOf('.');
  return i <= 0 ? '' : name.slice(i + 1).toLowerCase();
};

/**
 * Mark the files matching `where` (alias d) deleted, with the documents they held, and record each
 * file that had been extracted as `deleted`, in one statement (a retried scan finds them marked).
 */
async function markGone(db: Db, where: RawBuilder<unknown>, jobId: string | null): Promise<number> {
  const r = await sql<{ n: string }>`
    with gone as (
      update documents d set deleted_at = now(), updated_at = now()
      where d.deleted_at is null and d.parent_id is null and ${where}
      returning d.id, d.path, d.folder, d.sha256, d.extraction_count
    ), held as (
      update documents c set deleted_at = now(), updated_at = now()
      where c.file_id in (select id from gone) and c.deleted_at is null
      returning c.id
    ), recorded as (
      insert into document_changes (job_id, document_id, kind, folder, path, old_sha256)
      select ${jobId}::uuid, g.id, 'deleted', g.folder, g.path, g.sha256 from gone g where g.extraction_count > 0
      returning id
    )
    select (select count(*) from gone) as n, (select count(*) from held) as h, (select count(*) from recorded) as c`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * `and ...` conditions (alias d) for the files a listing of `folder` judges: those under it, less
 * the folders of other sources (bucket sources, on a listing of the whole root).
 */
function walkedBy(folder: string, except: readonly string[]): RawBuilder<unknown> {
  const range = descendantRange(folder);
  const bounds = [
    ...(range ? [sql`and d.path >= ${range.lower} and d.path < ${range.upper}`] : []),
    ...except
      .map(descendantRange)
      .filter((r) => r !== null)
      .map((r) => sql`and (d.path < ${r.lower} or d.path >= ${r.upper})`),
  ];
  return bounds.length === 0 ? sql`` : sql.join(bounds, sql` `);
}

export type { ChangeEntry };

export function createDocumentsRepository(db: Db) {
  return {
    /**
     * After a walk that wrote `rowsWritten` document rows: the planner's statistics of the table,
     * refreshed at once when it was never analysed or the walk wrote more than autovacuum's
     * threshold (50 rows + 10 %), instead of up to a minute later. Until then it takes a freshly
     * scanned folder for a handful of rows, and listings of it read and sort the whole folder.
     * Gives up after a second's wait for the table's lock (a vacuum running): autovacuum follows.
     */
    async refreshStatistics(rowsWritten: number): Promise<boolean> {
      const r = await sql<{ tuples: number }>`select reltuples::float8 as tuples from pg_class where oid = 'documents'::regclass`.execute(db);
      const tuples = Number(r.rows[0]?.tuples ?? -1);
      if (tuples >= 0 && rowsWritten <= 50 + 0.1 * tuples) return false;
      await db.transaction().execute(async (tx) => {
        await sql`set local lock_timeout = '1s'`.execute(tx);
        await sql`analyze documents`.execute(tx);
      });
      return true;
    },

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
    async upsertSeen(files: SeenFile[], jobId: string | null = null): Promise<SeenRow[]> {
      if (files.length === 0) return [];
      const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const paths = sorted.map((f) => f.path);
      return db.transaction().execute(async (trx) => {
        const rows = await trx
          .with('locked', (qb) =>
            qb
              .selectFrom('documents')
              .select(['id', 'deleted_at'])
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
          .returning([
            'id', 'path', 'folder', 'size', 'mtime', 'status', 'etag', 'sha256', 'extraction_count', sql<boolean>`(xmax = 0)`.as('inserted'),
            sql<boolean>`exists (select 1 from locked l where l.id = documents.id and l.deleted_at is not null)`.as('restored'),
          ])
          .execute();
        // A deleted file back at its path is added again (its content, if changed, is the extraction's to record).
        const restored = rows.filter((r) => r.restored && r.extraction_count > 0);
        if (restored.length > 0) {
          await recordChanges(trx, restored.map((r) => ({ jobId, documentId: r.id, kind: 'added', path: r.path, newSha256: r.sha256 })));
        }
        const byPath = new Map(files.map((f) => [f.path, f]));
        return rows.map((r) => {
          const f = byPath.get(r.path);
          const unchanged = !r.inserted && f !== undefined && unchangedSinceExtraction(r, f);
          return { id: r.id, path: r.path, unchanged, inserted: Boolean(r.inserted) };
        });
      });
    },

    async loadForExtraction(ids: string[]): Promise<ExtractionTarget[]> {
      if (ids.length === 0) return [];
      return db
        .selectFrom('documents')
        .select(['id', 'path', 'size', 'sha256', 'status', 'extraction_count as extractionCount'])
        .where('id', 'in', ids)
        .execute();
    },

    /**
     * Write a batch of extraction outcomes in one statement per kind, after locking the batch's
     * rows in id order (the order upsertSeen and the classification trigger use): an UPDATE ...
     * FROM locks rows in whatever order its plan visits them. A bucket object's ETag is written by
     * the same statement as its outcome (a second UPDATE would write every row twice, and run the
     * statement triggers of documents again).
     */
    async applyExtraction(trx: Transaction<Database>, updates: DocumentUpdate[], tags: ObjectTag[] = []): Promise<void> {
      if (updates.length === 0) return;
      await sql`
        select 1 from documents where id = any(${updates.map((u) => u.id)}::uuid[])
        order by id for no key update`.execute(trx);
      const etagOf = new Map(tags.map((t) => [t.id, t.etag]));
      const full = updates.filter((u) => u.status !== 'unchanged');
      const touched = updates.filter((u) => u.status === 'unchanged');
      if (full.length > 0) {
        const payload = full.map((u) => ({ ...extractedRecord(u), etag: etagOf.get(u.id) ?? null }));
        await sql`
          update documents d set
            size = x.size, mtime = x.mtime, sha256 = x.sha256, mime_type = x.mime_type,
            format = x.format, status = x.status, error_code = x.error_code,
            error_message = x.error_message, title = x.title, author = x.author,
            doc_created = x.doc_created, doc_modified = x.doc_modified, language = x.language,
            page_count = x.page_count, word_count = x.word_count, metadata = x.metadata,
            text = x.text, text_truncated = x.text_truncated, text_source = x.text_source,
            ocr_status = x.ocr_status, ocr_job_id = x.ocr_job_id, ocr_pages = x.ocr_pages,
            ocr_confidence = x.ocr_confidence, ocr_languages = x.ocr_languages,
            ocr_low_confidence = x.ocr_low_confidence, ocr_error_code = x.ocr_error_code,
            ocr_error_message = x.ocr_error_message, minhash = x.minhash, pii = x.pii, pii_kinds = x.pii_kinds,
            etag = coalesce(x.etag, d.etag),
            extraction_count = d.extraction_count + 1, extracted_at = now(), updated_at = now()
          from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(${EXTRACTED_RECORD}, etag text)
          where d.id = x.id`.execute(trx);
      }
      if (touched.length > 0) {
        const payload = touched.map((u) => ({ id: u.id, size: u.size, mtime: u.mtime.toISOString(), etag: etagOf.get(u.id) ?? null }));
        await sql`
          update documents d set size = x.size, mtime = x.mtime, etag = coalesce(x.etag, d.etag), updated_at = now()
          from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(id uuid, size bigint, mtime timestamptz, etag text)
          where d.id = x.id`.execute(trx);
      }
      // Tags of documents without an outcome here (none from extraction today) still land.
      const updated = new Set(updates.map((u) => u.id));
      const rest = tags.filter((t) => !updated.has(t.id));
      if (rest.length > 0) {
        await sql`
          update documents d set etag = x.etag
          from jsonb_to_recordset(${JSON.stringify(rest)}::jsonb) as x(id uuid, etag text)
          where d.id = x.id`.execute(trx);
      }
    },

    /** Files that vanished between the scan and their extraction, with the documents they held. */
    async markDeleted(ids: string[], jobId: string | null = null): Promise<void> {
      if (ids.length === 0) return;
      await markGone(db, sql`d.id = any(${ids}::uuid[])`, jobId);
    },

    /**
     * The files on record in these folder ranges, deleted ones included (a file back at its path
     * is restored), in one read: what a scan compares its listing with before writing anything.
     */
    async knownFiles(ranges: readonly KnownRange[]): Promise<KnownFile[]> {
      if (ranges.length === 0) return [];
      const r = await sql<{ id: string; path: string; size: string; mtime: Date; etag: string | null; status: DocumentStatus; deleted: boolean }>`
        select d.id, d.path, d.size, d.mtime, d.etag, d.status, d.deleted_at is not null as deleted
        from unnest(${ranges.map((x) => x.folder)}::text[], ${ranges.map((x) => x.after)}::text[], ${ranges.map((x) => x.upTo)}::text[])
          as r(folder, after, up_to)
        join documents d on d.folder = r.folder collate "C"
          and (r.after is null or d.path > r.after collate "C")
          and (r.up_to is null or d.path <= r.up_to collate "C")
        where d.parent_id is null`.execute(db);
      return r.rows;
    },

    /**
     * After a complete listing of `folder`: the files it compared and found gone (`ids`), and every
     * live file under `folder` in a folder the listing never entered (`visited`: those it did),
     * are marked deleted, with the documents they held. Returns the files marked.
     */
    async markGoneAfterListing(
      folder: string,
      found: { ids: readonly string[]; visited: readonly string[] },
      jobId: string | null = null,
      except: readonly string[] = [],
    ): Promise<number> {
      const byId = found.ids.length === 0 ? 0 : await markGone(db, sql`d.id = any(${found.ids}::uuid[])`, jobId);
      const unvisited = await markGone(db, sql`d.folder not in (select unnest(${found.visited}::text[])) ${walkedBy(folder, except)}`, jobId);
      return byId + unvisited;
    },

    /**
     * After a complete walk: files under `folder` not seen since `since` are gone, and so are the
     * documents they held (a walk never sees those). Returns the files marked.
     */
    async markDeletedNotSeenSince(folder: string, since: Date, jobId: string | null = null, except: readonly string[] = []): Promise<number> {
      return markGone(db, sql`d.last_seen_at < ${since} ${walkedBy(folder, except)}`, jobId);
    },

    /**
     * Documents with one of these contents that a fresh document could be a move of: kept as
     * deleted since `deletedSince`, or not deleted yet (the caller checks that their file is gone).
     */
    async moveCandidates(sha256s: string[], exclude: string[], deletedSince: Date): Promise<MoveCandidate[]> {
      if (sha256s.length === 0) return [];
      const rows = await db
        .selectFrom('documents')
        .select(['id', 'path', 'sha256', 'deleted_at'])
        .where('sha256', '=', sql<string>`any(${sha256s}::text[])`)
        .where('parent_id', 'is', null)
        .where('id', '<>', sql<string>`all(${exclude}::uuid[])`)
        .where((eb) => eb.or([eb('deleted_at', 'is', null), eb('deleted_at', '>=', deletedSince)]))
        .orderBy(sql`deleted_at desc nulls first`)
        .limit(sha256s.length * 20)
        .execute();
      return rows.map((r) => ({ id: r.id, path: r.path, sha256: r.sha256 ?? '', deletedAt: r.deleted_at }));
    },

    /**
     * Lock a candidate and check it is still what the caller saw (at its path, with its content):
     * of two batches that found the same moved file, the second sees it taken and adds its own.
     */
    async claimMoveCandidate(trx: Transaction<Database>, c: MoveCandidate): Promise<boolean> {
      const r = await sql<{ id: string }>`
        select id from documents where id = ${c.id} and path = ${c.path} and sha256 = ${c.sha256}
        for update`.execute(trx);
      return r.rows.length > 0;
    },

    /**
     * A known document moved: the fresh row of its new path goes, and the known row takes that path
     * (with what it holds, and the documents inside it deleted with it), keeping its id,
     * classification and history. Recorded as `moved`; a `deleted` this job recorded for it is
     * withdrawn (it was never gone). The caller has claimed the known row.
     */
    async adoptMove(trx: Transaction<Database>, m: AdoptedMove): Promise<void> {
      const folder = parentOf(m.newPath);
      const name = m.newPath.slice(folder === '' ? 0 : folder.length + 1);
      await sql`delete from documents where id = ${m.freshId} and extraction_count = 0`.execute(trx);
      await sql`
        update documents set path = ${m.newPath}, folder = ${folder}, name = ${name},
          extension = ${extensionOf(name)}, size = ${m.size}, mtime = ${m.mtime}, etag = ${m.etag}, deleted_at = null,
          last_seen_at = now(), updated_at = now()
        where id = ${m.knownId}`.execute(trx);
      await sql`
        update documents set path = ${m.newPath} || substr(path, ${m.oldPath.length + 1}), folder = ${folder},
          deleted_at = case when ${m.deletedAt}::timestamptz is not null and deleted_at >= ${m.deletedAt}::timestamptz then null else deleted_at end,
          updated_at = now()
        where file_id = ${m.knownId}`.execute(trx);
      await sql`delete from document_changes where document_id = ${m.knownId} and job_id = ${m.jobId} and kind = 'deleted'`.execute(trx);
      await recordChanges(trx, [
        { jobId: m.jobId, documentId: m.knownId, kind: 'moved', path: m.newPath, oldPath: m.oldPath, oldSha256: m.sha256, newSha256: m.sha256 },
      ]);
    },

    /** Drop documents deleted before `before` for good (what they held goes with them). */
    async purgeDeleted(before: Date): Promise<number> {
      const r = await db.deleteFrom('documents').where('deleted_at', '<', before).where('parent_id', 'is', null).executeTakeFirst();
      // Documents removed from a file that lives on.
      await db.deleteFrom('documents').where('deleted_at', '<', before).execute();
      return Number(r.numDeletedRows);
    },

    /**
     * Replace what the files of a batch hold with what their extraction found, in the caller's
     * transaction, in a few statements whatever the batch's size: a document at the same address
     * keeps its id (and so its classification history); one no longer there is marked deleted.
     * Within a file, parents come before their children.
     */
    async replaceEmbedded(trx: Transaction<Database>, files: ReadonlyMap<string, EmbeddedDocument[]>): Promise<{ id: string; path: string }[]> {
      if (files.size === 0) return [];
      const known = await trx.selectFrom('documents').select(['id', 'path']).where('file_id', 'in', [...files.keys()]).execute();
      const idByPath = new Map(known.map((k) => [k.path, k.id]));
      const rows: { e: EmbeddedDocument; id: string; fileId: string }[] = [];
      for (const [fileId, embedded] of files) {
        for (const e of embedded) {
          const id = idByPath.get(e.path) ?? randomUUID();
          idByPath.set(e.path, id);
          rows.push({ e, id, fileId });
        }
      }
      const keep = new Set(rows.map((r) => r.id));
      const gone = known.filter((k) => !keep.has(k.id)).map((k) => k.id);
      if (gone.length > 0) {
        await trx.updateTable('documents').set({ deleted_at: sql`now()`, updated_at: sql`now()` }).where('id', 'in', gone).where('deleted_at', 'is', null).execute();
      }
      if (rows.length === 0) return [];
      const payload = rows.map(({ e, id, fileId }) => {
        return {
          ...extractedRecord(e.update),
          id,
          path: e.path,
          folder: e.folder,
          name: e.name,
          extension: e.extension,
          parent_id: idByPath.get(e.parentPath) ?? fileId,
          file_id: fileId,
          embedded_at: e.embeddedAt,
          origin: e.origin,
        };
      });
      // The rows are locked in id order by the upsert's own order: sorted, as every writer locks them.
      payload.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      await sql`
        insert into documents (
          id, path, folder, name, extension, parent_id, file_id, embedded_at, origin, size, mtime, sha256,
          mime_type, format, status, error_code, error_message, title, author, doc_created, doc_modified,
          language, page_count, word_count, metadata, text, text_truncated, text_source, ocr_status,
          ocr_job_id, ocr_pages, ocr_confidence, ocr_languages, ocr_low_confidence, ocr_error_code,
          ocr_error_message, minhash, pii, pii_kinds, extraction_count, extracted_at)
        select
          x.id, x.path, x.folder, x.name, x.extension, x.parent_id, x.file_id, x.embedded_at, x.origin, x.size,
          x.mtime, x.sha256, x.mime_type, x.format, x.status, x.error_code, x.error_message, x.title, x.author,
          x.doc_created, x.doc_modified, x.language, x.page_count, x.word_count, coalesce(x.metadata, '{}'),
          x.text, coalesce(x.text_truncated, false), x.text_source, x.ocr_status, x.ocr_job_id, x.ocr_pages,
          x.ocr_confidence, x.ocr_languages, x.ocr_low_confidence, x.ocr_error_code, x.ocr_error_message, x.minhash, x.pii, x.pii_kinds, 1, now()
        from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(
          path text, folder text, name text, extension text, parent_id uuid, file_id uuid, embedded_at integer[],
          origin text, ${EXTRACTED_RECORD})
        on conflict (path) do update set
          folder = excluded.folder, name = excluded.name, extension = excluded.extension,
          parent_id = excluded.parent_id, file_id = excluded.file_id, embedded_at = excluded.embedded_at,
          origin = excluded.origin, size = excluded.size, mtime = excluded.mtime, sha256 = excluded.sha256,
          mime_type = excluded.mime_type, format = excluded.format, status = excluded.status,
          error_code = excluded.error_code, error_message = excluded.error_message, title = excluded.title,
          author = excluded.author, doc_created = excluded.doc_created, doc_modified = excluded.doc_modified,
          language = excluded.language, page_count = excluded.page_count, word_count = excluded.word_count,
          metadata = excluded.metadata, text = excluded.text, text_truncated = excluded.text_truncated,
          text_source = excluded.text_source, ocr_status = excluded.ocr_status, ocr_job_id = excluded.ocr_job_id,
          ocr_pages = excluded.ocr_pages, ocr_confidence = excluded.ocr_confidence,
          ocr_languages = excluded.ocr_languages, ocr_low_confidence = excluded.ocr_low_confidence,
          ocr_error_code = excluded.ocr_error_code, ocr_error_message = excluded.ocr_error_message,
          minhash = excluded.minhash, pii = excluded.pii, pii_kinds = excluded.pii_kinds, deleted_at = null, last_seen_at = now(), extraction_count = documents.extraction_count + 1,
          extracted_at = now(), updated_at = now()
        -- A real file at the same address (a folder named like 'x.eml#1') is never taken over.
        where documents.file_id = excluded.file_id`.execute(trx);
      return rows.map(({ e, id }) => ({ id, path: e.path }));
    },

    async findById(id: string): Promise<DocumentDetail | undefined> {
      const r = await db
        .selectFrom('documents')
        .select([
          ...DOCUMENT_COLUMNS, 'text_truncated',
          'extraction_count', 'first_seen_at', 'extracted_at', 'deleted_at', 'classification_id', 'pii',
          // A rescan writes nothing for an unchanged file: a live one was seen by its folder's last complete scan.
          sql<Date>`case when documents.deleted_at is null
            then greatest(documents.last_seen_at, (select f.last_scanned_at from folders f where f.path = documents.folder))
            else documents.last_seen_at end`.as('last_seen_at'),
          sql<number>`coalesce(length(text), 0)`.as('text_length'),
          sql<string | null>`left(text, 2000)`.as('text_preview'),
          sql<string>`coalesce((select f.path from documents f where f.id = documents.file_id), documents.path)`.as('file_path'),
        ])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!r) return undefined;
      return {
        filePath: r.file_path,
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
        personalData: r.pii,
      };
    },

    /** The live documents found directly inside `parentId` (attachments, archive entries), in their order there. */
    async children(parentId: string): Promise<ChildDocument[]> {
      const rows = await db
        .selectFrom('documents')
        .select(['id', 'name', 'path', 'origin', 'status', 'format', 'size'])
        .where('parent_id', '=', parentId)
        .where('deleted_at', 'is', null)
        .orderBy('embedded_at')
        .orderBy('path')
        .execute();
      return rows.map((r) => ({ ...r, size: Number(r.size) }));
    },

    /**
     * Other live documents with the same content (sha256) as `id`, at most `limit`, path order,
     * with the file each is in (what access is decided on).
     */
    async sameContent(id: string, limit: number): Promise<{ id: string; path: string; filePath: string }[]> {
      const r = await sql<{ id: string; path: string; file_path: string }>`
        select d.id, d.path, coalesce((select f.path from documents f where f.id = d.file_id), d.path) as file_path
        from documents self join documents d on d.sha256 = self.sha256 and d.id <> self.id
        where self.id = ${id} and self.sha256 is not null and d.deleted_at is null and d.sha256 is not null
        order by d.path
        limit ${limit}`.execute(db);
      return r.rows.map((x) => ({ id: x.id, path: x.path, filePath: x.file_path }));
    },

    async textOf(id: string): Promise<string | null> {
      const r = await db.selectFrom('documents').select('text').where('id', '=', id).executeTakeFirst();
      return r?.text ?? null;
    },
  };
}

export type DocumentsRepository = ReturnType<typeof createDocumentsRepository>;

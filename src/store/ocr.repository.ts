/** OCR: what a document needs read, what OCR read (cached by content), and writing it back. */
import { type Transaction, sql } from 'kysely';
import type { PiiKind, TextSource } from '../domain/vocabulary.ts';
import type { Db } from './database.ts';
import type { PiiSummary } from '../contract.ts';
import type { OcrState } from './documents.repository.ts';
import type { Database } from './schema.ts';

/** The cache key: the same bytes read in the same languages by the same engine give the same text. */
export interface OcrKey {
  sha256: string;
  /** Language codes joined with '+', in the configured order. */
  languages: string;
  engine: string;
}

export interface OcrReading {
  text: string;
  textSource: TextSource;
  pages: number;
  /** Mean word confidence, 0-100 (null: no words). */
  confidence: number | null;
}

/** What the OCR stage needs to read one document again. */
export interface OcrTarget {
  id: string;
  path: string;
  format: string | null;
  sha256: string | null;
  ocrStatus: string | null;
  ocrJobId: string | null;
  /** The file on disk holding the bytes (the document's own path for a file). */
  filePath: string;
  /** Index path inside that file (null for a file). */
  embeddedAt: number[] | null;
  /** Pages to read (from extraction) and the document's page count. */
  need: { pages: number[]; pageCount: number } | null;
  metadata: Record<string, unknown>;
}

/** What OCR changes on a document once it has read it. */
export interface OcrApplied {
  text: string;
  /** Personal data in the OCR text (masked samples only); null: none. */
  pii: PiiSummary | null;
  /** MinHash signature of the OCR text, for duplicates; null: too short. */
  signature: number[] | null;
  textSource: TextSource;
  language: string | null;
  wordCount: number | null;
  ocr: OcrState;
  warnings: string[];
}

export function createOcrRepository(db: Db) {
  return {
    /** Cached readings for these keys, by sha256 (every key shares its languages and engine). */
    async cached(keys: OcrKey[]): Promise<Map<string, OcrReading>> {
      const out = new Map<string, OcrReading>();
      const first = keys[0];
      if (!first) return out;
      const rows = await db
        .selectFrom('ocr_results')
        .select(['sha256', 'text', 'text_source', 'pages', 'confidence'])
        .where('sha256', 'in', [...new Set(keys.map((k) => k.sha256))])
        .where('languages', '=', first.languages)
        .where('engine', '=', first.engine)
        .execute();
      for (const r of rows) out.set(r.sha256, { text: r.text, textSource: r.text_source, pages: r.pages, confidence: r.confidence });
      return out;
    },

    async save(trx: Transaction<Database>, key: OcrKey, reading: OcrReading): Promise<void> {
      await trx
        .insertInto('ocr_results')
        .values({ ...key, text: reading.text, text_source: reading.textSource, pages: reading.pages, confidence: reading.confidence })
        .onConflict((oc) => oc.columns(['sha256', 'languages', 'engine']).doUpdateSet({ text: reading.text, text_source: reading.textSource, pages: reading.pages, confidence: reading.confidence }))
        .execute();
    },

    async target(id: string): Promise<OcrTarget | undefined> {
      const r = await db
        .selectFrom('documents as d')
        .innerJoin('documents as f', (j) => j.on(sql<boolean>`f.id = coalesce(d.file_id, d.id)`))
        .select([
          'd.id', 'd.path', 'd.format', 'd.sha256', 'd.ocr_status', 'd.ocr_job_id', 'd.embedded_at', 'd.metadata',
          'f.path as file_path',
        ])
        .where('d.id', '=', id)
        .where('d.deleted_at', 'is', null)
        .executeTakeFirst();
      if (!r) return undefined;
      const need = (r.metadata as { ocr?: { pages?: unknown; pageCount?: unknown } }).ocr;
      const pages = Array.isArray(need?.pages) ? need.pages.filter((p): p is number => Number.isInteger(p) && p > 0) : [];
      return {
        id: r.id,
        path: r.path,
        format: r.format,
        sha256: r.sha256,
        ocrStatus: r.ocr_status,
        ocrJobId: r.ocr_job_id,
        filePath: r.file_path,
        embeddedAt: r.embedded_at,
        need: pages.length > 0 ? { pages, pageCount: typeof need?.pageCount === 'number' ? need.pageCount : pages.length } : null,
        metadata: r.metadata,
      };
    },

    /**
     * Write what OCR read (or why it could not), only while the document still waits for this
     * job's OCR: a re-extraction in the meantime wins. Returns false when nothing was written.
     */
    async apply(trx: Transaction<Database>, id: string, jobId: string, result: OcrApplied | { failed: OcrState }): Promise<boolean> {
      const o = 'failed' in result ? result.failed : result.ocr;
      const ocr = {
        ocr_status: o.status,
        ocr_pages: o.pages,
        ocr_confidence: o.confidence,
        ocr_languages: o.languages,
        ocr_low_confidence: o.lowConfidence,
        ocr_error_code: o.errorCode,
        ocr_error_message: o.errorMessage,
        updated_at: sql<Date>`now()`,
      };
      const q = trx.updateTable('documents').where('id', '=', id).where('ocr_status', '=', 'pending').where('ocr_job_id', '=', jobId);
      const r =
        'failed' in result
          ? await q.set(ocr).executeTakeFirst()
          : await q
              .set({
                ...ocr,
                status: 'extracted',
                error_code: null,
                error_message: null,
                text: result.text,
                text_source: result.textSource,
                language: result.language,
                word_count: result.wordCount,
                pii: result.pii === null ? null : JSON.stringify(result.pii),
                pii_kinds: Object.keys(result.pii ?? {}) as PiiKind[],
                minhash: result.signature ? result.signature.map((v) => v | 0) : null,
                metadata: sql`jsonb_set(metadata, '{warnings}', coalesce(metadata->'warnings', '[]'::jsonb) || ${JSON.stringify(result.warnings)}::jsonb)`,
              })
              .executeTakeFirst();
      // The LSH bands follow the signature (a generated column, migration 0021).
      return Number(r.numUpdatedRows) > 0;
    },

    /** Documents still waiting for a job's OCR (to enqueue again when the job stalled). */
    async pendingFor(jobId: string): Promise<string[]> {
      const rows = await db.selectFrom('documents').select('id').where('ocr_job_id', '=', jobId).where('ocr_status', '=', 'pending').execute();
      return rows.map((r) => r.id);
    },
  };
}

export type OcrRepository = ReturnType<typeof createOcrRepository>;

/**
 * Reviewer corrections (migration 0018): the review row, the classification row of model
 * 'review' that carries the corrected result, and the document pointed at it, written together;
 * the review queue and the reviewed count of a folder.
 */
import { sql } from 'kysely';
import type { ReviewQueueItem as ReviewQueueEntry } from '../contract.ts';
import type { FieldValue } from '../domain/fields.ts';
import { descendantRange } from '../domain/paths.ts';
import { REVIEW_MODEL } from '../domain/vocabulary.ts';
import type { Db } from './database.ts';
import { RESULT_KEY_COLUMNS, type StoredTag } from './classifications.repository.ts';

/** A document's current result, as a correction starts from it. */
export interface ReviewBase {
  documentId: string;
  path: string;
  /** The file on disk the document is (or is inside): what scopes are checked against. */
  filePath: string;
  sha256: string | null;
  status: string;
  deleted: boolean;
  classification: {
    id: string;
    taxonomyId: string;
    taxonomyVersion: number;
    model: string;
    summaryLanguage: string;
    tags: StoredTag[];
    primaryCategory: string;
    summary: string;
    language: string | null;
  } | null;
}

/** What a correction says of one document's content under a taxonomy, written and read alike. */
interface ReviewBody {
  documentId: string;
  path: string;
  contentSha256: string;
  taxonomyId: string;
  taxonomyVersion: number;
  tags: string[];
  primaryCategory: string;
  /** Field values the reviewer set (validated, by the taxonomy's names); null: none (the result's other values are the model's). */
  fields: Record<string, FieldValue> | null;
  accepted: boolean;
  /** The reviewing key (null: auth open). */
  reviewedBy: string | null;
}

export interface NewReview extends ReviewBody {
  baseClassificationId: string | null;
  summary: string;
  summaryLanguage: string;
  language: string | null;
}

/** A queue entry as the API shows it, with the result's time as a Date and its keyset position. */
export type ReviewQueueItem = Omit<ReviewQueueEntry, 'classifiedAt'> & {
  classifiedAt: Date;
  /** The result's time at full (microsecond) precision: the keyset position of the queue. */
  position: string;
};

export interface ReviewRecord extends ReviewBody {
  classificationId: string;
  /** The reviewing key's name, stored beside its id. */
  reviewerName: string | null;
  reviewedAt: Date;
}

export function createReviewsRepository(db: Db) {
  return {
    async base(documentId: string): Promise<ReviewBase | undefined> {
      const r = await db
        .selectFrom('documents as d')
        .leftJoin('classifications as c', 'c.id', 'd.classification_id')
        .select([
          'd.id',
          'd.path',
          'd.sha256',
          'd.status',
          'd.deleted_at',
          'c.id as cid',
          'c.taxonomy_id',
          'c.taxonomy_version',
          'c.model',
          'c.summary_language',
          'c.tags',
          'c.primary_category',
          'c.summary',
          'c.language',
          sql<string>`coalesce((select f.path from documents f where f.id = d.file_id), d.path)`.as('file_path'),
        ])
        .where('d.id', '=', documentId)
        .executeTakeFirst();
      if (!r) return undefined;
      return {
        documentId: r.id,
        path: r.path,
        filePath: r.file_path,
        sha256: r.sha256,
        status: r.status,
        deleted: r.deleted_at !== null,
        classification:
          r.cid && r.taxonomy_id && r.taxonomy_version !== null && r.model && r.summary_language && r.tags && r.primary_category !== null
            ? {
                id: r.cid,
                taxonomyId: r.taxonomy_id,
                taxonomyVersion: r.taxonomy_version,
                model: r.model,
                summaryLanguage: r.summary_language,
                tags: r.tags,
                primaryCategory: r.primary_category,
                summary: r.summary ?? '',
                language: r.language,
              }
            : null,
      };
    },

    /**
     * Store a correction: the corrected result as a classification of model 'review' (replacing
     * an earlier correction of the same content), the document pointed at it, and the review row
     * with who and when, in one transaction. The document row is locked first, as every writer of
     * documents does (id order; one row here).
     */
    async save(r: NewReview): Promise<{ classificationId: string; reviewedAt: Date }> {
      return db.transaction().execute(async (tx) => {
        await tx.selectFrom('documents').select('id').where('id', '=', r.documentId).forNoKeyUpdate().execute();
        const reviewer = r.reviewedBy ? await tx.selectFrom('api_keys').select('name').where('id', '=', r.reviewedBy).executeTakeFirst() : undefined;
        const tags: StoredTag[] = r.tags.map((label) => ({ label, confidence: 1, needsReview: false }));
        const saved = await tx
          .insertInto('classifications')
          .values({
            document_id: r.documentId,
            content_sha256: r.contentSha256,
            taxonomy_id: r.taxonomyId,
            taxonomy_version: r.taxonomyVersion,
            model: REVIEW_MODEL,
            prompt_version: REVIEW_MODEL,
            summary_language: r.summaryLanguage,
            tags: JSON.stringify(tags),
            primary_category: r.primaryCategory,
            summary: r.summary,
            language: r.language,
            strategy: REVIEW_MODEL,
            chunks: 0,
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: 0,
            needs_review: false,
            job_id: null,
            // The custom fields the corrected result had, with the ones the reviewer set over them.
            fields: sql<string>`coalesce((select b.fields from classifications b where b.id = ${r.baseClassificationId}::uuid), '{}'::jsonb) || ${JSON.stringify(r.fields ?? {})}::jsonb`,
          })
          .onConflict((oc) =>
            oc
              .columns(RESULT_KEY_COLUMNS)
              .doUpdateSet((eb) => ({
                tags: eb.ref('excluded.tags'),
                primary_category: eb.ref('excluded.primary_category'),
                summary: eb.ref('excluded.summary'),
                fields: eb.ref('excluded.fields'),
                created_at: sql`now()`,
              })),
          )
          .returning('id')
          .executeTakeFirstOrThrow();
        await tx.updateTable('documents').set({ classification_id: saved.id }).where('id', '=', r.documentId).execute();
        const review = await tx
          .insertInto('classification_reviews')
          .values({
            document_id: r.documentId,
            path: r.path,
            content_sha256: r.contentSha256,
            taxonomy_id: r.taxonomyId,
            taxonomy_version: r.taxonomyVersion,
            tags: JSON.stringify(r.tags),
            primary_category: r.primaryCategory,
            fields: r.fields === null ? null : JSON.stringify(r.fields),
            accepted: r.accepted,
            base_classification_id: r.baseClassificationId,
            classification_id: saved.id,
            reviewed_by: r.reviewedBy,
            reviewer_name: reviewer?.name ?? null,
          })
          .onConflict((oc) =>
            oc.columns(['document_id', 'content_sha256', 'taxonomy_id']).doUpdateSet((eb) => ({
              path: eb.ref('excluded.path'),
              taxonomy_version: eb.ref('excluded.taxonomy_version'),
              tags: eb.ref('excluded.tags'),
              primary_category: eb.ref('excluded.primary_category'),
              // A second correction of the same content adds to the values the first one set.
              fields: sql`case when excluded.fields is null then classification_reviews.fields else coalesce(classification_reviews.fields, '{}'::jsonb) || excluded.fields end`,
              accepted: eb.ref('excluded.accepted'),
              base_classification_id: eb.ref('excluded.base_classification_id'),
              classification_id: eb.ref('excluded.classification_id'),
              reviewed_by: eb.ref('excluded.reviewed_by'),
              reviewer_name: eb.ref('excluded.reviewer_name'),
              reviewed_at: sql`now()`,
            })),
          )
          .returning('reviewed_at')
          .executeTakeFirstOrThrow();
        return { classificationId: saved.id, reviewedAt: review.reviewed_at };
      });
    },

    /** Reviews of these classification rows (what a document's history shows). */
    async ofClassifications(ids: string[]): Promise<Map<string, ReviewRecord>> {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('classification_reviews').selectAll().where('classification_id', 'in', ids).execute();
      return new Map(rows.map((r) => [r.classification_id, toRecord(r)]));
    },

    /**
     * Live documents inside `folder` whose current result needs review, oldest result first
     * (keyset on the result's time and id): the partial index of migration 0018.
     */
    async queue(folder: string, after: { at: string; id: string } | undefined, limit: number): Promise<ReviewQueueItem[]> {
      const range = descendantRange(folder);
      let q = db
        .selectFrom('classifications as c')
        .innerJoin('documents as d', (j) => j.onRef('d.id', '=', 'c.document_id').onRef('d.classification_id', '=', 'c.id'))
        .select([
          'd.id',
          'd.path',
          'd.name',
          'c.id as cid',
          'c.taxonomy_id',
          'c.taxonomy_version',
          'c.model',
          'c.tags',
          'c.primary_category',
          'c.summary',
          'c.fields',
          'c.created_at',
          sql<string>`c.created_at::text`.as('position'),
        ])
        .where('c.needs_review', '=', true)
        .where('d.deleted_at', 'is', null);
      if (range) q = q.where('d.path', '>=', range.lower).where('d.path', '<', range.upper);
      if (after) q = q.where(sql<boolean>`(c.created_at, c.id) > (${after.at}::timestamptz, ${after.id}::uuid)`);
      const rows = await q.orderBy('c.created_at').orderBy('c.id').limit(limit).execute();
      return rows.map((r) => ({
        id: r.id,
        path: r.path,
        name: r.name,
        classificationId: r.cid,
        taxonomyId: r.taxonomy_id,
        taxonomyVersion: r.taxonomy_version,
        model: r.model,
        tags: r.tags,
        primaryCategory: r.primary_category,
        summary: r.summary,
        fields: r.fields ?? {},
        classifiedAt: r.created_at,
        position: r.position,
      }));
    },

    /** Live documents inside `folder` whose current result is a reviewer's: a range of the reviews' path index. */
    async reviewedCount(folder: string): Promise<number> {
      const range = descendantRange(folder);
      const within = range ? sql`and r.path >= ${range.lower} and r.path < ${range.upper}` : sql``;
      const r = await sql<{ n: string }>`
        select count(*)::text as n from classification_reviews r
        join documents d on d.id = r.document_id and d.classification_id = r.classification_id
        where d.deleted_at is null ${within}`.execute(db);
      return Number(r.rows[0]?.n ?? 0);
    },

    /** Reviews under this taxonomy of documents inside `folder`, for their current content only. */
    async goldInFolder(folder: string, taxonomyId: string): Promise<ReviewRecord[]> {
      const range = descendantRange(folder);
      let q = db
        .selectFrom('classification_reviews as r')
        .innerJoin('documents as d', (j) => j.onRef('d.id', '=', 'r.document_id').onRef('d.sha256', '=', 'r.content_sha256'))
        .selectAll('r')
        .where('r.taxonomy_id', '=', taxonomyId)
        .where('d.deleted_at', 'is', null);
      if (range) q = q.where('r.path', '>=', range.lower).where('r.path', '<', range.upper);
      return (await q.execute()).map(toRecord);
    },
  };
}

function toRecord(r: {
  document_id: string;
  path: string;
  content_sha256: string;
  taxonomy_id: string;
  taxonomy_version: number;
  tags: string[];
  primary_category: string;
  fields: Record<string, FieldValue> | null;
  accepted: boolean;
  classification_id: string;
  reviewed_by: string | null;
  reviewer_name: string | null;
  reviewed_at: Date;
}): ReviewRecord {
  return {
    documentId: r.document_id,
    path: r.path,
    contentSha256: r.content_sha256,
    taxonomyId: r.taxonomy_id,
    taxonomyVersion: r.taxonomy_version,
    tags: r.tags,
    primaryCategory: r.primary_category,
    fields: r.fields,
    accepted: r.accepted,
    classificationId: r.classification_id,
    reviewedBy: r.reviewed_by,
    reviewerName: r.reviewer_name,
    reviewedAt: r.reviewed_at,
  };
}

export type ReviewsRepository = ReturnType<typeof createReviewsRepository>;

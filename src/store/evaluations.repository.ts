/** Gold labels, kept evaluation runs, and what an evaluation reads of documents and results (migrations 0018, 0023). */
import { type Selectable, sql } from 'kysely';
import type { FieldValue } from '../domain/fields.ts';
import { descendantRange } from '../domain/paths.ts';
import { REVIEW_MODEL } from '../domain/vocabulary.ts';
import type { Db } from './database.ts';
import type { EvaluationsTable } from './schema.ts';

export interface GoldLabelRow {
  path: string;
  tags: string[];
  primaryCategory: string | null;
  /** Gold custom field values; null: the label names none. */
  fields: Record<string, FieldValue> | null;
}

export interface LabelledDocument {
  id: string;
  path: string;
  sha256: string;
}

export interface PredictionRow {
  documentId: string;
  tags: string[];
  primaryCategory: string;
  /** The custom field values the model gave ({} under a taxonomy without fields). */
  fields: Record<string, FieldValue>;
  costUsd: number;
  latencyMs: number | null;
}

export interface EvaluationRow {
  id: string;
  path: string;
  taxonomyId: string;
  taxonomyName: string;
  taxonomyVersion: number;
  model: string;
  promptVersion: string;
  status: string;
  jobId: string | null;
  documents: number;
  gold: unknown;
  metrics: unknown;
  errorCode: string | null;
  errorMessage: string | null;
  createdBy: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  /** created_at at full precision: the list's keyset position. */
  position: string;
}

export type NewEvaluation = Pick<
  EvaluationRow,
  'path' | 'taxonomyId' | 'taxonomyName' | 'taxonomyVersion' | 'model' | 'promptVersion' | 'jobId' | 'documents' | 'gold' | 'createdBy'
>;

type RawEvaluation = Selectable<EvaluationsTable> & { position: string };

function toRow(r: RawEvaluation): EvaluationRow {
  return {
    id: r.id,
    path: r.path,
    taxonomyId: r.taxonomy_id,
    taxonomyName: r.taxonomy_name,
    taxonomyVersion: r.taxonomy_version,
    model: r.model,
    promptVersion: r.prompt_version,
    status: r.status,
    jobId: r.job_id,
    documents: r.documents,
    gold: r.gold,
    metrics: r.metrics,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    createdBy: r.created_by,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    position: r.position,
  };
}

export function createEvaluationsRepository(db: Db) {
  return {
    /** Insert or replace gold labels of these paths under a taxonomy, in one statement. */
    async saveLabels(taxonomyId: string, rows: GoldLabelRow[], importedBy: string | null): Promise<void> {
      if (rows.length === 0) return;
      // One row per path per statement (ON CONFLICT may not touch a row twice): the last line wins.
      const byPath = new Map(rows.map((r) => [r.path, r]));
      const unique = [...byPath.values()];
      for (let i = 0; i < unique.length; i += 1000) {
        await db
          .insertInto('evaluation_labels')
          .values(
            unique.slice(i, i + 1000).map((r) => ({
              taxonomy_id: taxonomyId,
              path: r.path,
              tags: JSON.stringify(r.tags),
              primary_category: r.primaryCategory,
              fields: r.fields === null ? null : JSON.stringify(r.fields),
              imported_by: importedBy,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['taxonomy_id', 'path']).doUpdateSet((eb) => ({
              tags: eb.ref('excluded.tags'),
              primary_category: eb.ref('excluded.primary_category'),
              fields: eb.ref('excluded.fields'),
              imported_by: eb.ref('excluded.imported_by'),
              imported_at: sql`now()`,
            })),
          )
          .execute();
      }
    },

    /** Imported gold labels under a taxonomy of paths inside `folder`. */
    async labelsInFolder(folder: string, taxonomyId: string): Promise<GoldLabelRow[]> {
      const range = descendantRange(folder);
      let q = db.selectFrom('evaluation_labels').select(['path', 'tags', 'primary_category', 'fields']).where('taxonomy_id', '=', taxonomyId);
      if (range) q = q.where('path', '>=', range.lower).where('path', '<', range.upper);
      const rows = await q.orderBy('path').execute();
      return rows.map((r) => ({ path: r.path, tags: r.tags, primaryCategory: r.primary_category, fields: r.fields }));
    },

    /** Live, extracted documents at these paths (with content). */
    async documentsAt(paths: string[]): Promise<LabelledDocument[]> {
      if (paths.length === 0) return [];
      const rows = await db
        .selectFrom('documents')
        .select(['id', 'path', 'sha256'])
        .where('path', '=', sql<string>`any(${paths}::text[])`)
        .where('deleted_at', 'is', null)
        .where('sha256', 'is not', null)
        .execute();
      return rows.map((r) => ({ id: r.id, path: r.path, sha256: r.sha256 ?? '' }));
    },

    /** Live documents at these paths (any status): which lines of an import name a document. */
    async knownPaths(paths: string[]): Promise<Set<string>> {
      if (paths.length === 0) return new Set();
      const rows = await db
        .selectFrom('documents')
        .select('path')
        .where('path', '=', sql<string>`any(${paths}::text[])`)
        .where('deleted_at', 'is', null)
        .execute();
      return new Set(rows.map((r) => r.path));
    },

    /**
     * The latest automatic result of each document for its current content under this taxonomy
     * version, model and prompt version (any summary language): what an evaluation scores.
     */
    async predictions(
      docs: LabelledDocument[],
      key: { taxonomyId: string; taxonomyVersion: number; model: string; promptVersion: string },
    ): Promise<Map<string, PredictionRow>> {
      if (docs.length === 0 || key.model === REVIEW_MODEL) return new Map();
      const rows = await db
        .selectFrom('classifications')
        .select(['document_id', 'content_sha256', 'tags', 'primary_category', 'fields', 'cost_usd', 'latency_ms', 'created_at'])
        .where('document_id', '=', sql<string>`any(${docs.map((d) => d.id)}::uuid[])`)
        .where('taxonomy_id', '=', key.taxonomyId)
        .where('taxonomy_version', '=', key.taxonomyVersion)
        .where('model', '=', key.model)
        .where('prompt_version', '=', key.promptVersion)
        .orderBy('created_at')
        .execute();
      const sha = new Map(docs.map((d) => [d.id, d.sha256]));
      const out = new Map<string, PredictionRow>();
      for (const r of rows) {
        if (sha.get(r.document_id) !== r.content_sha256) continue;
        out.set(r.document_id, {
          documentId: r.document_id,
          tags: r.tags.map((t) => t.label),
          primaryCategory: r.primary_category,
          fields: r.fields,
          costUsd: Number(r.cost_usd),
          latencyMs: r.latency_ms,
        });
      }
      return out;
    },

    async create(e: NewEvaluation): Promise<EvaluationRow> {
      const r = await db
        .insertInto('evaluations')
        .values({
          path: e.path,
          taxonomy_id: e.taxonomyId,
          taxonomy_name: e.taxonomyName,
          taxonomy_version: e.taxonomyVersion,
          model: e.model,
          prompt_version: e.promptVersion,
          job_id: e.jobId,
          documents: e.documents,
          gold: JSON.stringify(e.gold),
          created_by: e.createdBy,
        })
        .returningAll()
        .returning(sql<string>`created_at::text`.as('position'))
        .executeTakeFirstOrThrow();
      return toRow(r as RawEvaluation);
    },

    async find(id: string): Promise<EvaluationRow | undefined> {
      const r = await db.selectFrom('evaluations').selectAll().select(sql<string>`created_at::text`.as('position')).where('id', '=', id).executeTakeFirst();
      return r ? toRow(r as RawEvaluation) : undefined;
    },

    /** Newest first, keyset on (created_at, id). */
    async list(limit: number, before?: { at: string; id: string }): Promise<EvaluationRow[]> {
      let q = db.selectFrom('evaluations').selectAll().select(sql<string>`created_at::text`.as('position'));
      if (before) q = q.where(sql<boolean>`(created_at, id) < (${before.at}::timestamptz, ${before.id}::uuid)`);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map((r) => toRow(r as RawEvaluation));
    },

    /** Record the outcome once: a run that already ended is left as it is (false). */
    async finish(id: string, outcome: { status: string; metrics: unknown; errorCode?: string; errorMessage?: string }): Promise<boolean> {
      const r = await db
        .updateTable('evaluations')
        .set({
          status: outcome.status,
          metrics: JSON.stringify(outcome.metrics),
          error_code: outcome.errorCode ?? null,
          error_message: outcome.errorMessage ?? null,
          finished_at: sql`now()`,
        })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}

export type EvaluationsRepository = ReturnType<typeof createEvaluationsRepository>;

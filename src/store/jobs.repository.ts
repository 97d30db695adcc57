/** Jobs, their batches and per-document failures: the one place that writes job progress. */
import { type Transaction, sql } from 'kysely';
import { ACTIVE_JOB_STATUSES, FINAL_JOB_STATUSES, isActiveJobStatus, type JobErrorCode } from '../domain/vocabulary.ts';
import type { Db } from './database.ts';
import type { Database, JobKind, JobStatus } from './schema.ts';

export interface JobRow {
  id: string;
  kind: JobKind;
  status: JobStatus;
  parentId: string | null;
  folderPath: string | null;
  params: Record<string, unknown>;
  total: number;
  done: number;
  failed: number;
  skipped: number;
  discoveryDone: boolean;
  stats: Record<string, unknown>;
  errorCode: string | null;
  errorMessage: string | null;
  requestId: string | null;
  createdBy: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
  ocr: { documents: number; documentsDone: number; pagesTotal: number; pagesDone: number; startedAt: Date | null };
}

export interface NewJob {
  kind: JobKind;
  folderPath: string | null;
  params: Record<string, unknown>;
  /** Identical active requests share one job (see jobs_active_dedupe_idx). */
  dedupeKey: string | null;
  requestId?: string | null;
  parentId?: string | null;
  /** The API key that started it (null when auth is open and no key was sent). */
  createdBy?: string | null;
}

export interface BatchOutcome {
  done: number;
  failed: number;
  skipped: number;
  /** Documents of the batch that wait for OCR, and their pages: the job ends only after them. */
  ocr?: { documents: number; pages: number };
}

/** A batch a job has opened: its size, what it counted as skipped, and whether it was written. */
export interface OpenedBatch {
  batchNo: number;
  total: number;
  skipped: number;
  completed: boolean;
}

export interface FailureRow {
  documentId: string;
  path: string;
  code: string;
  message: string;
}

type Executor = Db | Transaction<Database>;

const columns = [
  'id',
  'kind',
  'status',
  'parent_id',
  'folder_path',
  'params',
  'total',
  'done',
  'failed',
  'skipped',
  'discovery_done',
  'stats',
  'error_code',
  'error_message',
  'request_id',
  'created_by',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'created_at',
  'started_at',
  'finished_at',
  'updated_at',
  'ocr_documents',
  'ocr_documents_done',
  'ocr_pages_total',
  'ocr_pages_done',
  'ocr_started_at',
] as const;

type RawJob = {
  id: string;
  kind: JobKind;
  status: JobStatus;
  parent_id: string | null;
  folder_path: string | null;
  params: Record<string, unknown>;
  total: number;
  done: number;
  failed: number;
  skipped: number;
  discovery_done: boolean;
  stats: Record<string, unknown>;
  error_code: string | null;
  error_message: string | null;
  request_id: string | null;
  created_by: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  ocr_documents: number;
  ocr_documents_done: number;
  ocr_pages_total: number;
  ocr_pages_done: number;
  ocr_started_at: Date | null;
};

function toJob(r: RawJob): JobRow {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    parentId: r.parent_id,
    folderPath: r.folder_path,
    params: r.params,
    total: r.total,
    done: r.done,
    failed: r.failed,
    skipped: r.skipped,
    discoveryDone: r.discovery_done,
    stats: r.stats,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    requestId: r.request_id,
    createdBy: r.created_by,
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    costUsd: Number(r.cost_usd),
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
    ocr: {
      documents: r.ocr_documents,
      documentsDone: r.ocr_documents_done,
      pagesTotal: r.ocr_pages_total,
      pagesDone: r.ocr_pages_done,
      startedAt: r.ocr_started_at,
    },
  };
}

export function createJobsRepository(db: Db) {
  const completeIfDone = async (ex: Executor, jobId: string) => {
    await ex
      .updateTable('jobs')
      .set({ status: 'completed', finished_at: sql`now()`, updated_at: sql`now()` })
      .where('id', '=', jobId)
      .where('status', '=', 'running')
      .where('discovery_done', '=', true)
      .where(sql<boolean>`done + failed + skipped >= total`)
      .where(sql<boolean>`ocr_documents_done >= ocr_documents`)
      .execute();
  };

  /** Add keys to one of a job's JSON columns. */
  const mergeJson = async (jobId: string, column: 'params' | 'stats', extra: Record<string, unknown>): Promise<void> => {
    await db
      .updateTable('jobs')
      .set({ [column]: sql`${sql.ref(column)} || ${JSON.stringify(extra)}::jsonb`, updated_at: sql`now()` })
      .where('id', '=', jobId)
      .execute();
  };

  return {
    /** Create a job, or return the identical one already queued or running. */
    async createOrFind(job: NewJob): Promise<{ job: JobRow; created: boolean }> {
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await db
          .insertInto('jobs')
          .values({
            kind: job.kind,
            folder_path: job.folderPath,
            params: JSON.stringify(job.params),
            dedupe_key: job.dedupeKey,
            request_id: job.requestId ?? null,
            parent_id: job.parentId ?? null,
            created_by: job.createdBy ?? null,
          })
          .onConflict((oc) =>
            oc.column('dedupe_key').where('status', 'in', ACTIVE_JOB_STATUSES).doNothing(),
          )
          .returning(columns)
          .executeTakeFirst();
        if (inserted) return { job: toJob(inserted as RawJob), created: true };
        const existing = await db
          .selectFrom('jobs')
          .select(columns)
          .where('dedupe_key', '=', job.dedupeKey)
          .where('status', 'in', ACTIVE_JOB_STATUSES)
          .executeTakeFirst();
        if (existing) return { job: toJob(existing as RawJob), created: false };
        // The active twin finished between our insert and select: try again.
      }
      throw new Error('Could not create or find an active job after 3 attempts');
    },

    async findById(id: string): Promise<JobRow | undefined> {
      const r = await db.selectFrom('jobs').select(columns).where('id', '=', id).executeTakeFirst();
      return r ? toJob(r as RawJob) : undefined;
    },

    async list(q: {
      status?: JobStatus;
      kind?: JobKind;
      folder?: string;
      before?: { createdAt: Date; id: string };
      limit: number;
      /** A scoped caller: only jobs on folders in its scopes, or that it started. */
      visibleTo?: { scopes: string[]; keyId: string | null };
    }): Promise<JobRow[]> {
      let query = db.selectFrom('jobs').select(columns).where('parent_id', 'is', null);
      if (q.status) query = query.where('status', '=', q.status);
      if (q.kind) query = query.where('kind', '=', q.kind);
      if (q.folder !== undefined) query = query.where('folder_path', '=', q.folder);
      if (q.visibleTo) {
        const v = q.visibleTo;
        query = query.where((eb) =>
          eb.or([
            ...(v.keyId ? [eb('created_by', '=', v.keyId)] : []),
            ...v.scopes.map((s) =>
              eb.or([eb('folder_path', '=', s), eb.and([eb('folder_path', '>=', `${s}/`), eb('folder_path', '<', `${s}0`)])]),
            ),
          ]),
        );
      }
      if (q.before) {
        const b = q.before;
        query = query.where(sql<boolean>`(created_at, id) < (${b.createdAt}, ${b.id}::uuid)`);
      }
      const rows = await query
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(q.limit)
        .execute();
      return rows.map((r) => toJob(r as RawJob));
    },

    /**
     * Mark a job running (keeping the first start time across retries). Returns the job, or
     * undefined when it is no longer runnable (cancelled, finished).
     */
    async markRunning(id: string): Promise<JobRow | undefined> {
      const r = await db
        .updateTable('jobs')
        .set({
          status: 'running',
          started_at: sql`coalesce(started_at, now())`,
          updated_at: sql`now()`,
        })
        .where('id', '=', id)
        .where('status', 'in', ACTIVE_JOB_STATUSES)
        .returning(columns)
        .executeTakeFirst();
      return r ? toJob(r as RawJob) : undefined;
    },

    /**
     * Open a batch: counted into the job's total (and its scan-time skips) exactly once.
     * Returns false when the batch already existed (a retried scan), true when new.
     */
    async openBatch(jobId: string, batchNo: number, total: number, skipped: number): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('job_batches')
          .values({ job_id: jobId, batch_no: batchNo, total, skipped })
          .onConflict((oc) => oc.columns(['job_id', 'batch_no']).doNothing())
          .returning('batch_no')
          .executeTakeFirst();
        if (!row) return false;
        await trx
          .updateTable('jobs')
          .set({
            total: sql`total + ${total}`,
            skipped: sql`skipped + ${skipped}`,
            updated_at: sql`now()`,
          })
          .where('id', '=', jobId)
          .execute();
        // A batch with nothing left to do is complete at birth.
        if (total === skipped) {
          await trx
            .updateTable('job_batches')
            .set({ completed_at: sql`now()` })
            .where('job_id', '=', jobId)
            .where('batch_no', '=', batchNo)
            .execute();
        }
        return true;
      });
    },

    /** The batches a job has opened, in number order (a resumed scan sends again those not written). */
    async openedBatches(jobId: string): Promise<OpenedBatch[]> {
      const rows = await db
        .selectFrom('job_batches')
        .select(['batch_no', 'total', 'skipped', 'completed_at'])
        .where('job_id', '=', jobId)
        .orderBy('batch_no')
        .execute();
      return rows.map((r) => ({ batchNo: r.batch_no, total: r.total, skipped: r.skipped, completed: r.completed_at !== null }));
    },

    /**
     * Open the next batch of a classification job with those of `documentIds` that no batch of
     * the job holds yet (classify_planned), counting `skippedIds` among them as skipped. Plans of
     * one job are serialized on its row, so each document lands in one batch however many plans
     * run. Returns the batch's number and its documents, or undefined when all were planned.
     */
    async openPlannedBatch(jobId: string, documentIds: string[], skippedIds: ReadonlySet<string>): Promise<{ batchNo: number; documentIds: string[] } | undefined> {
      if (documentIds.length === 0) return undefined;
      return db.transaction().execute(async (trx) => {
        await trx.selectFrom('jobs').select('id').where('id', '=', jobId).forUpdate().executeTakeFirst();
        const last = await trx.selectFrom('job_batches').select(sql<number | null>`max(batch_no)`.as('n')).where('job_id', '=', jobId).executeTakeFirst();
        const batchNo = (last?.n ?? -1) + 1;
        const planned = await sql<{ document_id: string }>`
          insert into classify_planned (job_id, document_id, batch_no, skipped)
          select ${jobId}, d, ${batchNo}, d = any(${[...skippedIds]}::uuid[]) from unnest(${documentIds}::uuid[]) with ordinality as x(d, n) order by n
          on conflict (job_id, document_id) do nothing
          returning document_id`.execute(trx);
        const taken = new Set(planned.rows.map((r) => r.document_id));
        if (taken.size === 0) return undefined;
        const ids = documentIds.filter((id) => taken.has(id));
        const skipped = ids.filter((id) => skippedIds.has(id)).length;
        await trx.insertInto('job_batches').values({ job_id: jobId, batch_no: batchNo, total: ids.length, skipped }).execute();
        await trx
          .updateTable('jobs')
          .set({ total: sql`total + ${ids.length}`, skipped: sql`skipped + ${skipped}`, updated_at: sql`now()` })
          .where('id', '=', jobId)
          .execute();
        if (ids.length === skipped) {
          await trx.updateTable('job_batches').set({ completed_at: sql`now()` }).where('job_id', '=', jobId).where('batch_no', '=', batchNo).execute();
        }
        return { batchNo, documentIds: ids };
      });
    },

    /**
     * The batches of a classification job numbered below `below` that are still open, with their
     * planned documents (those not skipped): to enqueue again those whose queue job was lost.
     */
    async openPlannedBatches(jobId: string, below: number): Promise<{ batchNo: number; documentIds: string[] }[]> {
      const rows = await sql<{ batch_no: number; ids: string[] }>`
        select b.batch_no, array_agg(p.document_id order by p.document_id) as ids
        from job_batches b join classify_planned p on p.job_id = b.job_id and p.batch_no = b.batch_no
        where b.job_id = ${jobId} and b.batch_no < ${below} and b.completed_at is null and not p.skipped
        group by b.batch_no order by b.batch_no`.execute(db);
      return rows.rows.map((r) => ({ batchNo: r.batch_no, documentIds: r.ids }));
    },

    /** The number the next batch of a job would get. */
    async nextBatchNo(jobId: string): Promise<number> {
      const r = await db.selectFrom('job_batches').select(sql<number | null>`max(batch_no)`.as('n')).where('job_id', '=', jobId).executeTakeFirst();
      return (r?.n ?? -1) + 1;
    },

    /**
     * Should this batch run? Not when it already completed (a rerun of its queue job) and not when
     * its job was cancelled or has ended.
     */
    async shouldRunBatch(jobId: string, batchNo: number): Promise<boolean> {
      const r = await db
        .selectFrom('jobs')
        .leftJoin('job_batches', (j) => j.onRef('job_batches.job_id', '=', 'jobs.id').on('job_batches.batch_no', '=', batchNo))
        .select(['jobs.status', 'job_batches.completed_at'])
        .where('jobs.id', '=', jobId)
        .executeTakeFirst();
      return !!r && isActiveJobStatus(r.status) && r.completed_at == null;
    },

    /**
     * Complete a batch inside the caller's transaction (the one that wrote its documents), so its
     * outcome is counted exactly once. Returns false if it was already completed.
     */
    async completeBatch(
      trx: Transaction<Database>,
      jobId: string,
      batchNo: number,
      outcome: BatchOutcome,
      failures: FailureRow[],
    ): Promise<boolean> {
      const row = await trx
        .updateTable('job_batches')
        .set({
          done: outcome.done,
          failed: outcome.failed,
          skipped: sql`skipped + ${outcome.skipped}`,
          completed_at: sql`now()`,
        })
        .where('job_id', '=', jobId)
        .where('batch_no', '=', batchNo)
        .where('completed_at', 'is', null)
        .returning('batch_no')
        .executeTakeFirst();
      if (!row) return false;
      if (failures.length > 0) {
        await trx
          .insertInto('job_failures')
          .values(
            failures.map((f) => ({
              job_id: jobId,
              document_id: f.documentId,
              path: f.path,
              code: f.code,
              message: f.message,
            })),
          )
          .onConflict((oc) => oc.columns(['job_id', 'document_id']).doNothing())
          .execute();
      }
      await trx
        .updateTable('jobs')
        .set({
          done: sql`done + ${outcome.done}`,
          failed: sql`failed + ${outcome.failed}`,
          skipped: sql`skipped + ${outcome.skipped}`,
          ocr_documents: sql`ocr_documents + ${outcome.ocr?.documents ?? 0}`,
          ocr_pages_total: sql`ocr_pages_total + ${outcome.ocr?.pages ?? 0}`,
          updated_at: sql`now()`,
        })
        .where('id', '=', jobId)
        .execute();
      await completeIfDone(trx, jobId);
      return true;
    },

    /** Pages OCR has read for the job (its pages/s and ETA count from the first). */
    async ocrPagesRead(jobId: string, pages: number): Promise<void> {
      await db
        .updateTable('jobs')
        .set({
          ocr_pages_done: sql`ocr_pages_done + ${pages}`,
          ocr_started_at: sql`coalesce(ocr_started_at, now())`,
          updated_at: sql`now()`,
        })
        .where('id', '=', jobId)
        .execute();
    },

    /** One document's OCR has ended (read, failed or skipped); the job completes with the last. */
    async ocrDocumentDone(trx: Transaction<Database>, jobId: string): Promise<void> {
      await trx
        .updateTable('jobs')
        .set({ ocr_documents_done: sql`ocr_documents_done + 1`, updated_at: sql`now()` })
        .where('id', '=', jobId)
        .execute();
      await completeIfDone(trx, jobId);
    },

    /** Add a batch's token and cost sums to its job, inside the transaction that completed the batch. */
    async addUsage(trx: Transaction<Database>, jobId: string, usage: { inputTokens: number; outputTokens: number; costUsd: number }): Promise<void> {
      await trx
        .updateTable('jobs')
        .set({
          input_tokens: sql`input_tokens + ${usage.inputTokens}`,
          output_tokens: sql`output_tokens + ${usage.outputTokens}`,
          cost_usd: sql`cost_usd + ${usage.costUsd}`,
        })
        .where('id', '=', jobId)
        .execute();
    },

    /** Every batch is known: the job completes when the last one does (or now, if all are). */
    async finishDiscovery(jobId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('jobs')
          .set({ discovery_done: true, updated_at: sql`now()` })
          .where('id', '=', jobId)
          .execute();
        await completeIfDone(trx, jobId);
      });
    },

    /**
     * Cancel a queued or running job and its children. Work already queued becomes a no-op when
     * it runs; batches in flight finish their transaction (nothing is half-written) and stop there.
     */
    async cancel(jobId: string): Promise<boolean> {
      const rows = await db
        .updateTable('jobs')
        .set({ status: 'cancelled', finished_at: sql`now()`, updated_at: sql`now()`, error_code: 'cancelled' satisfies JobErrorCode, error_message: 'Cancelled on request' })
        .where((eb) => eb.or([eb('id', '=', jobId), eb('parent_id', '=', jobId)]))
        .where('status', 'in', ACTIVE_JOB_STATUSES)
        .returning('id')
        .execute();
      return rows.some((r) => r.id === jobId);
    },

    /**
     * Active jobs that have not moved for `idleMs` (their queue jobs may have been lost: a Redis
     * restart without persistence). Claimed by touching updated_at, so one reconciler takes each.
     */
    async claimStale(idleMs: number): Promise<{ id: string; kind: JobKind }[]> {
      return db
        .updateTable('jobs')
        .set({ updated_at: sql`now()` })
        .where('status', 'in', ACTIVE_JOB_STATUSES)
        .where(sql<boolean>`updated_at < now() - ${idleMs} * interval '1 millisecond'`)
        .returning(['id', 'kind'])
        .execute();
    },

    /** Is the job still queued or running (not cancelled, not finished)? */
    async isActive(jobId: string): Promise<boolean> {
      const r = await db.selectFrom('jobs').select('status').where('id', '=', jobId).executeTakeFirst();
      return r !== undefined && isActiveJobStatus(r.status);
    },

    /** Every failed document of a job (for retry). */
    async failedDocumentIds(jobId: string): Promise<string[]> {
      const rows = await db.selectFrom('job_failures').select('document_id').where('job_id', '=', jobId).orderBy('path').execute();
      return rows.map((r) => r.document_id);
    },

    /** Job history retention: drop top-level jobs that finished before `before` (children cascade). */
    async deleteFinishedBefore(before: Date): Promise<number> {
      const r = await db
        .deleteFrom('jobs')
        .where('parent_id', 'is', null)
        .where('status', 'in', FINAL_JOB_STATUSES)
        .where('finished_at', '<', before)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    /** Add keys to a job's stats (what its work found, e.g. the documents a scan added). */
    mergeStats: (jobId: string, extra: Record<string, unknown>) => mergeJson(jobId, 'stats', extra),

    /** Add keys to a job's params (e.g. the child scan it waits for). */
    mergeParams: (jobId: string, extra: Record<string, unknown>) => mergeJson(jobId, 'params', extra),

    async fail(jobId: string, code: JobErrorCode, message: string): Promise<void> {
      await db
        .updateTable('jobs')
        .set({
          status: 'failed',
          error_code: code,
          error_message: message,
          finished_at: sql`now()`,
          updated_at: sql`now()`,
        })
        .where('id', '=', jobId)
        .where('status', 'in', ACTIVE_JOB_STATUSES)
        .execute();
    },

    async failures(jobId: string, limit: number): Promise<FailureRow[]> {
      const rows = await db
        .selectFrom('job_failures')
        .select(['document_id', 'path', 'code', 'message'])
        .where('job_id', '=', jobId)
        .orderBy('path')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ documentId: r.document_id, path: r.path, code: r.code, message: r.message }));
    },
  };
}

export type JobsRepository = ReturnType<typeof createJobsRepository>;

/** Batch API batches of classification jobs (migration 0020): what a poll needs to find its batch again. */
import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface LlmBatchRow {
  jobId: string;
  batchNo: number;
  providerBatchId: string;
  status: string;
  documentIds: string[];
  polls: number;
  ended: boolean;
}


export function createLlmBatchesRepository(db: Db) {
  const toRow = (r: { job_id: string; batch_no: number; provider_batch_id: string; status: string; document_ids: string[]; polls: number; ended_at: Date | null }): LlmBatchRow => ({
    jobId: r.job_id,
    batchNo: r.batch_no,
    providerBatchId: r.provider_batch_id,
    status: r.status,
    documentIds: r.document_ids,
    polls: r.polls,
    ended: r.ended_at !== null,
  });
  const columns = ['job_id', 'batch_no', 'provider_batch_id', 'status', 'document_ids', 'polls', 'ended_at'] as const;
  return {
    async find(jobId: string, batchNo: number): Promise<LlmBatchRow | undefined> {
      const r = await db.selectFrom('llm_batches').select(columns).where('job_id', '=', jobId).where('batch_no', '=', batchNo).executeTakeFirst();
      return r ? toRow(r) : undefined;
    },

    /** Records a submitted batch; false when this job batch already has one (a concurrent run got there first). */
    async insert(b: { jobId: string; batchNo: number; providerBatchId: string; inputFileId: string; status: string; documentIds: string[] }): Promise<boolean> {
      const r = await db
        .insertInto('llm_batches')
        .values({
          job_id: b.jobId,
          batch_no: b.batchNo,
          provider_batch_id: b.providerBatchId,
          input_file_id: b.inputFileId,
          status: b.status,
          document_ids: b.documentIds,
        })
        .onConflict((oc) => oc.columns(['job_id', 'batch_no']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /**
     * One look at the provider: its status, and the job's `updated_at` moved too, so a batch
     * waiting hours at the provider is not taken for a stalled job by the reconciler.
     */
    async polled(jobId: string, batchNo: number, status: string, ended: boolean): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('llm_batches')
          .set({ status, polls: sql`polls + 1`, updated_at: sql`now()`, ...(ended ? { ended_at: sql`coalesce(ended_at, now())` } : {}) })
          .where('job_id', '=', jobId)
          .where('batch_no', '=', batchNo)
          .execute();
        await trx.updateTable('jobs').set({ updated_at: sql`now()` }).where('id', '=', jobId).execute();
      });
    },

    /** The job's batches still open at the provider (to cancel them with the job). */
    async openFor(jobId: string): Promise<LlmBatchRow[]> {
      const rows = await db.selectFrom('llm_batches').select(columns).where('job_id', '=', jobId).where('ended_at', 'is', null).execute();
      return rows.map(toRow);
    },
  };
}

export type LlmBatchesRepository = ReturnType<typeof createLlmBatchesRepository>;

/**
 * A classification batch and the results' group commit (issue 18): saved results wait in the
 * repository to share a statement, and a batch whose every document has its answer sends what
 * waits at once, so its completion never waits out that wait.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type ClassifyService, createClassificationBatchService } from '../../src/services/classification-batch.service.ts';
import { createClassificationsRepository } from '../../src/store/classifications.repository.ts';
import { createJobsRepository } from '../../src/store/jobs.repository.ts';
import { createTaxonomiesRepository } from '../../src/store/taxonomies.repository.ts';
import { createUnitOfWork } from '../../src/store/unit-of-work.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

/** A model that answers every document with its first label, after `delayMs`. */
function stubClassifier(label: string, delayMs: number): ClassifyService {
  return {
    model: 'gpt-4o-mini',
    promptVersion: 'p1',
    providerName: 'stub',
    estimateCostUsd: () => 0,
    batchRequest: () => undefined,
    async classify() {
      await new Promise((r) => setTimeout(r, delayMs));
      return {
        ok: true,
        result: {
          tags: [{ label, confidence: 0.9, needsReview: false }],
          primaryCategory: label,
          summary: 'A document.',
          language: 'en',
          strategy: 'single',
          chunks: 1,
          inputTokens: 10,
          outputTokens: 5,
          costUsd: 0.001,
          needsReview: false,
          warnings: [],
          fields: {},
        },
      };
    },
  };
}

describe('a classification batch sends its waiting results once all its answers are in', { timeout: 60_000 }, () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  it('completes with every result stored, although the results could wait ten minutes for others', async () => {
    const t = await sql<{ id: string; version: number; label: string }>`
      select t.id, v.version, v.labels->0->>'name' as label
      from taxonomies t join taxonomy_versions v on v.taxonomy_id = t.id order by v.version limit 1`.execute(db.db);
    const taxonomy = t.rows[0];
    assert.ok(taxonomy);
    const jobs = createJobsRepository(db.db);
    const params = { path: 'f', taxonomyId: taxonomy.id, taxonomyVersion: taxonomy.version, summaryLanguage: null, force: false };
    const { job } = await jobs.createOrFind({ kind: 'classify', folderPath: 'f', params, dedupeKey: 'classify:saves' });
    await sql`update jobs set status = 'running' where id = ${job.id}`.execute(db.db);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await sql<{ id: string }>`
        insert into documents (path, folder, name, extension, size, mtime, status, sha256, text, extracted_at)
        values (${`f/d${i}.txt`}, 'f', ${`d${i}.txt`}, 'txt', 10, now(), 'extracted', ${`sha-${i}`}, ${`text ${i}`}, now())
        returning id`.execute(db.db);
      ids.push(r.rows[0]?.id as string);
    }
    await jobs.openBatch(job.id, 0, ids.length, 0);

    const service = createClassificationBatchService({
      jobs,
      // A wait no test would sit through: only the batch's flush writes these results in time.
      classifications: createClassificationsRepository(db.db, { resultLingerMs: 600_000 }),
      taxonomies: createTaxonomiesRepository(db.db),
      unitOfWork: createUnitOfWork(db.db),
      classifier: stubClassifier(taxonomy.label, 5),
    });
    await service.runBatch({ jobId: job.id, batchNo: 0, documentIds: ids }, { attempt: 1, maxAttempts: 3, signal: new AbortController().signal });

    const stored = await sql<{ n: number }>`
      select count(*)::int as n from documents d join classifications c on c.id = d.classification_id
      where d.id = any(${ids}::uuid[]) and c.job_id = ${job.id}`.execute(db.db);
    assert.equal(stored.rows[0]?.n, ids.length);
    const batch = await sql<{ done: number; completed: boolean }>`
      select done, completed_at is not null as completed from job_batches where job_id = ${job.id} and batch_no = 0`.execute(db.db);
    assert.deepEqual(batch.rows[0], { done: ids.length, completed: true });
  });
});

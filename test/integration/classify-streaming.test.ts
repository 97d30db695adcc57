/**
 * Classifying a folder while its scan is still extracting it (issue 18, "from cold"): each look of
 * the plan puts the documents extracted since the scan started into batches, the look after the
 * scan plans the rest and ends discovery, and no document is planned twice in one job, however
 * many looks (polls, wake-ups from extraction batches, reruns) run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { JobName, JobPayloads } from '../../src/domain/work.ts';
import { createClassificationPlanService, wakeClassificationOf } from '../../src/services/classification-plan.service.ts';
import { scanBatchSize } from '../../src/services/scan.service.ts';
import { createClassificationsRepository } from '../../src/store/classifications.repository.ts';
import { createJobsRepository } from '../../src/store/jobs.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

type Enqueued = { name: JobName; payload: JobPayloads[JobName] };

describe('classification planned while the scan runs', () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
  });

  after(async () => {
    await db?.drop();
  });

  /** The plan on this database, with a queue that records what is enqueued. */
  const setup = () => {
    const jobs = createJobsRepository(db.db);
    const classifications = createClassificationsRepository(db.db);
    const enqueued: Enqueued[] = [];
    const enqueue = async <N extends JobName>(name: N, payload: JobPayloads[N]) => {
      enqueued.push({ name, payload });
    };
    const plan = createClassificationPlanService({ jobs, classifications, classifier: { model: 'm', promptVersion: 'p' }, enqueue, batchSize: 2 });
    return { jobs, enqueued, enqueue, plan };
  };

  it('plans each extracted document once: fresh ones during the scan, the rest after it', async () => {
    const { jobs, enqueued, enqueue, plan } = setup();
    const params = { path: 'f', taxonomyId: randomUUID(), taxonomyVersion: 1, summaryLanguage: null, force: false };
    const { job } = await jobs.createOrFind({ kind: 'classify', folderPath: 'f', params, dedupeKey: 'classify:streaming' });

    let n = 0;
    const insertDoc = async (status: 'extracted' | 'pending', extractedAt: ReturnType<typeof sql>) => {
      n++;
      const r = await sql<{ id: string }>`
        insert into documents (path, folder, name, extension, size, mtime, status, sha256, text, extracted_at)
        values (${`f/d${n}.txt`}, 'f', ${`d${n}.txt`}, 'txt', 10, now(), ${status}, ${`sha-${n}`}, 'text', ${extractedAt})
        returning id`.execute(db.db);
      return r.rows[0]?.id as string;
    };
    // Extracted by an earlier scan: their files may have changed since, so they wait for this scan's end.
    const old = [await insertDoc('extracted', sql`now() - interval '1 hour'`), await insertDoc('extracted', sql`now() - interval '1 hour'`)];

    const classified = () => enqueued.filter((e): e is { name: 'classify'; payload: JobPayloads['classify'] } => e.name === 'classify');
    /**
     * The documents of each batch enqueued, across batches; a batch enqueued again (under its
     * queue id, a no-op on a real queue) must carry the same documents.
     */
    const plannedIds = () => {
      const byBatch = new Map<number, string>();
      for (const e of classified()) {
        const ids = [...e.payload.documentIds].sort().join(',');
        assert.equal(byBatch.get(e.payload.batchNo) ?? ids, ids, `batch ${e.payload.batchNo} enqueued again with other documents`);
        byBatch.set(e.payload.batchNo, ids);
      }
      return [...byBatch.values()].flatMap((ids) => ids.split(','));
    };

    // First look: the plan starts the scan and waits; nothing is extracted by it yet.
    await plan.run({ jobId: job.id });
    const scanJobId = enqueued.find((e) => e.name === 'scan')?.payload.jobId;
    assert.ok(scanJobId);
    assert.equal(classified().length, 0);
    assert.ok(enqueued.some((e) => e.name === 'classify-plan' && (e.payload as JobPayloads['classify-plan']).poll === 1));

    // The scan runs and writes its first documents; one more is still waiting for its extraction.
    await jobs.markRunning(scanJobId);
    const fresh = [await insertDoc('extracted', sql`clock_timestamp()`), await insertDoc('extracted', sql`clock_timestamp()`), await insertDoc('extracted', sql`clock_timestamp()`)];
    const pending = await insertDoc('pending', sql`null`);

    // The extraction batch wakes the plan: it plans the fresh documents, before the scan ends.
    const polls = () => enqueued.filter((e) => e.name === 'classify-plan').length;
    const pollsBefore = polls();
    await wakeClassificationOf({ jobs, enqueue }, scanJobId, 0);
    const wake = enqueued.at(-1);
    assert.deepEqual(wake, { name: 'classify-plan', payload: { jobId: job.id, wake: 0 } });
    await plan.run({ jobId: job.id, wake: 0 });
    assert.deepEqual(new Set(plannedIds()), new Set(fresh));
    assert.equal((await jobs.findById(scanJobId))?.status, 'running', 'classification began before the scan ended');
    assert.equal(polls(), pollsBefore + 1, 'a wake-up does not start another chain of polls');
    assert.equal((await jobs.findById(job.id))?.discoveryDone, false);

    // A poll (or a second wake-up) in between finds nothing new to plan.
    await plan.run({ jobId: job.id, poll: 1 });
    await plan.run({ jobId: job.id, wake: 0 });
    assert.equal(plannedIds().length, fresh.length);

    // The last document is extracted and the scan ends: the next look plans the rest, once.
    await sql`update documents set status = 'extracted', extracted_at = clock_timestamp() where id = ${pending}`.execute(db.db);
    await sql`update jobs set status = 'completed', finished_at = now() where id = ${scanJobId}`.execute(db.db);
    await plan.run({ jobId: job.id, wake: 1 });
    const all = [...old, ...fresh, pending];
    assert.deepEqual([...plannedIds()].sort(), [...all].sort(), 'every document planned exactly once');
    const after = await jobs.findById(job.id);
    assert.equal(after?.discoveryDone, true);
    assert.equal(after?.total, all.length);

    // A rerun of the last look (a lost queue job, a crash) plans nothing again: it only enqueues
    // the batches still open under the numbers they have.
    const batchesBefore = new Set(classified().map((e) => e.payload.batchNo));
    await plan.run({ jobId: job.id, poll: 2 });
    assert.deepEqual(new Set(classified().map((e) => e.payload.batchNo)), batchesBefore);
    assert.deepEqual([...plannedIds()].sort(), [...all].sort());
    assert.equal((await jobs.findById(job.id))?.total, all.length);
    const rows = await sql<{ n: number }>`select count(*)::int as n from classify_planned where job_id = ${job.id}`.execute(db.db);
    assert.equal(rows.rows[0]?.n, all.length);
  });

  it('a Batch API job waits for the whole scan', async () => {
    const { jobs, enqueued, plan } = setup();
    const params = { path: 'g', taxonomyId: randomUUID(), taxonomyVersion: 1, summaryLanguage: null, force: false, mode: 'batch' as const };
    const { job } = await jobs.createOrFind({ kind: 'classify', folderPath: 'g', params, dedupeKey: 'classify:streaming-batch' });
    await plan.run({ jobId: job.id });
    const scanJobId = enqueued.find((e) => e.name === 'scan')?.payload.jobId as string;
    await jobs.markRunning(scanJobId);
    await sql`
      insert into documents (path, folder, name, extension, size, mtime, status, sha256, text, extracted_at)
      values ('g/a.txt', 'g', 'a.txt', 'txt', 10, now(), 'extracted', 'sha-g', 'text', clock_timestamp())`.execute(db.db);
    await plan.run({ jobId: job.id, wake: 0 });
    assert.equal(enqueued.filter((e) => e.name === 'classify').length, 0);
    await sql`update jobs set status = 'completed', finished_at = now() where id = ${scanJobId}`.execute(db.db);
    await plan.run({ jobId: job.id, poll: 1 });
    assert.equal(enqueued.filter((e) => e.name === 'classify').length, 1);
  });

  it('a walk writes its first documents in small batches, then full ones', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((no) => scanBatchSize(no, 200)), [16, 32, 64, 128, 200, 200]);
    assert.deepEqual([0, 1, 2].map((no) => scanBatchSize(no, 10)), [10, 10, 10]);
  });
});

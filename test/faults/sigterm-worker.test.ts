/**
 * Fault 5: SIGTERM to a worker in the middle of a job, on each queue. The job is a classification
 * against a slow fake LLM, so the worker surely holds a batch that takes longer than its
 * SHUTDOWN_TIMEOUT_MS: it must stop taking work, hand back (or finish) what it holds within the
 * timeout, exit 0, and the other worker completes the job with every document classified once and
 * none failed by the shutdown.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase } from '../support/db.ts';
import { generateDocxFolder } from '../support/docx-fixtures.ts';
import { startFakeOpenAI } from '../support/fake-openai.ts';
import { api, type JobBody, waitForJob } from '../support/http.ts';
import { dropQueueKeys, note, startCluster, waitForProgress } from '../support/private-services.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const COUNT = 40;
const SHUTDOWN_TIMEOUT_MS = 2_000;

describe('SIGTERM to a worker during a job', { concurrency: 2 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'docsight-sigterm-'));
    await generateDocxFolder(path.join(dir, 'documents'), COUNT, { targetKb: 8, companies: 2 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const mode of ['redis', 'postgres'] as const) {
    // A stopping worker hands its batch back (results so far kept) instead of failing the
    // requests its shutdown aborted.
    it(`${mode} queue: stops, releases within SHUTDOWN_TIMEOUT_MS, exits 0; the other worker completes the job`, async () => {
      // 500 ms per request, one at a time per worker, 5 documents a batch: a batch takes ~2.5 s.
      const fake = await startFakeOpenAI({ latencyMs: 500 });
      const db = await createTestDatabase({ migrate: false });
      const queueName = `ft${mode}${Date.now().toString(36)}`;
      const cluster = await startCluster({
        dir,
        workers: 2,
        env: {
          DATABASE_URL: db.url,
          ...(mode === 'redis' ? { REDIS_URL } : {}),
          QUEUE_NAME: queueName,
          DOCS_ROOT: path.join(dir, 'documents'),
          DATA_DIR: path.join(dir, 'unused-data'),
          OPENAI_BASE_URL: fake.url,
          OPENAI_API_KEY: 'test-key',
          LLM_RPM: '0',
          LLM_TPM: '0',
        },
        workerEnv: {
          WORKER_CONCURRENCY: '1',
          EXTRACT_THREADS: '1',
          SCAN_BATCH_SIZE: '20',
          CLASSIFY_BATCH_SIZE: '5',
          LLM_CONCURRENCY: '1',
          SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        },
      });
      const { base } = cluster;
      try {
        const start = await api<{ id: string }>(base, 'POST', '/v1/classifications', { path: '.' });
        assert.equal(start.status, 202, JSON.stringify(start.body));
        // Both workers busy classifying: each has sent at least one request.
        await waitForProgress(base, start.body.id, (j) => j.progress.total > 0 && fake.stats.requests >= 4, 60_000);
        const before = await waitForProgress(base, start.body.id, () => true);
        const [victim] = cluster.workers;
        assert.ok(victim);
        const t0 = Date.now();
        victim.child.kill('SIGTERM');
        const code = await victim.exited;
        const stoppedMs = Date.now() - t0;
        const fakeAtExit = fake.stats.requests;
        note(`${mode}: SIGTERM at ${before.progress.done}/${before.progress.total} classified → exit ${code} after ${stoppedMs} ms (SHUTDOWN_TIMEOUT_MS ${SHUTDOWN_TIMEOUT_MS})`);
        assert.equal(code, 0, 'exit code 0');
        // The timeout, plus the time to hand jobs back and close pools.
        assert.ok(stoppedMs < SHUTDOWN_TIMEOUT_MS + 5_000, `stopped within the timeout (${stoppedMs} ms)`);

        const job = await waitForJob(base, start.body.id, 120_000);
        const failures = await api<JobBody>(base, 'GET', `/v1/jobs/${start.body.id}`);
        const rows = await db.db
          .selectFrom('classifications')
          .select(['document_id'])
          .where('job_id', '=', start.body.id)
          .execute();
        const perDoc = new Map<string, number>();
        for (const r of rows) perDoc.set(r.document_id, (perDoc.get(r.document_id) ?? 0) + 1);
        const duplicated = [...perDoc.values()].filter((n) => n > 1).length;
        note(
          `${mode}: job ${job.status} ${JSON.stringify(job.progress)}; LLM requests ${fakeAtExit} at exit, ${fake.stats.requests} in all; ` +
            `documents expected ${COUNT}, classified ${perDoc.size}, duplicated ${duplicated}, lost ${COUNT - perDoc.size}; failures ${JSON.stringify(failures.body.failures?.slice(0, 3))}`,
        );
        assert.equal(job.status, 'completed');
        assert.equal(job.progress.failed, 0, 'no document failed because a worker shut down');
        assert.equal(job.progress.done, COUNT);
        assert.equal(perDoc.size, COUNT, 'every document classified');
        assert.equal(duplicated, 0, 'no document classified twice in this job');
      } finally {
        await cluster.stopAll();
        await db.drop();
        await fake.close();
        if (mode === 'redis') await dropQueueKeys(REDIS_URL, queueName);
      }
    });
  }
});

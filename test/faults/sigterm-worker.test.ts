/**
 * Fault 5: SIGTERM to a worker in the middle of a job, on each queue. The job is a classification
 * against a slow fake LLM, so the worker surely holds a batch that takes longer than its
 * SHUTDOWN_TIMEOUT_MS: it must stop taking work, hand back (or finish) what it holds within the
 * timeout, exit 0, and the other worker completes the job with every document classified once and
 * none failed by the shutdown.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startFakeOpenAI } from '../support/fake-openai.ts';
import { api, type JobBody, waitForJob } from '../support/http.ts';
import { docxFolderForSuite, note, waitForProgress, withCluster } from '../support/private-services.ts';

const COUNT = 40;
const SHUTDOWN_TIMEOUT_MS = 2_000;

describe('SIGTERM to a worker during a job', { concurrency: 2 }, () => {
  const folder = docxFolderForSuite('docsight-sigterm-', COUNT, { targetKb: 8, companies: 2 });

  for (const mode of ['redis', 'postgres'] as const) {
    // A stopping worker hands its batch back (results so far kept) instead of failing the
    // requests its shutdown aborted.
    it(`${mode} queue: stops, releases within SHUTDOWN_TIMEOUT_MS, exits 0; the other worker completes the job`, async () => {
      // 500 ms per request, one at a time per worker, 5 documents a batch: a batch takes ~2.5 s.
      const fake = await startFakeOpenAI({ latencyMs: 500 });
      try {
        await withCluster(
          mode,
          {
            folder,
            workers: 2,
            env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key', LLM_RPM: '0', LLM_TPM: '0' },
            workerEnv: {
              WORKER_CONCURRENCY: '1',
              EXTRACT_THREADS: '1',
              SCAN_BATCH_SIZE: '20',
              CLASSIFY_BATCH_SIZE: '5',
              LLM_CONCURRENCY: '1',
              SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
            },
          },
          async ({ cluster, db }) => {
            const { base } = cluster;
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
          },
        );
      } finally {
        await fake.close();
      }
    });
  }
});

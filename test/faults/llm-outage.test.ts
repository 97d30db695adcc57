/**
 * Fault 6: the LLM endpoint down for a while during a classification (the fake OpenAI server
 * behind a TCP proxy this test stops and starts: a real "connection refused" on the same URL).
 * - Down for a few seconds: documents wait and retry with the queue's backoff, then complete.
 * - Down past the configured attempts: documents fail with a clear coded reason, and
 *   POST /v1/jobs/{id}/retry completes them once the endpoint is back.
 * Postgres-queue mode (api + 1 worker), LLM_MAX_RETRIES 1 so the queue's retries do the waiting.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { generateDocxFolder } from '../support/docx-fixtures.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.ts';
import { api, type JobBody, waitForJob } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';
import { type Cluster, note, startCluster, startTcpProxy, type TcpProxy, waitForProgress } from '../support/private-services.ts';

const COUNT = 30;

interface Setup {
  fake: FakeOpenAI;
  proxy: TcpProxy;
  db: TestDatabase;
  cluster: Cluster;
}

/** Classifications stored for a job: documents classified, and how many twice. */
async function classified(db: TestDatabase, jobId: string): Promise<{ documents: number; duplicated: number }> {
  const rows = await db.db.selectFrom('classifications').select('document_id').where('job_id', '=', jobId).execute();
  const per = new Map<string, number>();
  for (const r of rows) per.set(r.document_id, (per.get(r.document_id) ?? 0) + 1);
  return { documents: per.size, duplicated: [...per.values()].filter((n) => n > 1).length };
}

describe('LLM endpoint down during a classification', { concurrency: 2 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'docsight-llm-outage-'));
    await generateDocxFolder(path.join(dir, 'documents'), COUNT, { targetKb: 8, companies: 1 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const setup = async (attempts: number): Promise<Setup> => {
    const fake = await startFakeOpenAI({ latencyMs: 100 });
    const proxy = await startTcpProxy(Number(new URL(fake.url).port));
    const db = await createTestDatabase({ migrate: false });
    const cluster = await startCluster({
      dir,
      workers: 1,
      env: {
        DATABASE_URL: db.url,
        DOCS_ROOT: path.join(dir, 'documents'),
        DATA_DIR: path.join(dir, 'unused-data'),
        OPENAI_BASE_URL: `http://127.0.0.1:${proxy.port}/v1`,
        OPENAI_API_KEY: 'test-key',
        LLM_MAX_RETRIES: '1',
        LLM_TIMEOUT_MS: '5000',
        LLM_RPM: '0',
        LLM_TPM: '0',
        JOB_ATTEMPTS: String(attempts),
      },
      workerEnv: { WORKER_CONCURRENCY: '2', EXTRACT_THREADS: '1', CLASSIFY_BATCH_SIZE: '5', LLM_CONCURRENCY: '2' },
    });
    return { fake, proxy, db, cluster };
  };
  const teardown = async (s: Setup | undefined) => {
    await s?.cluster.stopAll();
    await s?.db.drop();
    await s?.proxy.close();
    await s?.fake.close();
  };
  const failedRuns = (s: Setup) => s.cluster.workers.flatMap((w) => w.logs()).filter((l) => l.msg === 'job run failed' && l.name === 'classify');

  it('down for a while: documents wait and retry, then complete when it returns', async () => {
    let s: Setup | undefined;
    try {
      const cur = await setup(6);
      s = cur;
      const { base } = cur.cluster;
      const start = await api<{ id: string }>(base, 'POST', '/v1/classifications', { path: '.' });
      assert.equal(start.status, 202, JSON.stringify(start.body));
      const before = await waitForProgress(base, start.body.id, (j) => j.progress.done >= 5, 60_000);
      await s.proxy.down();
      const requestsAtDown = s.fake.stats.requests;
      note(`short outage: endpoint down at ${before.progress.done}/${before.progress.total} classified`);
      const downAt = Date.now();
      // Down long enough that a batch failed, was retried, and failed again.
      await waitFor(() => failedRuns(cur).some((l) => Number(l.attempt) >= 2), {
        what: 'a classify batch to fail on its retry while the endpoint is down',
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      const during = await api<JobBody>(base, 'GET', `/v1/jobs/${start.body.id}`);
      const retriesWhileDown = failedRuns(cur).length;
      await s.proxy.up();
      note(
        `short outage: after ${Date.now() - downAt} ms down the job is ${during.body.status} ${during.body.progress.done}/${during.body.progress.total} (failed ${during.body.progress.failed}); ` +
          `${retriesWhileDown} classify batch runs failed and were retried; endpoint back up`,
      );
      assert.equal(during.body.status, 'running', 'the job waits');
      assert.equal(during.body.progress.failed, 0, 'nothing failed yet: documents are waiting for a retry');
      assert.ok(retriesWhileDown > 0, 'batches were retried while the endpoint was down');

      const job = await waitForJob(base, start.body.id, 90_000);
      const c = await classified(s.db, start.body.id);
      note(
        `short outage: job ${job.status} ${JSON.stringify(job.progress)}; LLM requests ${requestsAtDown} before the outage, ${s.fake.stats.requests} in all; ` +
          `documents expected ${COUNT}, classified ${c.documents}, duplicated ${c.duplicated}, lost ${COUNT - c.documents}`,
      );
      assert.equal(job.status, 'completed');
      assert.equal(job.progress.done, COUNT);
      assert.equal(job.progress.failed, 0);
      assert.equal(c.documents, COUNT);
      assert.equal(c.duplicated, 0);
    } finally {
      await teardown(s);
    }
  });

  it('down past the attempts: documents fail with a coded reason; retry completes them once it is back', async () => {
    let s: Setup | undefined;
    try {
      s = await setup(2);
      const { base } = s.cluster;
      await s.proxy.down();
      const start = await api<{ id: string }>(base, 'POST', '/v1/classifications', { path: '.' });
      assert.equal(start.status, 202, JSON.stringify(start.body));
      const job = await waitForJob(base, start.body.id, 90_000);
      const detail = await api<JobBody>(base, 'GET', `/v1/jobs/${start.body.id}`);
      const failures = detail.body.failures ?? [];
      const codes = [...new Set(failures.map((f) => f.code))];
      note(
        `long outage: job ${job.status} ${JSON.stringify(job.progress)}; failure codes ${JSON.stringify(codes)}; first: ${JSON.stringify(failures[0])}`,
      );
      assert.ok(job.status === 'completed' || job.status === 'failed');
      assert.equal(job.progress.failed, COUNT, 'every document failed after its attempts');
      assert.equal(failures.length, COUNT);
      for (const f of failures) {
        assert.match(f.code, /^[a-z_]+$/, 'a stable code');
        assert.notEqual(f.code, 'internal', 'a specific reason, not "internal"');
        assert.ok(f.message.length > 0);
      }

      await s.proxy.up();
      const retry = await api<{ id: string }>(base, 'POST', `/v1/jobs/${start.body.id}/retry`);
      assert.equal(retry.status, 202, JSON.stringify(retry.body));
      const again = await waitForJob(base, retry.body.id, 90_000);
      const c = await classified(s.db, retry.body.id);
      note(
        `long outage: retry job ${again.status} ${JSON.stringify(again.progress)}; documents expected ${COUNT}, classified ${c.documents}, duplicated ${c.duplicated}, lost ${COUNT - c.documents}`,
      );
      assert.equal(again.status, 'completed');
      assert.equal(again.progress.done, COUNT);
      assert.equal(again.progress.failed, 0);
      assert.equal(c.documents, COUNT);
      assert.equal(c.duplicated, 0);
    } finally {
      await teardown(s);
    }
  });
});

/**
 * Fault 2: the Redis under BullMQ stopped and started again during a job (a private redis-server
 * this test owns). While it is down the API refuses new work with a 503 JSON error, keeps serving
 * reads from PostgreSQL, and /ready says 503; once it is back the workers reconnect by themselves
 * and the job completes with every document extracted exactly once.
 *
 * Two restarts: with the append-only file (how Redis must run under BullMQ: the queue survives a
 * restart), and without persistence (the restarted Redis is empty: every queued batch is gone).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase } from '../support/db.ts';
import { generateDocxFolder } from '../support/docx-fixtures.ts';
import { api, type JobBody, waitForJob } from '../support/http.ts';
import {
  accountDocuments,
  note,
  startCluster,
  startPrivateRedis,
  waitForProgress,
} from '../support/private-services.ts';

const COUNT = 400;
const OUTAGE_MS = 6_000;

describe('Redis stopped and started during a job', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'docsight-redis-outage-'));
    // Two folders: the job scans the root; the outage check asks for a new scan of the other one.
    await generateDocxFolder(path.join(dir, 'documents'), COUNT, { targetKb: 12, companies: 2 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const scenario = (persist: boolean) => async () => {
    const label = persist ? 'aof' : 'no-persistence';
    const redis = await startPrivateRedis({ persist });
    const db = await createTestDatabase({ migrate: false });
    const cluster = await startCluster({
      dir,
      workers: 2,
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        QUEUE_NAME: 'faults',
        DOCS_ROOT: path.join(dir, 'documents'),
        DATA_DIR: path.join(dir, 'unused-data'),
        JOB_ATTEMPTS: '10',
        RECONCILE_AFTER_MS: '10000',
      },
      workerEnv: { WORKER_CONCURRENCY: '1', EXTRACT_THREADS: '1', SCAN_BATCH_SIZE: '10' },
    });
    const { base } = cluster;
    try {
      const start = await api<{ id: string }>(base, 'POST', '/v1/scans', { path: '.' });
      assert.equal(start.status, 202);
      const before = await waitForProgress(base, start.body.id, (j) => j.progress.done >= 40, 60_000);
      await redis.stop();
      const downAt = Date.now();
      note(`${label}: stopped redis-server at ${before.progress.done}/${COUNT} done`);
      assert.ok(before.progress.done < COUNT, 'the outage lands mid-job');

      const scan = await api<{ error?: { code: string; message: string } }>(base, 'POST', '/v1/scans', { path: 'Company B' });
      note(`${label}: while down POST /v1/scans → ${scan.status} ${JSON.stringify(scan.body)}`);
      assert.equal(scan.status, 503);
      assert.equal(scan.body.error?.code, 'unavailable');
      assert.match(scan.headers.get('content-type') ?? '', /application\/json/);
      const reads = {
        job: await api<JobBody>(base, 'GET', `/v1/jobs/${start.body.id}`),
        jobs: await api(base, 'GET', '/v1/jobs'),
        insights: await api<{ documentCount: number }>(base, 'GET', `/v1/folders/${encodeURIComponent('Company A')}/insights`),
        documents: await api(base, 'GET', `/v1/folders/${encodeURIComponent('Company A')}/documents?limit=5`),
      };
      const ready = await api<{ queue: { ok: boolean } }>(base, 'GET', '/ready');
      note(
        `${label}: while down GET job ${reads.job.status}, jobs ${reads.jobs.status}, insights ${reads.insights.status}, documents ${reads.documents.status}, /ready ${ready.status} ${JSON.stringify(ready.body)}`,
      );
      for (const [what, r] of Object.entries(reads)) assert.equal(r.status, 200, `${what} served from PostgreSQL while Redis is down`);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.queue.ok, false);

      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
      const during = await api<JobBody>(base, 'GET', `/v1/jobs/${start.body.id}`);
      await redis.start();
      note(`${label}: started redis-server again after ${((Date.now() - downAt) / 1000).toFixed(1)} s; job then ${during.body.status} ${during.body.progress.done}/${COUNT}`);

      const job = await waitForJob(base, start.body.id, 120_000);
      note(`${label}: job ${job.status} ${JSON.stringify(job.progress)} ${((Date.now() - downAt) / 1000).toFixed(1)} s after the stop`);
      const acc = await accountDocuments(db.db, COUNT);
      assert.equal(job.status, 'completed');
      assert.equal(job.progress.done, COUNT);
      assert.equal(acc.lost, 0, 'no document lost');
      assert.deepEqual(acc.odd, {}, 'every document has extraction_count 1');
      assert.equal(cluster.workers.filter((w) => w.child.exitCode !== null).length, 0, 'no worker restarted');

      // New work is accepted again once Redis answers.
      await waitForProgress(base, start.body.id, () => true);
      const readyAgain = await api(base, 'GET', '/ready');
      const again = await api<{ id: string }>(base, 'POST', '/v1/scans', { path: 'Company B' });
      note(`${label}: after restart /ready ${readyAgain.status}, POST /v1/scans → ${again.status}`);
      assert.equal(readyAgain.status, 200);
      assert.equal(again.status, 202);
      assert.equal((await waitForJob(base, again.body.id, 60_000)).status, 'completed');
    } finally {
      await cluster.stopAll();
      await db.drop();
      await redis.destroy();
    }
  };

  it('with the append-only file: reads keep working, new work gets 503, then the job completes', scenario(true));
  // An emptied Redis loses the queued batches; the workers' reconciler re-enqueues the work of jobs
  // that stopped moving (RECONCILE_AFTER_MS, 10 s here), and the deterministic ids skip what is done.
  it('without persistence (restarted Redis is empty): the job still completes', scenario(false));
});

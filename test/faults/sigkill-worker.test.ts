/**
 * Fault 1: a worker process SIGKILLed in the middle of a folder, on each queue. The jobs it held
 * come back after their lease (Postgres) or lock (BullMQ stalled check) runs out; the surviving
 * worker and a restarted one finish the folder, and every document is extracted exactly once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { api, waitForJob } from '../support/http.ts';
import {
  accountDocuments,
  docxFolderForSuite,
  documentsPerWorker,
  note,
  waitForProgress,
  withCluster,
} from '../support/private-services.ts';

const COUNT = 300;

// Both queues at once: most of each test is waiting for a lease or lock to run out.
describe('SIGKILL a worker mid-folder', { concurrency: 2 }, () => {
  const folder = docxFolderForSuite('docsight-kill-', COUNT, { targetKb: 12, companies: 3 });

  for (const mode of ['redis', 'postgres'] as const) {
    it(`${mode} queue: another worker and a restarted one finish the job; every document extracted exactly once`, async () => {
      await withCluster(
        mode,
        { folder, workers: 2, env: { JOB_ATTEMPTS: '10' }, workerEnv: { WORKER_CONCURRENCY: '2', EXTRACT_THREADS: '1', SCAN_BATCH_SIZE: '10' } },
        async ({ cluster, db }) => {
          const [victim] = cluster.workers;
          assert.ok(victim);
          const start = await api<{ id: string }>(cluster.base, 'POST', '/v1/scans', { path: '.' });
          assert.equal(start.status, 202);
          // Kill once the victim has committed work of its own, so it is surely holding batches.
          await waitForProgress(cluster.base, start.body.id, () => (documentsPerWorker([victim])[0] ?? 0) >= 20, 90_000);
          const before = await waitForProgress(cluster.base, start.body.id, () => true);
          assert.ok(before.progress.done < COUNT, 'the fault lands mid-folder');
          victim.child.kill('SIGKILL');
          const killedAt = Date.now();
          await victim.exited;
          note(`${mode}: SIGKILLed worker pid ${victim.child.pid} at ${before.progress.done}/${COUNT} done; it had committed ${documentsPerWorker([victim])[0]} documents`);
          // "Or a restarted one": a fresh worker joins the survivor.
          cluster.startWorker();

          const job = await waitForJob(cluster.base, start.body.id, 150_000);
          note(`${mode}: job ${job.status} ${JSON.stringify(job.progress)} ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
          note(`${mode}: documents committed per worker (victim, survivor, restarted): ${documentsPerWorker(cluster.workers).join(', ')}`);
          const recovered = cluster.workers
            .flatMap((w) => w.logs())
            .filter((l) => l.msg === 'job stalled (its worker was lost); it will run again').length;
          if (mode === 'redis') note(`redis: stalled jobs put back by BullMQ: ${recovered}`);
          assert.equal(job.status, 'completed');
          assert.equal(job.progress.total, COUNT);
          assert.equal(job.progress.done, COUNT);
          assert.equal(job.progress.failed, 0);

          const acc = await accountDocuments(db.db, COUNT);
          assert.equal(acc.found, COUNT);
          assert.equal(acc.lost, 0, 'no document lost');
          assert.deepEqual(acc.odd, {}, 'every document has extraction_count 1');
          const committed = documentsPerWorker(cluster.workers).reduce((a, b) => a + b, 0);
          assert.equal(committed, COUNT, 'committed batches add up to the folder: none counted twice');
        },
      );
    });
  }
});

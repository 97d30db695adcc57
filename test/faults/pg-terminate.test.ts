/**
 * Fault 3: every PostgreSQL connection of the database dropped (pg_terminate_backend) several
 * times during a job, on a private PostgreSQL server this test owns, in the Postgres-queue mode
 * (where the queue itself lives in those connections, and idle workers LISTEN on one of them).
 * The API and the workers recover without a restart, the job completes, nothing is duplicated.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createDatabase } from '../../src/store/database.ts';
import { generateDocxFolder } from '../support/docx-fixtures.ts';
import { api, type JobBody, waitForJob } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';
import {
  accountDocuments,
  type Cluster,
  documentsPerWorker,
  note,
  startCluster,
  startPrivatePostgres,
  waitForProgress,
} from '../support/private-services.ts';

const COUNT = 600;
const ROUNDS = 3;

describe('PostgreSQL connections terminated during a job (Postgres queue)', () => {
  // A pool client checked out when its backend is terminated used to crash the process (an
  // unheard 'error' event); src/store/database.ts now gives every client a listener.
  it('API and workers recover without restart; the job completes exactly once', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'docsight-pgkill-'));
    const server = await startPrivatePostgres();
    let cluster: Cluster | undefined;
    try {
      const dbName = 'docsight_faults';
      const url = await server.createDatabase(dbName);
      await generateDocxFolder(path.join(dir, 'documents'), COUNT, { targetKb: 12, companies: 2 });
      cluster = await startCluster({
        dir,
        workers: 2,
        env: {
          DATABASE_URL: url,
          DOCS_ROOT: path.join(dir, 'documents'),
          DATA_DIR: path.join(dir, 'unused-data'),
          JOB_ATTEMPTS: '10',
        },
        workerEnv: { WORKER_CONCURRENCY: '1', EXTRACT_THREADS: '1', SCAN_BATCH_SIZE: '5' },
      });
      const cl = cluster;
      const { base } = cluster;
      const pids = [cl.api, ...cl.workers].map((p) => p.child.pid);
      // A process that cannot take a dropped connection dies within moments: say how, and stop.
      const assertAlive = (when: string) => {
        const dead = [cl.api, ...cl.workers].filter((p) => p.child.exitCode !== null || p.child.signalCode !== null);
        for (const p of dead) {
          const crash = p.output().split('\n').filter((l) => l.trim() && !l.startsWith('{')).slice(0, 6).join(' | ');
          note(`${when}: pid ${p.child.pid} exited ${p.child.exitCode ?? p.child.signalCode}: ${crash}`);
        }
        assert.equal(dead.length, 0, 'no process died from the dropped connections');
      };
      const start = await api<{ id: string }>(base, 'POST', '/v1/scans', { path: '.' });
      assert.equal(start.status, 202);
      let threshold = 20;
      for (let round = 1; round <= ROUNDS; round++) {
        const at = await waitForProgress(base, start.body.id, (j) => j.progress.done >= threshold, 60_000);
        const terminated = await server.terminateBackends(dbName);
        const t0 = Date.now();
        // The API must answer again by itself: poll until GET job is 200.
        let first: number | undefined;
        const answered = await waitFor(
          async () => {
            const r = await api<JobBody>(base, 'GET', `/v1/jobs/${start.body.id}`).catch(() => null);
            first ??= r?.status;
            return r?.status === 200 ? r.body : undefined;
          },
          { what: `the API to answer 200 again after round ${round}`, timeoutMs: 15_000, intervalMs: 100 },
        );
        note(
          `round ${round}: terminated ${terminated} backends at ${at.progress.done}/${COUNT} done; first API answer ${first}, 200 after ${Date.now() - t0} ms (job ${answered?.status} ${answered?.progress.done}/${COUNT})`,
        );
        assert.ok(terminated > 0, 'there were connections to drop');
        assertAlive(`round ${round}`);
        threshold = at.progress.done + 60;
        if (round < ROUNDS) assert.ok(at.progress.done < COUNT - 60, 'the fault lands mid-job');
      }
      // Wait for the end, failing at once if a process died rather than at the timeout.
      const job = await waitFor(
        async () => {
          assertAlive('while finishing');
          const r = await api<JobBody>(base, 'GET', `/v1/jobs/${start.body.id}`).catch(() => null);
          return r?.status === 200 && r.body.status !== 'queued' && r.body.status !== 'running' ? r.body : undefined;
        },
        { what: 'the job to end', timeoutMs: 120_000, intervalMs: 250 },
      );
      note(`job ${job.status} ${JSON.stringify(job.progress)}; documents per worker ${documentsPerWorker(cl.workers).join(', ')}`);
      assert.equal(job.status, 'completed');
      assert.equal(job.progress.done, COUNT);
      assert.equal(job.progress.failed, 0);
      const check = createDatabase(url, { max: 1 });
      try {
        const acc = await accountDocuments(check.db, COUNT);
        assert.equal(acc.lost, 0, 'no document lost');
        assert.deepEqual(acc.odd, {}, 'every document has extraction_count 1');
      } finally {
        await check.close();
      }
      const alive = [cluster.api, ...cluster.workers].filter((p) => p.child.exitCode === null && p.child.signalCode === null);
      assert.deepEqual(
        alive.map((p) => p.child.pid),
        pids,
        'the same API and worker processes are still running (no restart)',
      );
      // A new job after the faults runs end to end (the workers' LISTEN came back or polling covers it).
      const again = await api<{ id: string }>(base, 'POST', '/v1/scans', { path: 'Company A' });
      assert.equal((await waitForJob(base, again.body.id, 60_000)).status, 'completed');
    } finally {
      await cluster?.stopAll();
      await server.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

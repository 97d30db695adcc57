/**
 * Fault 4: the API process killed and started again while two jobs run (distributed mode:
 * `docsight api` + 2 × `docsight worker` on PostgreSQL and Redis). The workers never depended on
 * it: after the restart the jobs' progress has only moved forward, and the results are whole.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createTestDatabase } from '../support/db.ts';
import { generateDocxFolder } from '../support/docx-fixtures.ts';
import { api, enc, type JobBody, waitForJob } from '../support/http.ts';
import { accountDocuments, dropQueueKeys, note, startCluster, waitForProgress } from '../support/private-services.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const COUNT = 400;

describe('API restarted while jobs run (api + 2 workers, Redis)', () => {
  it('keeps progress and results intact', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'docsight-apirestart-'));
    const db = await createTestDatabase({ migrate: false });
    const queueName = `fa${Date.now().toString(36)}`;
    await generateDocxFolder(path.join(dir, 'documents'), COUNT, { targetKb: 12, companies: 2 });
    const cluster = await startCluster({
      dir,
      workers: 2,
      env: {
        DATABASE_URL: db.url,
        REDIS_URL,
        QUEUE_NAME: queueName,
        DOCS_ROOT: path.join(dir, 'documents'),
        DATA_DIR: path.join(dir, 'unused-data'),
      },
      workerEnv: { WORKER_CONCURRENCY: '1', EXTRACT_THREADS: '1', SCAN_BATCH_SIZE: '10' },
    });
    const { base } = cluster;
    try {
      const folders = ['Company A', 'Company B'];
      const ids: string[] = [];
      for (const folder of folders) {
        const r = await api<{ id: string }>(base, 'POST', '/v1/scans', { path: folder });
        assert.equal(r.status, 202);
        ids.push(r.body.id);
      }
      const [first, second] = ids as [string, string];
      await waitForProgress(base, first, (j) => j.progress.done >= 20, 60_000);
      const before = await Promise.all(ids.map((id) => api<JobBody>(base, 'GET', `/v1/jobs/${id}`)));
      const oldPid = cluster.api.child.pid;
      cluster.api.child.kill('SIGKILL');
      await cluster.api.exited;
      const downAt = Date.now();
      const newApi = await cluster.startApi();
      const after = await Promise.all(ids.map((id) => api<JobBody>(base, 'GET', `/v1/jobs/${id}`)));
      note(
        `killed API pid ${oldPid}, new pid ${newApi.child.pid} answering after ${((Date.now() - downAt) / 1000).toFixed(1)} s; ` +
          `progress before ${before.map((r) => `${r.body.status} ${r.body.progress.done}/${r.body.progress.total}`).join(', ')}; ` +
          `after ${after.map((r) => `${r.body.status} ${r.body.progress.done}/${r.body.progress.total}`).join(', ')}`,
      );
      assert.ok(before.some((r) => r.body.status === 'running' || r.body.status === 'queued'), 'the restart lands while jobs run');
      for (let i = 0; i < ids.length; i++) {
        const b = before[i]?.body;
        const a = after[i]?.body;
        assert.ok(a && b && a.progress.done >= b.progress.done, 'progress never goes back');
        assert.ok(a.progress.total >= b.progress.total);
      }

      const jobs = [await waitForJob(base, first, 120_000), await waitForJob(base, second, 120_000)];
      note(`jobs after the restart: ${jobs.map((j) => `${j.status} ${JSON.stringify(j.progress)}`).join('; ')}`);
      for (const j of jobs) {
        assert.equal(j.status, 'completed');
        assert.equal(j.progress.done, COUNT / 2);
        assert.equal(j.progress.failed, 0);
      }
      const listed = await api<{ items: { id: string }[] }>(base, 'GET', '/v1/jobs?limit=10');
      assert.deepEqual(new Set(listed.body.items.map((j) => j.id)), new Set(ids), 'job history intact');
      for (const folder of folders) {
        const ins = await api<{ documentCount: number }>(base, 'GET', `/v1/folders/${enc(folder)}/insights`);
        assert.equal(ins.status, 200);
        assert.equal(ins.body.documentCount, COUNT / 2, `${folder} insights count every document`);
      }
      const acc = await accountDocuments(db.db, COUNT);
      assert.equal(acc.lost, 0, 'no document lost');
      assert.deepEqual(acc.odd, {}, 'every document has extraction_count 1');
    } finally {
      await cluster.stopAll();
      await db.drop();
      await dropQueueKeys(REDIS_URL, queueName);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Distributed mode as operators run it: `docsight api` and two `docsight worker` processes on
 * a PostgreSQL server and Redis (BullMQ). Two workers share one folder's batches, and every
 * document is extracted exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { generateDocxFolder } from '../support/docx-fixtures.ts';
import { api, waitForJob } from '../support/http.ts';
import { freePort, type Proc, startDocsight, waitForHttp } from '../support/processes.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const COUNT = 400;

describe('docsight api + 2 × docsight worker on PostgreSQL and Redis', () => {
  let dir: string;
  let db: TestDatabase;
  let apiProc: Proc;
  const workers: Proc[] = [];
  let base: string;
  const queueName = `e2e${Date.now().toString(36)}`;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'docsight-dist-'));
    await generateDocxFolder(path.join(dir, 'documents'), COUNT, { targetKb: 12, companies: 4 });
    db = await createTestDatabase({ migrate: false });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const common = {
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_NAME: queueName,
      DOCS_ROOT: path.join(dir, 'documents'),
      DATA_DIR: path.join(dir, 'unused-data'),
    };
    apiProc = startDocsight(['api'], { ...common, PORT: String(port), LOG_LEVEL: 'warn' }, dir);
    await waitForHttp(`${base}/ready`, apiProc);
    for (let i = 0; i < 2; i++) {
      workers.push(
        startDocsight(['worker'], { ...common, LOG_LEVEL: 'debug', WORKER_CONCURRENCY: '2', EXTRACT_THREADS: '1', SCAN_BATCH_SIZE: '20' }, dir),
      );
    }
  });

  after(async () => {
    await Promise.all([apiProc, ...workers].map((p) => p?.stop('SIGKILL')));
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`*${queueName}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('runs the API without a worker in it, on BullMQ', async () => {
    const health = await api<{ mode: { database: string; queue: string } }>(base, 'GET', '/health');
    assert.deepEqual(health.body.mode, { database: 'external', queue: 'bullmq' });
  });

  it('shares one folder between two workers and extracts every document exactly once', async () => {
    const start = await api<{ id: string }>(base, 'POST', '/v1/scans', { path: '.' });
    assert.equal(start.status, 202);
    const job = await waitForJob(base, start.body.id, 180_000);
    assert.equal(job.status, 'completed');
    assert.equal(job.progress.total, COUNT);
    assert.equal(job.progress.done, COUNT);

    const rows = await db.db.selectFrom('documents').select(['path', 'extraction_count', 'status']).execute();
    assert.equal(rows.length, COUNT);
    const twice = rows.filter((r) => r.extraction_count !== 1);
    assert.deepEqual(twice, [], 'no document extracted twice or never');

    const perWorker = workers.map((w) =>
      w
        .logs()
        .filter((l) => l.msg === 'extract batch done')
        .reduce((sum, l) => sum + Number(l.documents ?? 0), 0),
    );
    process.stdout.write(`# documents per worker: ${perWorker.join(', ')}\n`);
    assert.equal(perWorker.reduce((a, b) => a + b, 0), COUNT, 'batches add up to the folder');
    assert.ok(perWorker.every((n) => n > 0), `both workers took batches: ${perWorker.join(', ')}`);
  });

  it('stops a worker on SIGTERM with exit code 0', async () => {
    const w = workers[0];
    assert.ok(w);
    assert.equal(await w.stop('SIGTERM'), 0);
  });
});

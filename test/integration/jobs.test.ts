/**
 * Jobs users can watch and control: server-sent progress, cancel, retry of failed documents,
 * one job for identical requests, listing with filters, and history retention.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { applyJobRetention } from '../../src/services/jobs.service.ts';
import { createJobsRepository } from '../../src/store/jobs.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx, generateDocxFolder } from '../support/docx-fixtures.ts';
import { api, appOf, type ApiTarget, type JobBody, waitForJob } from '../support/http.ts';
import { sample } from '../support/prometheus.ts';
import { waitFor } from '../support/wait.ts';

/** No queue job waiting, delayed or running: the worker has nothing left to write. */
async function queueIdle(target: ApiTarget): Promise<boolean> {
  const text = (await api<string>(target, 'GET', '/metrics')).body;
  return ['waiting', 'active', 'delayed'].every((state) => sample(text, 'docsight_queue_jobs', { state }) === 0);
}

async function readEvents(url: string, max = 10_000): Promise<{ event: string; data: JobBody }[]> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const events: { event: string; data: JobBody }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body?.getReader();
  assert.ok(reader);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) as JobBody });
    }
    if (events.length > max) break;
  }
  return events;
}

describe('jobs: events, cancel, retry, dedupe, retention', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let apiOnly: Runtime;
  /** The listening server's URL: server-sent events are read by a real HTTP client. */
  let base: string;
  let app: ApiTarget;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-jobs-'));
    await generateDocxFolder(path.join(root, 'big'), 300, { targetKb: 8 });
    await generateDocxFolder(path.join(root, 'small'), 12, { targetKb: 8 });
    await writeFile(path.join(root, 'small', 'broken.docx'), Buffer.from('PK\u0003\u0004 truncated'));
    db = await createTestDatabase({ migrate: false });
    const env = { DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', SCAN_BATCH_SIZE: '10', WORKER_CONCURRENCY: '1', EXTRACT_THREADS: '1' };
    runtime = await startRuntime(parseConfig(env), { api: true, worker: true }, pino({ level: 'silent' }));
    base = runtime.url ?? '';
    app = appOf(runtime);
    apiOnly = await startRuntime(parseConfig({ ...env, QUEUE_NAME: 'no-worker-here' }), { api: true, worker: false }, pino({ level: 'silent' }));
  });

  after(async () => {
    await apiOnly?.stop();
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('streams progress as server-sent events until the job ends', async () => {
    const start = await api<JobBody>(app, 'POST', '/v1/scans', { path: 'small' });
    const events = await readEvents(`${base}/v1/jobs/${start.body.id}/events`);
    assert.ok(events.length >= 2, `events: ${events.length}`);
    const progress = events.filter((e) => e.event === 'progress');
    const last = progress.at(-1)?.data;
    assert.equal(last?.status, 'completed');
    assert.equal(last?.progress.total, 13);
    assert.equal(events.at(-1)?.event, 'end');
    for (let i = 1; i < progress.length; i++) {
      const a = progress[i - 1]?.data.progress;
      const b = progress[i]?.data.progress;
      assert.ok(a && b && b.done + b.failed + b.skipped >= a.done + a.failed + a.skipped, 'progress never goes back');
    }
    assert.equal((await api(app, 'GET', '/v1/jobs/00000000-0000-0000-0000-000000000000/events')).status, 404);
  });

  it('retries only the failed documents of an ended job', async () => {
    const jobs = await api<{ items: JobBody[] }>(app, 'GET', '/v1/jobs?kind=scan&folder=small');
    const scan = jobs.body.items[0];
    assert.ok(scan);
    const full = await api<JobBody>(app, 'GET', `/v1/jobs/${scan.id}`);
    assert.equal(full.body.progress.failed, 1);
    // The user fixes the file, then retries the job.
    await writeFile(path.join(root, 'small', 'broken.docx'), buildDocx({ title: 'Fixed', creator: 'Me', paragraphs: ['Now readable.'] }));
    const retry = await api<JobBody & { params: { retryOf: string } }>(app, 'POST', `/v1/jobs/${scan.id}/retry`);
    assert.equal(retry.status, 202, JSON.stringify(retry.body));
    assert.equal(retry.body.params.retryOf, scan.id);
    const done = await waitForJob(app, retry.body.id);
    assert.deepEqual([done.status, done.progress.total, done.progress.done, done.progress.failed], ['completed', 1, 1, 0]);
    const again = await api(app, 'POST', `/v1/jobs/${retry.body.id}/retry`);
    assert.equal(again.status, 409, 'nothing left to retry');
    assert.equal((await api(app, 'POST', '/v1/jobs/00000000-0000-0000-0000-000000000000/retry')).status, 404);
  });

  it('cancels a running job: it ends cancelled, stays cancelled, and cannot be cancelled twice', async () => {
    const start = await api<JobBody>(app, 'POST', '/v1/scans', { path: 'big' });
    const cancelled = await api<JobBody>(app, 'POST', `/v1/jobs/${start.body.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.status, 'cancelled');
    // Batches already running finish; then nothing more may move the job.
    await waitFor(() => queueIdle(app), { what: 'the worker to finish the batches it had started', timeoutMs: 30_000 });
    const later = await api<JobBody>(app, 'GET', `/v1/jobs/${start.body.id}`);
    assert.equal(later.body.status, 'cancelled');
    assert.ok(later.body.progress.done + later.body.progress.failed + later.body.progress.skipped < 300, 'work stopped early');
    assert.equal((await api(app, 'POST', `/v1/jobs/${start.body.id}/cancel`)).status, 409);
    // Every batch that ran is whole: the documents it wrote were counted.
    const rows = await db.db.selectFrom('documents').select(['status']).where('path', '>=', 'big/').where('path', '<', 'big0').execute();
    const extracted = rows.filter((r) => r.status === 'extracted').length;
    assert.equal(extracted, later.body.progress.done);
  });

  it('returns the queued job for an identical request instead of starting a second one', async () => {
    const apiOnlyApp = appOf(apiOnly);
    const first = await api<JobBody>(apiOnlyApp, 'POST', '/v1/scans', { path: 'small' });
    const second = await api<JobBody>(apiOnlyApp, 'POST', '/v1/scans', { path: 'small/' });
    assert.equal(first.status, 202);
    assert.equal(second.status, 200);
    assert.equal(second.body.id, first.body.id);
    const other = await api<JobBody>(apiOnlyApp, 'POST', '/v1/scans', { path: 'big' });
    assert.notEqual(other.body.id, first.body.id);
    await api(apiOnlyApp, 'POST', `/v1/jobs/${first.body.id}/cancel`);
    await api(apiOnlyApp, 'POST', `/v1/jobs/${other.body.id}/cancel`);
  });

  it('lists jobs newest first with filters and cursor pages', async () => {
    const all: JobBody[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page = await api<{ items: JobBody[]; nextCursor: string | null }>(app, 'GET', `/v1/jobs?limit=2${q}`);
      assert.equal(page.status, 200);
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    const rows = await db.db.selectFrom('jobs').select('id').execute();
    assert.equal(all.length, rows.length, 'the pages hold every job');
    assert.equal(new Set(all.map((j) => j.id)).size, all.length, 'no job twice');
    const cancelled = await api<{ items: JobBody[] }>(app, 'GET', '/v1/jobs?status=cancelled');
    const cancelledRows = await db.db.selectFrom('jobs').select('id').where('status', '=', 'cancelled').execute();
    assert.ok(cancelledRows.length > 0, 'the earlier tests cancelled jobs');
    assert.deepEqual(cancelled.body.items.map((j) => j.id).sort(), cancelledRows.map((r) => r.id).sort());
    assert.equal((await api(app, 'GET', '/v1/jobs?status=bogus')).status, 400);
    assert.equal((await api(app, 'GET', '/v1/jobs?cursor=%%%')).status, 400);
  });

  it('drops finished job history past the retention period, and keeps the rest', async () => {
    const repo = createJobsRepository(db.db);
    const { job } = await repo.createOrFind({ kind: 'scan', folderPath: 'old', params: {}, dedupeKey: null });
    await db.db.updateTable('jobs').set({ status: 'completed', finished_at: new Date(Date.now() - 40 * 86_400_000) }).where('id', '=', job.id).execute();
    const before = await db.db.selectFrom('jobs').select('id').execute();
    assert.equal(await applyJobRetention(repo, 30), 1);
    const after = await db.db.selectFrom('jobs').select('id').execute();
    assert.equal(after.length, before.length - 1);
    assert.equal(await applyJobRetention(repo, 0), 0, '0 keeps history forever');
  });
});

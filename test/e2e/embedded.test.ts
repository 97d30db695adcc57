/**
 * A newcomer's first run: `docsight start` with nothing configured but a documents root and a
 * data directory. Embedded PostgreSQL is created on first start, the Postgres-backed queue carries
 * the work, and a scan of a generated folder shows up in the insights exactly as generated.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmbeddedService } from '../support/docsight.ts';
import { generateDocxFolder, type GeneratedDoc } from '../support/docx-fixtures.ts';
import { api, enc, waitForJob } from '../support/http.ts';
import { type Proc, startDocsight, waitForHttp } from '../support/processes.ts';

describe('docsight start (embedded PostgreSQL, Postgres queue, one process)', () => {
  let dir: string;
  let env: Record<string, string>;
  let base: string;
  let proc: Proc;
  let generated: GeneratedDoc[];

  before(async () => {
    ({ dir, env, base, proc } = await startEmbeddedService({
      prefix: 'docsight-e2e-',
      env: { LOG_LEVEL: 'info' },
      prepare: async (d) => {
        generated = await generateDocxFolder(path.join(d, 'documents'), 60, { targetKb: 16 });
      },
    }));
  });

  after(async () => {
    await proc?.stop('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('created the embedded database under DATA_DIR and says how it runs', async () => {
    assert.ok(existsSync(path.join(dir, 'data', 'pg', 'PG_VERSION')));
    const health = await api<{ mode: { database: string; queue: string }; auth: string }>(base, 'GET', '/health');
    assert.deepEqual(health.body.mode, { database: 'embedded', queue: 'postgres' });
    assert.equal(health.body.auth, 'open');
    assert.match(proc.output(), /docsight listening on http:\/\/127\.0\.0\.1/);
  });

  it('serves Swagger UI at /docs and the OpenAPI document at /openapi.json', async () => {
    const page = await fetch(`${base}/docs`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger-ui/i);
    const spec = await api<{ paths: Record<string, unknown> }>(base, 'GET', '/openapi.json');
    assert.ok(spec.body.paths['/v1/jobs/{id}']);
  });

  it('scans a generated folder and reports what was generated: counts, authors, titles, dates', async () => {
    const start = await api<{ id: string }>(base, 'POST', '/v1/scans', { path: '.' });
    assert.equal(start.status, 202);
    const job = await waitForJob(base, start.body.id, 120_000);
    assert.equal(job.status, 'completed');
    assert.deepEqual(
      { total: job.progress.total, done: job.progress.done, failed: job.progress.failed },
      { total: generated.length, done: generated.length, failed: 0 },
    );

    for (const company of ['Company A', 'Company B', 'Company C']) {
      const mine = generated.filter((g) => g.rel.startsWith(`${company}/`));
      const r = await api<{
        documentCount: number;
        byAuthor: { key: string; count: number }[];
        oldestModified: string;
        newestModified: string;
        byFormat: { key: string; count: number; size: number }[];
      }>(base, 'GET', `/v1/folders/${enc(company)}/insights`);
      assert.equal(r.status, 200);
      assert.equal(r.body.documentCount, mine.length, company);
      for (const b of r.body.byAuthor) assert.equal(b.count, mine.filter((g) => g.creator === b.key).length);
      const times = mine.map((g) => g.modified.getTime());
      assert.equal(new Date(r.body.oldestModified).getTime(), Math.min(...times));
      assert.equal(new Date(r.body.newestModified).getTime(), Math.max(...times));
      assert.deepEqual(r.body.byFormat, [{ key: 'docx', count: mine.length, size: r.body.byFormat[0]?.size }]);
    }

    const list = await api<{ items: { path: string; title: string; author: string; modified: string }[] }>(
      base,
      'GET',
      `/v1/folders/${enc('Company A/Project 1')}/documents?limit=500`,
    );
    const expected = generated.filter((g) => g.rel.startsWith('Company A/Project 1/'));
    assert.equal(list.body.items.length, expected.length);
    for (const item of list.body.items) {
      const g = expected.find((e) => e.rel === item.path);
      assert.ok(g, item.path);
      assert.equal(item.title, g.title);
      assert.equal(item.author, g.creator);
      assert.equal(new Date(item.modified).getTime(), g.modified.getTime());
    }
  });

  it('stops on SIGTERM with exit code 0, and keeps its data for the next start', async () => {
    assert.equal(await proc.stop('SIGTERM'), 0);
    proc = startDocsight(['start'], env, dir);
    await waitForHttp(`${base}/ready`, proc);
    const r = await api<{ documentCount: number }>(base, 'GET', '/v1/folders/./insights');
    assert.equal(r.body.documentCount, generated.length);
    assert.equal(await proc.stop('SIGTERM'), 0);
  });
});

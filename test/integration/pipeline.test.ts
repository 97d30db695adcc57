/**
 * The scan → extract pipeline end to end inside one process, on the machine's PostgreSQL, once
 * with the PostgreSQL queue and once with BullMQ on Redis: HTTP in, documents and insights out,
 * bad input refused.
 */
import assert from 'node:assert/strict';
import { rm, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { makeTestRoot, type TestRoot } from '../support/documents-root.ts';
import { api, appOf, type ApiTarget, enc, waitForJob } from '../support/http.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Insights {
  documentCount: number;
  byAuthor: { key: string; count: number }[];
  byStatus: { key: string; count: number }[];
  failuresByCode: { key: string; count: number }[];
  subfolders: { key: string; count: number }[];
  lastScannedAt: string | null;
}

for (const queue of ['postgres', 'bullmq'] as const) {
  describe(`pipeline with the ${queue} queue`, () => {
    let db: TestDatabase;
    let tree: TestRoot;
    let runtime: Runtime;
    let app: ApiTarget;
    const queueName = `t${Date.now().toString(36)}${queue}`;

    before(async () => {
      db = await createTestDatabase({ migrate: false });
      tree = await makeTestRoot(24);
      const config = parseConfig({
        DATABASE_URL: db.url,
        REDIS_URL: queue === 'bullmq' ? REDIS_URL : undefined,
        QUEUE_NAME: queueName,
        DOCS_ROOT: tree.root,
        PORT: '0',
        WORKER_CONCURRENCY: '3',
        EXTRACT_THREADS: '2',
        SCAN_BATCH_SIZE: '7',
      });
      runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
      app = appOf(runtime);
    });

    after(async () => {
      await runtime?.stop();
      await db?.drop();
      await rm(tree.root, { recursive: true, force: true });
      if (queue === 'bullmq') {
        const redis = new Redis(REDIS_URL);
        const keys = await redis.keys(`*${queueName}*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      }
    });

    it('scans the whole root: every document recorded once, broken files failed with a reason', async () => {
      const start = await api<{ id: string; status: string }>(app, 'POST', '/v1/scans', { path: '.' });
      assert.equal(start.status, 202, JSON.stringify(start.body));
      const job = await waitForJob(app, start.body.id);
      assert.equal(job.status, 'completed');
      assert.equal(job.progress.total, tree.documents.length);
      assert.equal(job.progress.done + job.progress.failed + job.progress.skipped, job.progress.total);
      assert.equal(job.progress.skipped, 0);
      const failedPaths = (job.failures ?? []).map((f) => f.path);
      for (const broken of tree.broken) assert.ok(failedPaths.includes(broken), `${broken} failed`);
      for (const f of job.failures ?? []) assert.match(f.code, /^(corrupt|unsupported|zip_bomb|too_large|encrypted|timeout)$/);

      const rows = await db.db.selectFrom('documents').select(['path', 'extraction_count', 'status']).execute();
      assert.deepEqual(rows.map((r) => r.path).sort(), [...tree.documents].sort());
      for (const r of rows) assert.equal(r.extraction_count, 1, r.path);
      assert.ok(!rows.some((r) => r.path.endsWith('.DS_Store') || r.path.includes('~$') || r.path.endsWith('link.docx')));
    });

    it('answers insights for a folder with its subfolders, and never counts the sibling "Company A2"', async () => {
      const expected = tree.generated.filter((g) => g.rel.startsWith('Company A/'));
      const r = await api<Insights>(app, 'GET', `/v1/folders/${enc('Company A')}/insights`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      // generated + unicode letter + corrupt + empty
      assert.equal(r.body.documentCount, expected.length + 3);
      assert.ok(r.body.lastScannedAt);
      const authors = new Map(r.body.byAuthor.map((b) => [b.key, b.count]));
      for (const author of new Set(expected.map((g) => g.creator))) {
        assert.equal(authors.get(author), expected.filter((g) => g.creator === author).length, author);
      }
      assert.ok(!authors.has('Outsider'));
      assert.ok(r.body.failuresByCode.length >= 1);
      assert.ok(r.body.subfolders.some((s) => s.key === 'Company A/Ünïcode map met spaties'));

      const root = await api<Insights>(app, 'GET', '/v1/folders/./insights');
      assert.equal(root.body.documentCount, tree.documents.length);
    });

    it('takes folder paths with spaces and slashes, encoded or literal', async () => {
      const folder = 'Company A/Project 1';
      const expected = tree.generated.filter((g) => g.rel.startsWith(`${folder}/`)).length;
      const encoded = await api<Insights>(app, 'GET', `/v1/folders/${enc(folder)}/insights`);
      const literal = await api<Insights>(app, 'GET', '/v1/folders/Company%20A/Project%201/insights');
      assert.equal(encoded.status, 200);
      assert.equal(encoded.body.documentCount, expected);
      assert.equal(literal.body.documentCount, expected);
      const unicode = await api<Insights>(app, 'GET', `/v1/folders/${enc('Company A/Ünïcode map met spaties')}/insights`);
      assert.equal(unicode.status, 200);
      assert.equal(unicode.body.documentCount, 3);
    });

    it('lists documents with metadata, sorted, in cursor pages that add up', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${cursor}` : '';
        const page = await api<{ items: { path: string; title: string | null; author: string | null }[]; nextCursor: string | null }>(
          app,
          'GET',
          `/v1/folders/${enc('Company A')}/documents?limit=5&sort=path${q}`,
        );
        assert.equal(page.status, 200, JSON.stringify(page.body));
        seen.push(...page.body.items.map((i) => i.path));
        cursor = page.body.nextCursor;
      } while (cursor);
      const expected = tree.documents.filter((p) => p.startsWith('Company A/')).sort();
      assert.deepEqual(seen, expected);

      const byModified = await api<{ items: { modified: string | null }[] }>(
        app,
        'GET',
        `/v1/folders/${enc('Company B')}/documents?sort=modified&order=desc&limit=100`,
      );
      const dates = byModified.body.items.map((i) => i.modified ?? '');
      assert.deepEqual(dates, [...dates].sort().reverse());

      const bad = await api(app, 'GET', `/v1/folders/${enc('Company A')}/documents?cursor=not-a-cursor`);
      assert.equal(bad.status, 400);
    });

    it('shows one document with its properties and text', async () => {
      const g = tree.generated[0];
      assert.ok(g);
      const list = await api<{ items: { id: string; path: string }[] }>(app, 'GET', `/v1/folders/${enc(path.dirname(g.rel))}/documents?limit=100`);
      const item = list.body.items.find((i) => i.path === g.rel);
      assert.ok(item);
      const doc = await api<{ title: string; author: string; status: string; textPreview: string; sha256: string; metadata: { properties: { lastModifiedBy?: string } } }>(
        app,
        'GET',
        `/v1/documents/${item.id}`,
      );
      assert.equal(doc.status, 200);
      assert.equal(doc.body.status, 'extracted');
      assert.equal(doc.body.title, g.title);
      assert.equal(doc.body.author, g.creator);
      assert.match(doc.body.sha256, /^[0-9a-f]{64}$/);
      assert.ok(doc.body.textPreview.length > 100);
      assert.equal((await api(app, 'GET', '/v1/documents/00000000-0000-0000-0000-000000000000')).status, 404);
      assert.equal((await api(app, 'GET', '/v1/documents/not-a-uuid')).status, 400);
    });

    it('skips unchanged files on a rescan, re-extracts a changed one, and drops a deleted one', async () => {
      const changed = tree.generated[1];
      const removed = tree.generated[2];
      assert.ok(changed && removed);
      const changedAbs = path.join(tree.root, changed.rel);
      await writeFile(changedAbs, buildDocx({ title: 'Rewritten', creator: 'Editor', paragraphs: ['New content.'] }));
      const later = new Date(Date.now() - 1000);
      await utimes(changedAbs, later, later);
      await unlink(path.join(tree.root, removed.rel));

      const start = await api<{ id: string }>(app, 'POST', '/v1/scans', { path: '.' });
      const job = await waitForJob(app, start.body.id);
      assert.equal(job.status, 'completed');
      assert.equal(job.progress.total, tree.documents.length - 1);
      // Unchanged files are skipped; the changed one and the broken ones are processed again.
      assert.equal(job.progress.done, 1);
      assert.equal(job.progress.skipped + job.progress.done + job.progress.failed, job.progress.total);

      const rows = await db.db.selectFrom('documents').select(['path', 'extraction_count', 'title', 'deleted_at']).execute();
      const byPath = new Map(rows.map((r) => [r.path, r]));
      assert.equal(byPath.get(changed.rel)?.title, 'Rewritten');
      assert.equal(byPath.get(changed.rel)?.extraction_count, 2);
      assert.ok(byPath.get(removed.rel)?.deleted_at);
      assert.equal(byPath.get(tree.generated[3]?.rel ?? '')?.extraction_count, 1);

      const root = await api<Insights>(app, 'GET', '/v1/folders/./insights');
      assert.equal(root.body.documentCount, tree.documents.length - 1);
    });

    it('refuses traversal, absolute paths, symlinks out of the root and unknown folders', async () => {
      for (const p of ['..%2F..%2Fetc', '%2e%2e', '..', '%2Fetc', 'escape', 'Company%20A%2F..%2F..%2Fetc', 'a%5C..%5Cb', 'a%00b']) {
        const r = await api<{ error: { code: string } }>(app, 'GET', `/v1/folders/${p}/insights`);
        assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
        assert.ok(r.body.error?.code, `${p} has a JSON error`);
      }
      for (const p of ['/etc', '../', 'escape', 'Company A/../../etc', 'C:/Windows']) {
        const r = await api<{ error: { code: string } }>(app, 'POST', '/v1/scans', { path: p });
        assert.equal(r.status, 400, `${p}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'path_outside_root');
      }
      const missing = await api<{ error: { code: string } }>(app, 'POST', '/v1/scans', { path: 'No Such Company' });
      assert.equal(missing.status, 404);
      assert.equal((await api(app, 'GET', `/v1/folders/${enc('No Such Company')}/insights`)).status, 404);
      assert.equal((await api(app, 'POST', '/v1/scans', { path: 'Company A', extra: 1 })).status, 400);
      assert.equal((await api(app, 'POST', '/v1/scans', {})).status, 400);
      const malformed = await api<{ error: { code: string } }>(app, 'POST', '/v1/scans', '{"path":');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'bad_request');
    });

    it("serves the original design's routes with the same fields", async () => {
      const count = await api<{ folder_path: string; document_count: number }>(app, 'GET', `/folder-insights/${enc('Company B')}/count_files`);
      assert.equal(count.status, 200);
      const removedInB = tree.generated[2]?.rel.startsWith('Company B/') ? 1 : 0;
      assert.equal(count.body.document_count, tree.documents.filter((p) => p.startsWith('Company B/')).length - removedInB);
      const literal = await api<{ document_count: number }>(app, 'GET', '/folder-insights/Company%20A/Project%201/count_files');
      assert.equal(literal.status, 200);
      const meta = await api<{ folder_path: string; files: { filename: string; size_kb: number; modified: string; path: string }[] }>(
        app,
        'GET',
        `/folder-insights/${enc('Company B')}/get_folder_files_metadata?limit=3`,
      );
      assert.equal(meta.status, 200);
      assert.equal(meta.body.files.length, 3);
      assert.ok(meta.body.files.every((f) => f.path.startsWith('Company B/') && typeof f.size_kb === 'number'));
      const tag = await api<{ error: { code: string; message: string } }>(app, 'GET', `/document-classification/${enc('Company B')}/tag_documents`);
      assert.equal(tag.status, 503);
      assert.match(tag.body.error.message, /OPENAI_API_KEY/);
      assert.equal((await api(app, 'GET', '/folder-insights/..%2F..%2Fetc/count_files')).status, 400);
    });

    it('reports health and readiness, and serves the OpenAPI document and Swagger UI', async () => {
      assert.equal((await api(app, 'GET', '/health')).status, 200);
      const ready = await api<{ status: string }>(app, 'GET', '/ready');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.status, 'ready');
      const spec = await api<{ openapi: string; paths: Record<string, unknown> }>(app, 'GET', '/openapi.json');
      assert.equal(spec.status, 200);
      assert.ok(spec.body.paths['/v1/scans']);
      assert.ok(spec.body.paths['/v1/folders/{path}/insights']);
      const docs = await api<string>(app, 'GET', '/docs/');
      assert.equal(docs.status, 200);
      assert.match(docs.body, /swagger/i);
      const unknown = await api<{ error: { code: string } }>(app, 'GET', '/nope');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'not_found');
    });
  });
}

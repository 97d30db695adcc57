/**
 * The OCR stage's rules that a real engine cannot be made to show on cue, on the machine's
 * PostgreSQL: a cancelled job stops between pages, a page that fails fails the document's OCR
 * alone with its code, a shutdown hands the document back to the queue, and pages beyond
 * OCR_MAX_PAGES are left with a warning. The engine here is a scripted stand-in for the page
 * reader; everything else (store, unit of work, job counters) is real.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import type { PiiKind } from '../../src/domain/vocabulary.ts';
import { createCpuBoundJobs } from '../../src/services/cpu-bound-jobs.ts';
import { DocsRoot } from '../../src/services/docs-root.ts';
import { localSource } from '../../src/services/source-reader.ts';
import { isIgnoredFileName } from '../../src/extract/ignored-files.ts';
import { createOcrPolicy } from '../../src/services/ocr-policy.ts';
import { createOcrService, OcrInterrupted, type OcrEngine, type OcrServiceDeps, type PageReading } from '../../src/services/ocr.service.ts';
import { createJobsRepository } from '../../src/store/jobs.repository.ts';
import { createOcrRepository } from '../../src/store/ocr.repository.ts';
import { createUnitOfWork } from '../../src/store/unit-of-work.ts';
import { DEFAULT_EXTRACT_LIMITS } from '../../src/extract/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { deferred } from '../support/deferred.ts';
import { waitFor } from '../support/wait.ts';

const log = pino({ level: 'silent' });

/** Reads pages by a script: each call may wait on a gate or throw. */
function scriptedEngine(script: (pageNo: number) => Promise<PageReading>): OcrEngine & { read: number[] } {
  const read: number[] = [];
  return {
    read,
    async open() {
      return {
        async readPage(pageNo) {
          read.push(pageNo);
          return script(pageNo);
        },
        pageTexts: async () => [],
        close: async () => undefined,
      };
    },
    readEmbedded: async () => new Uint8Array(),
  };
}

const page = (n: number): PageReading => ({ text: `page ${n} text`, confidence: 90, words: 3 });

describe('the OCR stage', () => {
  let db: TestDatabase;
  let root: string;
  let jobId: string;
  let documentId: string;
  const bytes = new TextEncoder().encode('a multi-page scan, as far as this test is concerned');
  const jobs = () => createJobsRepository(db.db);

  before(async () => {
    db = await createTestDatabase();
    root = await mkdtemp(path.join(tmpdir(), 'docsight-ocr-stage-'));
    await writeFile(path.join(root, 'scan.tif'), bytes);
  });

  after(async () => {
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await db.db.deleteFrom('documents').execute();
    await db.db.deleteFrom('ocr_results').execute();
    const { job } = await jobs().createOrFind({ kind: 'scan', folderPath: '', params: {}, dedupeKey: `scan:${Math.random()}` });
    await jobs().markRunning(job.id);
    jobId = job.id;
    const doc = await db.db
      .insertInto('documents')
      .values({
        path: 'scan.tif',
        folder: '',
        name: 'scan.tif',
        extension: 'tif',
        size: bytes.length,
        mtime: new Date(),
        sha256: createHash('sha256').update(bytes).digest('hex'),
        format: 'image',
        status: 'extracted',
        metadata: JSON.stringify({ ocr: { pages: [1, 2, 3], pageCount: 3 } }),
        text: '',
        ocr_status: 'pending',
        ocr_job_id: jobId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    documentId = doc.id;
    await db.db.updateTable('jobs').set({ ocr_documents: 1, ocr_pages_total: 3 }).where('id', '=', jobId).execute();
  });

  const service = (engine: OcrEngine, maxPages = 100, piiKinds: PiiKind[] = [], yieldTo?: OcrServiceDeps['yieldTo']) =>
    createOcrService({
      ...(yieldTo ? { yieldTo } : {}),
      jobs: jobs(),
      ocr: createOcrRepository(db.db),
      unitOfWork: createUnitOfWork(db.db),
      sources: { readerFor: async () => localSource(new DocsRoot(root), { allowHardlinks: false, isIgnoredName: isIgnoredFileName }) },
      engine,
      policy: createOcrPolicy({ enabled: true, languages: ['eng'], folders: [], maxPages, pageTimeoutMs: 5_000, lowConfidence: 60, piiKinds }, async () => 'scripted@1'),
      limits: DEFAULT_EXTRACT_LIMITS,
    });
  const doc = () =>
    db.db.selectFrom('documents').select(['status', 'text', 'text_source', 'ocr_status', 'ocr_pages', 'ocr_error_code', 'ocr_confidence', 'metadata']).where('id', '=', documentId).executeTakeFirstOrThrow();
  const job = () => db.db.selectFrom('jobs').select(['ocr_documents_done', 'ocr_pages_done']).where('id', '=', jobId).executeTakeFirstOrThrow();

  it('reads every page in order and writes the text with its source, pages and confidence', async () => {
    const engine = scriptedEngine(async (n) => page(n));
    await service(engine).run({ jobId, documentId }, new AbortController().signal, log);
    assert.deepEqual(engine.read, [1, 2, 3]);
    const d = await doc();
    assert.equal(d.text, 'page 1 text\n\npage 2 text\n\npage 3 text');
    assert.deepEqual([d.text_source, d.ocr_status, d.ocr_pages, d.ocr_confidence], ['ocr', 'done', 3, 90]);
    assert.deepEqual(await job(), { ocr_documents_done: 1, ocr_pages_done: 3 });
  });

  it('stops between pages when the job is cancelled, and counts the document done', async () => {
    const gate = deferred();
    const engine = scriptedEngine(async (n) => {
      if (n === 2) await gate.promise;
      return page(n);
    });
    const running = service(engine).run({ jobId, documentId }, new AbortController().signal, log);
    await waitFor(() => engine.read.length >= 2, { what: 'page 2 to start', timeoutMs: 10_000, intervalMs: 5 });
    assert.equal(await jobs().cancel(jobId), true);
    // The cancellation check is read at most every 500 ms: page 3 starts after that.
    await new Promise((r) => setTimeout(r, 600));
    gate.resolve();
    await running;
    assert.deepEqual(engine.read, [1, 2], 'page 3 was never read');
    const d = await doc();
    assert.deepEqual([d.ocr_status, d.ocr_error_code], ['skipped', 'cancelled']);
    assert.equal((await job()).ocr_documents_done, 1);
  });

  it('fails the document alone with the page\'s code, keeping what extraction found', async () => {
    const engine = scriptedEngine(async (n) => {
      if (n === 2) throw Object.assign(new Error('page 2 took too long'), { code: 'timeout' });
      return page(n);
    });
    await service(engine).run({ jobId, documentId }, new AbortController().signal, log);
    const d = await doc();
    assert.deepEqual([d.status, d.ocr_status, d.ocr_error_code], ['extracted', 'failed', 'timeout']);
    assert.deepEqual(await job(), { ocr_documents_done: 1, ocr_pages_done: 3 });
  });

  it('hands the document back to the queue when the worker stops, with nothing written', async () => {
    const stop = new AbortController();
    const engine = scriptedEngine(async (n) => {
      if (n === 1) stop.abort();
      return page(n);
    });
    await assert.rejects(service(engine).run({ jobId, documentId }, stop.signal, log), OcrInterrupted);
    assert.equal((await doc()).ocr_status, 'pending');
    assert.equal((await job()).ocr_documents_done, 0);
  });

  it('reads at most OCR_MAX_PAGES pages and says so', async () => {
    const engine = scriptedEngine(async (n) => page(n));
    await service(engine, 2).run({ jobId, documentId }, new AbortController().signal, log);
    assert.deepEqual(engine.read, [1, 2]);
    const d = await doc();
    assert.equal(d.ocr_pages, 2);
    assert.ok((d.metadata.warnings as string[]).some((w) => w.includes('OCR read 2 of 3 pages')), JSON.stringify(d.metadata));
  });

  it('takes a reading of the same bytes from the cache instead of reading again', async () => {
    await service(scriptedEngine(async (n) => page(n))).run({ jobId, documentId }, new AbortController().signal, log);
    await db.db.updateTable('documents').set({ ocr_status: 'pending', text: '' }).where('id', '=', documentId).execute();
    const again = scriptedEngine(async (n) => page(n));
    await service(again).run({ jobId, documentId }, new AbortController().signal, log);
    assert.deepEqual(again.read, []);
    assert.equal((await doc()).text, 'page 1 text\n\npage 2 text\n\npage 3 text');
  });

  it('looks for personal data and signs for duplicates in what OCR read, as extraction does for a text layer', async () => {
    const words = 'Please transfer the amount for the scanned invoice of the accountant to the account below before the end of the month';
    const engine = scriptedEngine(async (n) => ({ text: n === 2 ? `${words} NL91ABNA0417164300` : `${words} page ${n}`, confidence: 90, words: 20 }));
    await service(engine, 100, ['iban']).run({ jobId, documentId }, new AbortController().signal, log);
    const r = await db.db.selectFrom('documents').select(['pii_kinds', 'minhash', sql<string>`pii::text`.as('pii')]).where('id', '=', documentId).executeTakeFirstOrThrow();
    assert.deepEqual(r.pii_kinds, ['iban']);
    assert.ok(!r.pii.includes('0417164300'), r.pii);
    assert.match(r.pii, /NL91 \*{4}/);
    assert.equal(r.minhash?.length, 128);
    const bands = await db.db.selectFrom('documents').select(sql<number>`cardinality(lsh)`.as('n')).where('id', '=', documentId).executeTakeFirstOrThrow();
    assert.equal(bands.n, 20, 'its LSH bands are written');
  });

  it('does nothing for a document that no longer waits for this job', async () => {
    await db.db.updateTable('documents').set({ ocr_status: 'done' }).where('id', '=', documentId).execute();
    const engine = scriptedEngine(async (n) => page(n));
    await service(engine).run({ jobId, documentId }, new AbortController().signal, log);
    assert.deepEqual(engine.read, []);
  });

  describe('giving way to CPU-bound jobs of its process (born-digital documents keep the CPU)', () => {
    /** The real tracker, counting how often the stage looked at it while it waited. */
    function tracker() {
      const cpu = createCpuBoundJobs({ settleMs: 0 });
      let looks = 0;
      return {
        cpu,
        get looks() {
          return looks;
        },
        jobs: {
          get busy() {
            return cpu.busy;
          },
          whenQuiet(maxMs: number, signal?: AbortSignal) {
            looks++;
            return cpu.whenQuiet(maxMs, signal);
          },
        },
      };
    }

    it('starts no page while an extraction runs, and reads on when it ends', async () => {
      const t = tracker();
      const engine = scriptedEngine(async (n) => {
        // An extraction job starts while page 1 is read (a page under way is not interrupted).
        if (n === 1) t.cpu.jobStarted();
        return page(n);
      });
      const running = service(engine, 100, [], { jobs: t.jobs, maxWaitMs: 3_600_000, checkEveryMs: 5 });
      const done = running.run({ jobId, documentId }, new AbortController().signal, log);
      // Several rounds of waiting, each of which would have read page 2 if it did not give way.
      await waitFor(() => t.looks >= 5, { what: 'OCR to wait for the extraction', timeoutMs: 10_000, intervalMs: 5 });
      assert.deepEqual(engine.read, [1], 'no page started while the extraction ran');
      assert.deepEqual(await job(), { ocr_documents_done: 0, ocr_pages_done: 1 });
      t.cpu.jobEnded();
      await done;
      assert.deepEqual(engine.read, [1, 2, 3]);
      assert.equal((await doc()).ocr_status, 'done');
    });

    it('is never starved: past its longest wait it reads the page while the extraction still runs', async () => {
      const t = tracker();
      t.cpu.jobStarted();
      const engine = scriptedEngine(async (n) => page(n));
      await service(engine, 100, [], { jobs: t.jobs, maxWaitMs: 20, checkEveryMs: 5 }).run({ jobId, documentId }, new AbortController().signal, log);
      assert.equal(t.cpu.busy, true, 'the extraction never ended');
      assert.ok(t.looks >= 3, 'it waited before each page');
      assert.deepEqual(engine.read, [1, 2, 3]);
      assert.equal((await doc()).ocr_status, 'done');
      t.cpu.jobEnded();
    });

    it('ends a document whose job is cancelled while it waits, reading nothing more', async () => {
      const t = tracker();
      t.cpu.jobStarted();
      const engine = scriptedEngine(async (n) => page(n));
      const done = service(engine, 100, [], { jobs: t.jobs, maxWaitMs: 3_600_000, checkEveryMs: 5 }).run({ jobId, documentId }, new AbortController().signal, log);
      await waitFor(() => t.looks >= 1, { what: 'OCR to wait for the extraction', timeoutMs: 10_000, intervalMs: 5 });
      assert.equal(await jobs().cancel(jobId), true);
      await done;
      assert.deepEqual(engine.read, []);
      const d = await doc();
      assert.deepEqual([d.ocr_status, d.ocr_error_code], ['skipped', 'cancelled']);
      assert.equal(t.cpu.busy, true, 'it ended while the extraction still ran');
      t.cpu.jobEnded();
    });

    it('hands the document back when the worker stops while it waits', async () => {
      const t = tracker();
      t.cpu.jobStarted();
      const stop = new AbortController();
      const engine = scriptedEngine(async (n) => page(n));
      const done = service(engine, 100, [], { jobs: t.jobs, maxWaitMs: 3_600_000, checkEveryMs: 60_000 }).run({ jobId, documentId }, stop.signal, log);
      await waitFor(() => t.cpu.waiting > 0, { what: 'OCR to wait for the extraction', timeoutMs: 10_000, intervalMs: 5 });
      stop.abort();
      await assert.rejects(done, OcrInterrupted);
      assert.deepEqual(engine.read, []);
      assert.equal((await doc()).ocr_status, 'pending');
      t.cpu.jobEnded();
    });
  });
});

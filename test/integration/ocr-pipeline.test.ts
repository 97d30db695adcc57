/**
 * Scans, e-mails and archives through the whole pipeline, in one process on the machine's
 * PostgreSQL with the real OCR engine: a scan job extracts, then OCRs on its own queue, and
 * completes when both are done; attachments and archive entries are documents of their own;
 * OCR text is stored with its source, pages and confidence, is searchable, counted in insights,
 * read from the cache for identical bytes, and a document whose OCR fails fails that stage alone.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { findTesseractBinary } from '../../src/ocr/index.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { buildEml } from '../support/container-fixtures.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { api, appOf, enc, waitForJob } from '../support/http.ts';
import { asImageOnlyPdf, characterErrorRate, GROUND_TRUTH, normaliseWhitespace, ocrFixturesAvailable, pngBomb, renderTextPage, rotated } from '../support/ocr-fixtures.ts';
import { waitFor } from '../support/wait.ts';

interface OcrJob {
  id: string;
  status: string;
  ocr: { documents: number; documentsDone: number; pagesTotal: number; pagesDone: number; pagesPerSecond: number | null } | null;
}

interface Insights {
  documentCount: number;
  contents: { files: number; attachments: number; archiveEntries: number };
  ocr: { scannedDocuments: number; pagesRead: number; lowConfidence: number; pending: number; failed: number; skipped: number };
}

type Row = {
  id: string;
  path: string;
  status: string;
  format: string | null;
  origin: string;
  parent_id: string | null;
  text: string | null;
  text_source: string | null;
  ocr_status: string | null;
  ocr_pages: number | null;
  ocr_confidence: number | null;
  ocr_error_code: string | null;
  title: string | null;
  deleted_at: Date | null;
};

const english = GROUND_TRUTH.eng;

async function scan(runtime: Runtime, folder: string): Promise<OcrJob> {
  const app = appOf(runtime);
  const start = await api<{ id: string }>(app, 'POST', '/v1/scans', { path: folder });
  assert.equal(start.status, 202, JSON.stringify(start.body));
  await waitForJob(app, start.body.id, 240_000);
  const job = await api<OcrJob>(app, 'GET', `/v1/jobs/${start.body.id}`);
  return job.body;
}

const engines = findTesseractBinary() ? (['native', 'wasm'] as const) : (['wasm'] as const);

for (const engine of engines) describe(`scans, e-mails and archives through the pipeline (${engine} OCR)`, { skip: !ocrFixturesAvailable() && 'the DejaVu font (fonts-dejavu-core) is not installed' }, () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  const rows = async (): Promise<Row[]> =>
    (await db.db
      .selectFrom('documents')
      .select(['id', 'path', 'status', 'format', 'origin', 'parent_id', 'text', 'text_source', 'ocr_status', 'ocr_pages', 'ocr_confidence', 'ocr_error_code', 'title', 'deleted_at'])
      .orderBy('path')
      .execute()) as Row[];
  const byPath = async (p: string): Promise<Row> => {
    const r = (await rows()).find((x) => x.path === p);
    assert.ok(r, `${p} is on record`);
    return r;
  };

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-ocr-'));
    const page = await renderTextPage(english, { dpi: 300 });
    await mkdir(path.join(root, 'Scans'), { recursive: true });
    await mkdir(path.join(root, 'Mail'), { recursive: true });
    await mkdir(path.join(root, 'Delivery'), { recursive: true });
    await writeFile(path.join(root, 'Scans', 'contract.pdf'), await asImageOnlyPdf([page], 300));
    await writeFile(path.join(root, 'Scans', 'sideways.png'), await rotated(page, 90));
    await writeFile(path.join(root, 'Scans', 'bomb.png'), pngBomb());
    await writeFile(path.join(root, 'Scans', 'notes.docx'), buildDocx({ title: 'Notes', paragraphs: ['Born digital text needs no OCR at all.'] }));
    await writeFile(
      path.join(root, 'Mail', 'offer.eml'),
      buildEml({
        subject: 'Signed offer',
        parts: [
          { contentType: 'text/plain; charset=utf-8', body: 'Please find the signed offer attached.' },
          { contentType: 'image/png', disposition: 'attachment; filename="signed.png"', encoding: 'base64', body: page },
          { contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', disposition: 'attachment; filename="terms.docx"', encoding: 'base64', body: buildDocx({ title: 'Terms', paragraphs: ['Terms and conditions of the offer.'] }) },
        ],
      }),
    );
    await writeFile(path.join(root, 'Delivery', 'bundle.zip'), zipSync({ 'readme.txt': strToU8('A delivery of two documents.'), 'scans/page.png': page }));
    const config = parseConfig({
      DATABASE_URL: db.url,
      QUEUE_NAME: `t${Date.now().toString(36)}ocr`,
      DOCS_ROOT: root,
      PORT: '0',
      EXTRACT_THREADS: '1',
      OCR_CONCURRENCY: '1',
      OCR_ENGINE: engine,
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('completes a scan only after OCR, and reports OCR progress apart from extraction', async () => {
    const job = await scan(runtime, '.');
    assert.equal(job.status, 'completed');
    assert.ok(job.ocr, 'the job reports its OCR');
    // contract.pdf, sideways.png, bomb.png, the e-mail's signed.png, the zip's page.png
    assert.equal(job.ocr.documents, 5);
    assert.equal(job.ocr.documentsDone, 5);
    assert.equal(job.ocr.pagesTotal, 5);
    // Every page is accounted for: read, failed (the bomb) or taken from the cache (the zip's page
    // is the e-mail's attachment, byte for byte).
    assert.equal(job.ocr.pagesDone, 5);
    assert.ok(job.ocr.pagesPerSecond !== null && job.ocr.pagesPerSecond > 0);
  });

  it('stores OCR text with its source, pages and confidence, and turns sideways pages upright', async () => {
    for (const p of ['Scans/contract.pdf', 'Scans/sideways.png']) {
      const r = await byPath(p);
      assert.equal(r.status, 'extracted', p);
      assert.equal(r.text_source, 'ocr', p);
      assert.equal(r.ocr_status, 'done', p);
      assert.equal(r.ocr_pages, 1, p);
      assert.ok(r.ocr_confidence !== null && r.ocr_confidence > 60, `${p}: confidence ${r.ocr_confidence}`);
      const cer = characterErrorRate(normaliseWhitespace(r.text ?? ''), english);
      assert.ok(cer < 0.05, `${p}: CER ${cer.toFixed(3)}: ${r.text}`);
    }
    const born = await byPath('Scans/notes.docx');
    assert.equal(born.ocr_status, null);
    assert.equal(born.text_source, 'text-layer');
  });

  it('fails OCR of a hostile image alone, with its code, keeping what extraction found', async () => {
    const r = await byPath('Scans/bomb.png');
    assert.equal(r.ocr_status, 'failed');
    assert.equal(r.ocr_error_code, 'image_too_large');
    assert.equal(r.format, 'image');
  });

  it('makes attachments and archive entries documents of their own, OCR included', async () => {
    const all = await rows();
    const mail = await byPath('Mail/offer.eml');
    assert.equal(mail.format, 'eml');
    assert.equal(mail.title, 'Signed offer');
    const children = all.filter((r) => r.parent_id === mail.id).map((r) => r.path);
    assert.deepEqual(children.sort(), ['Mail/offer.eml#1/signed.png', 'Mail/offer.eml#2/terms.docx']);
    const signed = await byPath('Mail/offer.eml#1/signed.png');
    assert.equal(signed.origin, 'attachment');
    assert.equal(signed.text_source, 'ocr');
    assert.ok(characterErrorRate(normaliseWhitespace(signed.text ?? ''), english) < 0.05);
    const terms = await byPath('Mail/offer.eml#2/terms.docx');
    assert.match(terms.text ?? '', /Terms and conditions/);

    const zip = await byPath('Delivery/bundle.zip');
    assert.equal(zip.status, 'extracted');
    const entries = all.filter((r) => r.parent_id === zip.id);
    assert.deepEqual(entries.map((e) => e.origin), ['archive-entry', 'archive-entry']);
    const entry = entries.find((e) => e.path.endsWith('page.png'));
    assert.equal(entry?.text_source, 'ocr');
  });

  it('counts files, attachments, archive entries and scanned documents in insights', async () => {
    const r = await api<Insights>(appOf(runtime), 'GET', '/v1/folders/./insights');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.contents, { files: 6, attachments: 2, archiveEntries: 2 });
    assert.equal(r.body.documentCount, 10);
    assert.equal(r.body.ocr.scannedDocuments, 4);
    assert.equal(r.body.ocr.pagesRead, 4);
    assert.equal(r.body.ocr.failed, 1);
    assert.equal(r.body.ocr.pending, 0);
    const mail = await api<Insights>(appOf(runtime), 'GET', `/v1/folders/${enc('Mail')}/insights`);
    assert.deepEqual(mail.body.contents, { files: 1, attachments: 2, archiveEntries: 0 });
  });

  it('finds OCR text through search', async () => {
    const hits = await waitFor(
      async () => {
        const r = await api<{ items: { path: string }[]; unindexed: number }>(appOf(runtime), 'GET', '/v1/search?q=auditors');
        return r.body.unindexed === 0 ? r.body.items.map((i) => i.path).sort() : undefined;
      },
      { timeoutMs: 60_000, what: 'the search index to catch up' },
    );
    assert.deepEqual(hits, ['Delivery/bundle.zip#2/scans∕page.png', 'Mail/offer.eml#1/signed.png', 'Scans/contract.pdf', 'Scans/sideways.png']);
  });

  it('never reads the same bytes twice: a rescan reads nothing, a copy elsewhere takes the cached text', async () => {
    const again = await scan(runtime, '.');
    assert.equal(again.status, 'completed');
    assert.equal(again.ocr, null, 'an unchanged folder has no OCR work');

    await mkdir(path.join(root, 'Copies'), { recursive: true });
    await copyFile(path.join(root, 'Scans', 'sideways.png'), path.join(root, 'Copies', 'same scan.png'));
    const copy = await scan(runtime, 'Copies');
    assert.equal(copy.status, 'completed');
    assert.equal(copy.ocr, null, 'the copy was not read again');
    const r = await byPath('Copies/same scan.png');
    assert.equal(r.text_source, 'ocr');
    assert.equal(r.ocr_status, 'done');
    assert.equal(r.text, (await byPath('Scans/sideways.png')).text);
  });

  it('marks what a file held as deleted with it', async () => {
    await rm(path.join(root, 'Mail', 'offer.eml'));
    await scan(runtime, 'Mail');
    const left = (await rows()).filter((r) => r.path.startsWith('Mail/'));
    assert.equal(left.length, 3);
    for (const r of left) assert.ok(r.deleted_at, `${r.path} is deleted`);
  });
});

describe('classification and OCR_FOLDERS with scans', { skip: !ocrFixturesAvailable() && 'the DejaVu font (fonts-dejavu-core) is not installed' }, () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let fake: FakeOpenAI;

  before(async () => {
    fake = await startFakeOpenAI();
    db = await createTestDatabase({ migrate: false });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-ocr-classify-'));
    const page = await renderTextPage(english, { dpi: 300 });
    await mkdir(path.join(root, 'Post'), { recursive: true });
    await mkdir(path.join(root, 'Archive'), { recursive: true });
    await writeFile(path.join(root, 'Post', 'letter.pdf'), await asImageOnlyPdf([page], 300));
    await writeFile(
      path.join(root, 'Post', 'mail.eml'),
      buildEml({ subject: 'Scan attached', parts: [{ contentType: 'text/plain', body: 'See the scan.' }, { contentType: 'image/png', disposition: 'attachment; filename="scan.png"', encoding: 'base64', body: await rotated(page, 180) }] }),
    );
    await writeFile(path.join(root, 'Archive', 'old scan.png'), page);
    const config = parseConfig({
      DATABASE_URL: db.url,
      QUEUE_NAME: `t${Date.now().toString(36)}ocrc`,
      DOCS_ROOT: root,
      PORT: '0',
      OCR_FOLDERS: 'Post',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test-key',
      LLM_MODEL: 'gpt-4o-mini',
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
  });

  after(async () => {
    await runtime?.stop();
    await fake?.close();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('reads scans only inside OCR_FOLDERS', async () => {
    const job = await scan(runtime, '.');
    assert.equal(job.ocr?.documents, 2, 'the letter and the attachment in Post');
    const archived = await db.db.selectFrom('documents').select(['status', 'ocr_status', 'ocr_error_code']).where('path', '=', 'Archive/old scan.png').executeTakeFirstOrThrow();
    assert.deepEqual(archived, { status: 'unsupported', ocr_status: 'skipped', ocr_error_code: 'ocr_off' });
  });

  it('classifies scans and attachments from their OCR text', async () => {
    const app = appOf(runtime);
    const start = await api<{ id: string }>(app, 'POST', '/v1/classifications', { path: 'Post' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const job = await waitForJob(app, start.body.id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    // The letter, the e-mail and its attachment: one request each, the scans with their OCR text.
    assert.equal(job.progress.done, 3);
    const sent = fake.requests.map((r) => r.messages.map((m) => m.content).join('\n'));
    assert.equal(sent.filter((text) => /auditors/.test(text)).length, 2, 'the letter and the upside-down attachment were sent as read by OCR');
  });
});

describe('with OCR off', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-ocr-off-'));
    await writeFile(path.join(root, 'scan.png'), pngBomb(10, 10));
    const config = parseConfig({ DATABASE_URL: db.url, QUEUE_NAME: `t${Date.now().toString(36)}off`, DOCS_ROOT: root, PORT: '0', OCR: 'off' });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('records an image as having nothing to read, and says why OCR skipped it', async () => {
    const job = await scan(runtime, '.');
    assert.equal(job.status, 'completed');
    assert.equal(job.ocr, null);
    const r = await db.db.selectFrom('documents').select(['status', 'ocr_status', 'ocr_error_code']).where('path', '=', 'scan.png').executeTakeFirstOrThrow();
    assert.deepEqual(r, { status: 'unsupported', ocr_status: 'skipped', ocr_error_code: 'ocr_off' });
    const insights = await api<Insights>(appOf(runtime), 'GET', '/v1/folders/./insights');
    assert.equal(insights.body.ocr.skipped, 1);
  });
});

/**
 * Documents inside documents and OCR as users read them through the API, on the machine's
 * PostgreSQL: rows seeded through the repositories as extraction writes them (files, an e-mail
 * with attachments, a zip with an e-mail inside, scans in every OCR state), then read through
 * `app.inject`: the listing's and the document's fields, the children list, the origin, OCR and
 * text-source filters, the insights numbers, OpenAPI, and what scoped keys see.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import type { ChildDocument, DocumentDetail, DocumentItem, FolderInsights } from '../../src/contract.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import {
  createDocumentsRepository,
  type DocumentUpdate,
  type EmbeddedDocument,
  type OcrState,
} from '../../src/store/documents.repository.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { api, appOf, enc } from '../support/http.ts';

type Listing = { folder: string; items: DocumentItem[]; nextCursor: string | null };

const MTIME = new Date('2024-03-01T12:00:00.000Z');

function extracted(id: string, format: string, extra: Partial<Extract<DocumentUpdate, { status: 'extracted' | 'unsupported' }>> = {}): DocumentUpdate {
  return {
    id,
    status: 'extracted',
    size: 1000,
    mtime: MTIME,
    sha256: id.replace(/-/g, '').padEnd(64, '0'),
    mimeType: 'application/octet-stream',
    format,
    title: null,
    author: null,
    docCreated: null,
    docModified: null,
    language: 'en',
    pageCount: 1,
    wordCount: 10,
    metadata: {},
    text: 'some words',
    textTruncated: false,
    textSource: 'text-layer',
    ...extra,
  };
}

function ocr(status: OcrState['status'], extra: Partial<OcrState> = {}): OcrState {
  return { status, jobId: null, pages: null, confidence: null, languages: null, lowConfidence: null, errorCode: null, errorMessage: null, ...extra };
}

/** replaceEmbedded chooses a child's id (kept by address): the one in its update is not read. */
const UNUSED_ID = '00000000-0000-4000-8000-000000000000';

/** A child of `parentPath` at `index`, in its file's folder. */
function child(
  parentPath: string,
  index: number[],
  name: string,
  origin: EmbeddedDocument['origin'],
  folder: string,
  update: (id: string) => DocumentUpdate,
): EmbeddedDocument {
  return {
    path: `${parentPath}#${index.at(-1)}/${name}`,
    parentPath,
    folder,
    name,
    extension: path.extname(name).slice(1),
    origin,
    embeddedAt: index,
    update: update(UNUSED_ID) as EmbeddedDocument['update'],
  };
}

describe('documents inside documents and OCR through the API', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let app: ReturnType<typeof appOf>;
  const ids = new Map<string, string>();
  const idOf = (p: string) => {
    const id = ids.get(p);
    assert.ok(id, `no document at ${p}`);
    return id;
  };
  const list = async (folder: string, query = '', headers: Record<string, string> = {}) => {
    const r = await api<Listing>(app, 'GET', `/v1/folders/${enc(folder)}/documents?limit=500${query}`, undefined, headers);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.items;
  };
  const paths = (items: { path: string }[]) => items.map((i) => i.path).sort();
  const doc = (id: string, headers: Record<string, string> = {}) => api<DocumentDetail>(app, 'GET', `/v1/documents/${id}`, undefined, headers);

  before(async () => {
    db = await createTestDatabase();
    root = await mkdtemp(path.join(tmpdir(), 'docsight-contents-'));
    // A real folder named like an attachment's address: it must not take the e-mail's attachments in.
    for (const f of ['Company A/mail.eml#1', 'Company B']) await mkdir(path.join(root, f), { recursive: true });
    await sql`
      insert into folders (path, parent_path, last_scanned_at) values
        ('', null, now()), ('Company A', '', now()), ('Company A/mail.eml#1', 'Company A', now()), ('Company B', '', now())`.execute(db.db);

    const documents = createDocumentsRepository(db.db);
    const files = [
      'Company A/mail.eml',
      'Company A/scan.pdf',
      'Company A/pending.png',
      'Company A/broken.tiff',
      'Company A/mail.eml#1/real.docx',
      'Company B/bundle.zip',
      'Company B/skipped.jpg',
    ];
    const seen = await documents.upsertSeen(
      files.map((p) => ({ path: p, folder: path.posix.dirname(p), name: path.posix.basename(p), extension: path.extname(p).slice(1), size: 1000, mtime: MTIME })),
    );
    for (const s of seen) ids.set(s.path, s.id);

    const mail = child('Company A/mail.eml', [1], 'invoice.pdf', 'attachment', 'Company A', (id) =>
      extracted(id, 'pdf', { textSource: 'mixed', ocr: ocr('done', { pages: 1, confidence: 91.5, languages: ['eng'], lowConfidence: false }) }),
    );
    const notes = child('Company A/mail.eml', [2], 'notes.txt', 'attachment', 'Company A', (id) => extracted(id, 'text'));
    const entry = child('Company B/bundle.zip', [1], 'a.txt', 'archive-entry', 'Company B', (id) => extracted(id, 'text'));
    const inner = child('Company B/bundle.zip', [2], 'inner.eml', 'archive-entry', 'Company B', (id) => extracted(id, 'eml'));
    const nested = child('Company B/bundle.zip#2/inner.eml', [2, 1], 'note.pdf', 'attachment', 'Company B', (id) => extracted(id, 'pdf'));

    await db.db.transaction().execute(async (trx) => {
      await documents.applyExtraction(trx, [
        extracted(idOf('Company A/mail.eml'), 'eml'),
        extracted(idOf('Company A/scan.pdf'), 'pdf', {
          pageCount: 2,
          textSource: 'ocr',
          ocr: ocr('done', { pages: 2, confidence: 55.25, languages: ['eng', 'nld'], lowConfidence: true }),
        }),
        extracted(idOf('Company A/pending.png'), 'image', { textSource: null, text: '', ocr: ocr('pending', { pages: 1 }) }),
        extracted(idOf('Company A/broken.tiff'), 'image', {
          textSource: null,
          text: '',
          ocr: ocr('failed', { errorCode: 'corrupt', errorMessage: 'The image is truncated' }),
        }),
        extracted(idOf('Company A/mail.eml#1/real.docx'), 'docx'),
        extracted(idOf('Company B/bundle.zip'), 'zip'),
        extracted(idOf('Company B/skipped.jpg'), 'image', { textSource: null, text: '', ocr: ocr('skipped', { errorCode: 'ocr_off', errorMessage: 'OCR is off' }) }),
      ]);
      for (const [file, kids] of [
        ['Company A/mail.eml', [mail, notes]],
        ['Company B/bundle.zip', [entry, inner, nested]],
      ] as const) {
        const written = await documents.replaceEmbedded(trx, new Map([[idOf(file), [...kids]]]));
        for (const w of written) ids.set(w.path, w.id);
      }
    });

    const config = parseConfig({ DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', QUEUE_NAME: `contents${Date.now().toString(36)}` });
    runtime = await startRuntime(config, { api: true, worker: false }, pino({ level: 'silent' }));
    app = appOf(runtime);
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('lists where each document was found and what OCR made of it', async () => {
    const items = await list('Company A');
    const by = (p: string) => {
      const d = items.find((i) => i.path === p);
      assert.ok(d, `${p} is listed: ${JSON.stringify(paths(items))}`);
      return d;
    };
    const invoice = by('Company A/mail.eml#1/invoice.pdf');
    assert.equal(invoice.origin, 'attachment');
    assert.deepEqual(invoice.parent, { id: idOf('Company A/mail.eml'), path: 'Company A/mail.eml' });
    assert.equal(invoice.folder, 'Company A');
    assert.equal(invoice.textSource, 'mixed');
    assert.deepEqual(invoice.ocr, { status: 'done', pages: 1, confidence: 91.5, languages: ['eng'], lowConfidence: false, error: null });

    const mail = by('Company A/mail.eml');
    assert.equal(mail.origin, 'file');
    assert.equal(mail.parent, null);
    assert.equal(mail.textSource, 'text-layer');
    assert.equal(mail.ocr, null);

    assert.deepEqual(by('Company A/scan.pdf').ocr, { status: 'done', pages: 2, confidence: 55.25, languages: ['eng', 'nld'], lowConfidence: true, error: null });
    assert.deepEqual(by('Company A/broken.tiff').ocr, {
      status: 'failed',
      pages: null,
      confidence: null,
      languages: [],
      lowConfidence: false,
      error: { code: 'corrupt', message: 'The image is truncated' },
    });
    assert.equal(by('Company A/pending.png').textSource, null);
  });

  it('filters listings by origin, OCR state and text source', async () => {
    assert.deepEqual(paths(await list('Company A', '&origin=attachment')), ['Company A/mail.eml#1/invoice.pdf', 'Company A/mail.eml#2/notes.txt']);
    assert.deepEqual(paths(await list('.', '&origin=archive-entry')), ['Company B/bundle.zip#1/a.txt', 'Company B/bundle.zip#2/inner.eml']);
    assert.deepEqual(paths(await list('Company B', '&origin=embedded')), [
      'Company B/bundle.zip#1/a.txt',
      'Company B/bundle.zip#2/inner.eml',
      'Company B/bundle.zip#2/inner.eml#1/note.pdf',
    ]);
    assert.deepEqual(paths(await list('Company B', '&origin=file')), ['Company B/bundle.zip', 'Company B/skipped.jpg']);
    assert.deepEqual(paths(await list('.', '&ocr=low-confidence')), ['Company A/scan.pdf']);
    assert.deepEqual(paths(await list('.', '&ocr=pending')), ['Company A/pending.png']);
    assert.deepEqual(paths(await list('.', '&ocr=failed')), ['Company A/broken.tiff']);
    assert.deepEqual(paths(await list('.', '&ocr=skipped')), ['Company B/skipped.jpg']);
    assert.deepEqual(paths(await list('.', '&ocr=done')), ['Company A/mail.eml#1/invoice.pdf', 'Company A/scan.pdf']);
    assert.equal((await list('.', '&ocr=any')).length, 5);
    assert.deepEqual(paths(await list('.', '&textSource=ocr')), ['Company A/scan.pdf']);
    assert.deepEqual(paths(await list('.', '&textSource=mixed&origin=attachment')), ['Company A/mail.eml#1/invoice.pdf']);
    // The same filters on the route with literal slashes.
    const slashed = await api<Listing>(app, 'GET', '/v1/folders/Company A/documents?origin=attachment'.replace(' ', '%20'));
    assert.equal(slashed.status, 200, JSON.stringify(slashed.body));
    assert.equal(slashed.body.items.length, 2);
    for (const bad of ['origin=inside', 'ocr=maybe', 'textSource=scan']) {
      const r = await api(app, 'GET', `/v1/folders/${enc('Company A')}/documents?${bad}`);
      assert.equal(r.status, 400, `${bad}: ${JSON.stringify(r.body)}`);
    }
  });

  it('a real folder named like an attachment address lists its own files, never the e-mail’s attachments', async () => {
    assert.deepEqual(paths(await list('Company A/mail.eml#1')), ['Company A/mail.eml#1/real.docx']);
  });

  it('a document lists its children; a child links to its parent', async () => {
    const mail = await doc(idOf('Company A/mail.eml'));
    assert.equal(mail.status, 200, JSON.stringify(mail.body));
    assert.deepEqual(mail.body.children, [
      { id: idOf('Company A/mail.eml#1/invoice.pdf'), name: 'invoice.pdf', path: 'Company A/mail.eml#1/invoice.pdf', origin: 'attachment', status: 'extracted', format: 'pdf', size: 1000 },
      { id: idOf('Company A/mail.eml#2/notes.txt'), name: 'notes.txt', path: 'Company A/mail.eml#2/notes.txt', origin: 'attachment', status: 'extracted', format: 'text', size: 1000 },
    ] satisfies ChildDocument[]);
    assert.equal(mail.body.parent, null);

    const invoice = await doc(idOf('Company A/mail.eml#1/invoice.pdf'));
    assert.equal(invoice.status, 200);
    assert.deepEqual(invoice.body.parent, { id: idOf('Company A/mail.eml'), path: 'Company A/mail.eml' });
    assert.deepEqual(invoice.body.children, []);
    assert.equal(invoice.body.ocr?.confidence, 91.5);

    // Only direct children: the zip lists its two entries, the e-mail inside it its attachment.
    const zip = await doc(idOf('Company B/bundle.zip'));
    assert.deepEqual(zip.body.children.map((c) => [c.name, c.origin]), [['a.txt', 'archive-entry'], ['inner.eml', 'archive-entry']]);
    const inner = await doc(idOf('Company B/bundle.zip#2/inner.eml'));
    assert.deepEqual(inner.body.parent, { id: idOf('Company B/bundle.zip'), path: 'Company B/bundle.zip' });
    assert.deepEqual(inner.body.children.map((c) => c.path), ['Company B/bundle.zip#2/inner.eml#1/note.pdf']);

    // A child removed from its file is no longer listed.
    await sql`update documents set deleted_at = now() where path = 'Company A/mail.eml#2/notes.txt'`.execute(db.db);
    try {
      assert.deepEqual((await doc(idOf('Company A/mail.eml'))).body.children.map((c) => c.name), ['invoice.pdf']);
    } finally {
      await sql`update documents set deleted_at = null where path = 'Company A/mail.eml#2/notes.txt'`.execute(db.db);
    }
  });

  it('insights count files, attachments, archive entries and OCR', async () => {
    const r = await api<FolderInsights>(app, 'GET', '/v1/folders/./insights');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.documentCount, 12);
    assert.deepEqual(r.body.contents, { files: 7, attachments: 3, archiveEntries: 2 });
    assert.deepEqual(r.body.ocr, { scannedDocuments: 2, pagesRead: 3, lowConfidence: 1, pending: 1, failed: 1, skipped: 1 });
    const b = await api<FolderInsights>(app, 'GET', `/v1/folders/${enc('Company B')}/insights`);
    assert.deepEqual(b.body.contents, { files: 2, attachments: 1, archiveEntries: 2 });
    assert.deepEqual(b.body.ocr, { scannedDocuments: 0, pagesRead: 0, lowConfidence: 0, pending: 0, failed: 0, skipped: 1 });
  });

  it('a scoped key sees a child exactly when it sees the child’s file', async () => {
    const keys = createKeysService(createKeysRepository(db.db));
    const bearer = async (scopes: string[]) => ({ authorization: `Bearer ${(await keys.create({ name: scopes.join(','), role: 'viewer', scopes })).key}` });
    const a = await bearer(['Company A']);
    const b = await bearer(['Company B']);
    const lookalike = await bearer(['Company A/mail.eml#1']);

    for (const p of ['Company A/mail.eml', 'Company A/mail.eml#1/invoice.pdf', 'Company A/mail.eml#2/notes.txt']) {
      assert.equal((await doc(idOf(p), a)).status, 200, p);
      assert.equal((await doc(idOf(p), b)).status, 404, p);
    }
    assert.equal((await doc(idOf('Company B/bundle.zip#2/inner.eml#1/note.pdf'), b)).status, 200);
    assert.equal((await doc(idOf('Company B/bundle.zip#2/inner.eml#1/note.pdf'), a)).status, 404);

    // A key for the real folder 'Company A/mail.eml#1' sees its file, not the e-mail's attachment there.
    assert.equal((await doc(idOf('Company A/mail.eml#1/real.docx'), lookalike)).status, 200);
    assert.equal((await doc(idOf('Company A/mail.eml#1/invoice.pdf'), lookalike)).status, 404);
    assert.deepEqual(paths(await list('Company A/mail.eml#1', '', lookalike)), ['Company A/mail.eml#1/real.docx']);

    assert.deepEqual(paths(await list('Company A', '&origin=embedded', a)), ['Company A/mail.eml#1/invoice.pdf', 'Company A/mail.eml#2/notes.txt']);
    assert.equal((await api(app, 'GET', `/v1/folders/${enc('Company A')}/documents`, undefined, b)).status, 404);
  });

  it('the original design’s file listing says where each file was found', async () => {
    const r = await api<{ files: { path: string; origin: string; parent: { id: string; path: string } | null; text_source: string | null; ocr: { low_confidence: boolean } | null }[] }>(
      app,
      'GET',
      '/folder-insights/Company A/get_folder_files_metadata?limit=100'.replace(' ', '%20'),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const invoice = r.body.files.find((f) => f.path === 'Company A/mail.eml#1/invoice.pdf');
    assert.equal(invoice?.origin, 'attachment');
    assert.equal(invoice?.parent?.path, 'Company A/mail.eml');
    assert.equal(invoice?.text_source, 'mixed');
    assert.equal(r.body.files.find((f) => f.path === 'Company A/scan.pdf')?.ocr?.low_confidence, true);
  });

  it('OpenAPI describes the new fields and filters', async () => {
    const r = await api<{ components: { schemas: Record<string, { properties?: Record<string, { description?: string }> }> }; paths: Record<string, { get?: { parameters?: { name: string; schema?: { enum?: string[] } }[] } }> }>(
      app,
      'GET',
      '/openapi.json',
    );
    assert.equal(r.status, 200);
    const docSchema = r.body.components.schemas.Document?.properties ?? {};
    for (const field of ['origin', 'parent', 'textSource', 'ocr', 'children']) {
      assert.ok(docSchema[field], `Document.${field} in OpenAPI`);
    }
    assert.match(docSchema.parent?.description ?? '', /e-mail or archive/);
    const params = r.body.paths['/v1/folders/{path}/documents']?.get?.parameters ?? [];
    assert.deepEqual(params.find((p) => p.name === 'origin')?.schema?.enum, ['file', 'attachment', 'archive-entry', 'embedded']);
    assert.deepEqual(params.find((p) => p.name === 'ocr')?.schema?.enum, ['pending', 'done', 'failed', 'skipped', 'low-confidence', 'any']);
    assert.deepEqual(params.find((p) => p.name === 'textSource')?.schema?.enum, ['text-layer', 'ocr', 'mixed']);
  });
});

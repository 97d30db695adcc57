/**
 * Stale documents and exports through the API, on a scanned folder: documents not modified for
 * more than STALE_AFTER_YEARS (by their own modified date, else the file's) are counted with their
 * bytes in insights and filtered in the listing; an export streams every document of the folder
 * and its subfolders as CSV (formula-safe), JSONL and XLSX, and a scoped key exports its folder
 * only.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import { sql } from 'kysely';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import type { DocumentItem, FolderInsights } from '../../src/contract.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { api, appOf, enc, waitForJob } from '../support/http.ts';

const OLD = new Date('2012-03-01T10:00:00Z');
const FORMULA_TITLE = '=HYPERLINK("http://x")';

/** Paragraphs of deterministic words, long enough for a MinHash signature. */
function offerText(changed: string | null): string[] {
  const words = 'offerte klant levering prijs project uren tarief week maand contract afspraak werk bouw dak gevel kozijn planning garantie factuur betaling'.split(' ');
  let s = 7;
  const paragraphs = Array.from({ length: 6 }, () =>
    Array.from({ length: 80 }, () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return words[s % words.length]!;
    }).join(' '),
  );
  if (changed) paragraphs[3] = `${changed} ${paragraphs[3]!.split(' ').slice(6).join(' ')}`;
  return ['Rekening NL91 ABNA 0417 1643 00, contact jan.jansen@example.nl.', ...paragraphs];
}

describe('stale documents and folder exports', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let app: ReturnType<typeof appOf>;
  const file = async (rel: string, body: string | Uint8Array, mtime?: Date) => {
    await mkdir(path.join(root, path.dirname(rel)), { recursive: true });
    await writeFile(path.join(root, rel), body);
    if (mtime) await utimes(path.join(root, rel), mtime, mtime);
  };
  const exported = (folder: string, format: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: `/v1/folders/${enc(folder)}/export?format=${format}`, headers });

  before(async () => {
    db = await createTestDatabase();
    root = await mkdtemp(path.join(tmpdir(), 'docsight-export-'));
    await file('Client/old.txt', 'x'.repeat(100), OLD);
    await file('Client/Archive/older.txt', 'y'.repeat(250), OLD);
    await file('Client/new.txt', 'fresh, "quoted"\nand on two lines');
    // New on disk, old by its own modified date: the document's date wins.
    await file('Client/report.docx', buildDocx({ title: FORMULA_TITLE, paragraphs: ['A report.'], modified: OLD }));
    await file('Other/secret.txt', 'not for the client key', OLD);
    // A version, an exact copy of its original, and a file like none: duplicates and personal data in exports.
    const offer = buildDocx({ title: 'Offer', paragraphs: offerText(null) });
    await file('Dups/offer.docx', offer, new Date('2022-01-10T10:00:00Z'));
    await file('Dups/offer (kopie).docx', offer, new Date('2023-01-10T10:00:00Z'));
    await file('Dups/offer v2.docx', buildDocx({ title: 'Offer', paragraphs: offerText('na overleg aangepast bedrag') }), new Date('2024-01-10T10:00:00Z'));
    await file('Dups/alone.txt', 'nothing like the others');
    const config = parseConfig({ DATABASE_URL: db.url, QUEUE_NAME: `t${Date.now().toString(36)}exp`, DOCS_ROOT: root, PORT: '0', EXTRACT_THREADS: '1', OCR: 'off' });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
    app = appOf(runtime);
    const scan = await api<{ id: string }>(app, 'POST', '/v1/scans', { path: '.' });
    assert.equal(scan.status, 202, JSON.stringify(scan.body));
    assert.equal((await waitForJob(app, scan.body.id)).status, 'completed');
    // A classification of new.txt, as the classifier stores one.
    await sql`
      with t as (insert into taxonomies (name) values ('Client files') returning id),
      c as (
        insert into classifications (document_id, content_sha256, taxonomy_id, taxonomy_version, model, prompt_version,
          summary_language, tags, primary_category, summary, strategy, chunks, input_tokens, output_tokens, cost_usd)
        select d.id, d.sha256, t.id, 1, 'm', 'p', 'en', ${JSON.stringify([{ label: 'Invoice', confidence: 0.9, needsReview: false }, { label: 'Offer', confidence: 0.4, needsReview: true }])}::jsonb,
               'Invoice', '-1 owed, see @home', 'single', 1, 0, 0, 0
        from documents d, t where d.path = 'Client/new.txt' returning id, document_id
      )
      update documents set classification_id = c.id from c where documents.id = c.document_id`.execute(db.db);
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('insights count the stale documents of the folder and its subfolders, with their bytes', async () => {
    const client = await api<FolderInsights>(app, 'GET', `/v1/folders/${enc('Client')}/insights`);
    assert.equal(client.status, 200, JSON.stringify(client.body));
    const docx = await db.db.selectFrom('documents').select('size').where('path', '=', 'Client/report.docx').executeTakeFirstOrThrow();
    assert.deepEqual(client.body.stale, { afterYears: 7, documents: 3, bytes: 100 + 250 + Number(docx.size) });
    const archive = await api<FolderInsights>(app, 'GET', `/v1/folders/${enc('Client/Archive')}/insights`);
    assert.deepEqual(archive.body.stale, { afterYears: 7, documents: 1, bytes: 250 });
    const all = await api<FolderInsights>(app, 'GET', '/v1/folders/./insights');
    assert.equal(all.body.stale.documents, 4);
  });

  it('the listing filters on staleness', async () => {
    const list = async (q: string) => {
      const r = await api<{ items: DocumentItem[] }>(app, 'GET', `/v1/folders/${enc('Client')}/documents?${q}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.items.map((d) => d.path);
    };
    assert.deepEqual(await list('stale=true'), ['Client/Archive/older.txt', 'Client/old.txt', 'Client/report.docx']);
    assert.deepEqual(await list('stale=false'), ['Client/new.txt']);
    assert.equal((await api(app, 'GET', `/v1/folders/${enc('Client')}/documents?stale=maybe`)).status, 400);
  });

  it('exports CSV with a BOM, RFC 4180 quoting, tags and formula-safe cells', async () => {
    const r = await exported('Client', 'csv');
    assert.equal(r.statusCode, 200, r.body);
    assert.match(String(r.headers['content-type']), /^text\/csv/);
    assert.match(String(r.headers['content-disposition']), /^attachment; filename="docsight-Client-\d{4}-\d{2}-\d{2}\.csv"$/);
    const text = r.rawPayload.toString('utf8');
    assert.ok(text.startsWith('\uFEFFpath,name,folder,extension,size,modified,'), text.slice(0, 80));
    const lines = text.slice(1).split('\r\n');
    assert.equal(lines.at(-1), '', 'every record ends with CRLF');
    assert.ok(text.includes(`,"'${FORMULA_TITLE.replaceAll('"', '""')}",`), 'the formula title is quoted away');
    const newRow = lines.find((l) => l.startsWith('Client/new.txt,'));
    assert.ok(newRow);
    assert.ok(newRow.includes(',Invoice (0.9); Offer (0.4),Invoice,"\'-1 owed, see @home",'), newRow);
    const paths = lines.slice(1, -1).map((l) => l.split(',')[0]);
    assert.deepEqual(paths, ['Client/Archive/older.txt', 'Client/new.txt', 'Client/old.txt', 'Client/report.docx']);
  });

  it('exports JSONL, one object a line, with the same fields', async () => {
    const r = await exported('Client', 'jsonl');
    assert.equal(r.statusCode, 200, r.body);
    const rows = r.body.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(rows.length, 4);
    const report = rows.find((x) => x.path === 'Client/report.docx');
    assert.equal(report?.title, FORMULA_TITLE);
    assert.equal(report?.modified, OLD.toISOString());
    assert.equal(report?.format, 'docx');
    assert.equal(report?.status, 'extracted');
    const fresh = rows.find((x) => x.path === 'Client/new.txt');
    assert.deepEqual(fresh?.tags, [{ label: 'Invoice', confidence: 0.9 }, { label: 'Offer', confidence: 0.4 }]);
    assert.equal(fresh?.primary_category, 'Invoice');
  });

  it('exports an XLSX workbook whose sheet holds the rows', async () => {
    const r = await exported('Client', 'xlsx');
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const parts = unzipSync(new Uint8Array(r.rawPayload));
    const sheet = strFromU8(parts['xl/worksheets/sheet1.xml'] ?? new Uint8Array());
    assert.equal((sheet.match(/<row /g) ?? []).length, 5);
    assert.ok(sheet.includes('<t xml:space="preserve">Client/report.docx</t>'));
    assert.ok(sheet.includes('<t xml:space="preserve">=HYPERLINK(&quot;http://x&quot;)</t>'), 'a string cell, never a formula');
    assert.ok(!sheet.includes('<f>'));
  });

  it('a scoped key exports its folder only, and gets 404 outside it', async () => {
    const keys = createKeysService(createKeysRepository(db.db));
    const key = (await keys.create({ name: 'client', role: 'viewer', scopes: ['Client/Archive'] })).key;
    const auth = { authorization: `Bearer ${key}` };
    const own = await exported('Client/Archive', 'jsonl', auth);
    assert.equal(own.statusCode, 200, own.body);
    assert.deepEqual(own.body.trimEnd().split('\n').map((l) => (JSON.parse(l) as { path: string }).path), ['Client/Archive/older.txt']);
    for (const folder of ['Client', 'Other', '.']) assert.equal((await exported(folder, 'csv', auth)).statusCode, 404, folder);
    // The same through the route with literal slashes.
    const slashed = await app.inject({ method: 'GET', url: '/v1/folders/Client/Archive/export?format=csv', headers: auth });
    assert.equal(slashed.statusCode, 200);
    assert.equal(slashed.body.split('\r\n').length, 3);
  });

  it('exports each file\'s duplicate group and its personal data counts, in every format', async () => {
    const shaOf = async (p: string) => (await db.db.selectFrom('documents').select('sha256').where('path', '=', p).executeTakeFirstOrThrow()).sha256 ?? '';
    const group = [await shaOf('Dups/offer.docx'), await shaOf('Dups/offer v2.docx')].sort()[0];
    const jsonl = await exported('Dups', 'jsonl');
    assert.equal(jsonl.statusCode, 200, jsonl.body);
    const rows = new Map(jsonl.body.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).map((x) => [x.path, x]));
    const pick = (p: string) => {
      const x = rows.get(p) ?? {};
      return [x.duplicate_group, x.duplicate_kind, x.duplicate_of, x.personal_data_iban, x.personal_data_email, x.personal_data_bsn];
    };
    assert.deepEqual(pick('Dups/offer.docx'), [group, 'near', null, 1, 1, 0]);
    assert.deepEqual(pick('Dups/offer (kopie).docx'), [group, 'near', 'Dups/offer.docx', 1, 1, 0], 'the later copy names the original');
    assert.deepEqual(pick('Dups/offer v2.docx'), [group, 'near', null, 1, 1, 0]);
    assert.deepEqual(pick('Dups/alone.txt'), [null, null, null, 0, 0, 0]);
    assert.equal(rows.get('Dups/offer v2.docx')?.duplicate_similarity, 1, 'the newest version is what the others are compared with');
    const older = rows.get('Dups/offer.docx')?.duplicate_similarity;
    assert.ok(typeof older === 'number' && older >= 0.8 && older < 1, String(older));

    const csv = (await exported('Dups', 'csv')).rawPayload.toString('utf8').slice(1).split('\r\n');
    const head = csv[0]!.split(',');
    for (const h of ['duplicate_group', 'duplicate_kind', 'duplicate_of', 'duplicate_similarity', 'personal_data_bsn', 'personal_data_iban', 'personal_data_birthdate']) {
      assert.ok(head.includes(h), h);
    }
    const kopie = csv.find((l) => l.startsWith('"Dups/offer (kopie).docx"') || l.startsWith('Dups/offer (kopie).docx'));
    assert.ok(kopie?.includes(`,${group},near,Dups/offer.docx,`), kopie);

    const sheet = strFromU8(unzipSync(new Uint8Array((await exported('Dups', 'xlsx')).rawPayload))['xl/worksheets/sheet1.xml'] ?? new Uint8Array());
    assert.ok(sheet.includes('<t xml:space="preserve">duplicate_group</t>'));
    assert.ok(sheet.includes(`<t xml:space="preserve">${group}</t>`));
  });

  it('refuses an unknown format', async () => {
    assert.equal((await exported('Client', 'pdf')).statusCode, 400);
  });
});

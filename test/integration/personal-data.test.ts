/**
 * Personal data through the whole pipeline, in one process on the machine's PostgreSQL: a scan
 * finds a BSN, an IBAN and an e-mail address in .docx files (and not their invalid look-alikes),
 * stores counts and masked samples only, rolls them up per folder within a key's scope, and the
 * `sensitive` filter narrows listings and search. With PII_DETECTION=off nothing is stored.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import type { DocumentDetail, FolderInsights } from '../../src/contract.ts';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { api, appOf, enc, waitForJob } from '../support/http.ts';

/** Every clear value in the fixtures, valid or not: none may reach the database or the API. */
const CLEAR = ['111222333', '111222334', 'NL91ABNA0417164300', 'NL91ABNA0417164301', '0417164300', 'jan.jansen'];

const DOSSIER = [
  'Klantdossier. BSN: 111222333.',
  'Rekening NL91 ABNA 0417 1643 00 op naam van de klant.',
  'Niet geldig: BSN 111222334 en rekening NL91ABNA0417164301.',
];

async function setUp(env: Record<string, string>) {
  const db = await createTestDatabase({ migrate: false });
  const root = await mkdtemp(path.join(tmpdir(), 'docsight-pii-'));
  await mkdir(path.join(root, 'Clients', 'A'), { recursive: true });
  await mkdir(path.join(root, 'Clients', 'B'), { recursive: true });
  await writeFile(path.join(root, 'Clients', 'A', 'dossier.docx'), buildDocx({ title: 'Dossier', paragraphs: DOSSIER }));
  await writeFile(path.join(root, 'Clients', 'A', 'plain.docx'), buildDocx({ title: 'Plain', paragraphs: ['Nothing personal in here, only 2024 figures.'] }));
  await writeFile(path.join(root, 'Clients', 'B', 'mail.docx'), buildDocx({ title: 'Mail', paragraphs: ['Contact: jan.jansen@example.nl'] }));
  const config = parseConfig({ DATABASE_URL: db.url, QUEUE_NAME: `t${Date.now().toString(36)}pii`, DOCS_ROOT: root, PORT: '0', EXTRACT_THREADS: '1', ...env });
  const runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
  const start = await api<{ id: string }>(appOf(runtime), 'POST', '/v1/scans', { path: '.' });
  assert.equal(start.status, 202, JSON.stringify(start.body));
  const job = await waitForJob(appOf(runtime), start.body.id, 120_000);
  assert.equal(job.status, 'completed');
  return { db, root, runtime };
}

describe('personal data through the pipeline', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  const idOf = async (p: string) => (await db.db.selectFrom('documents').select('id').where('path', '=', p).executeTakeFirstOrThrow()).id;

  before(async () => {
    ({ db, root, runtime } = await setUp({}));
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('stores counts and masked samples of valid values only, and no clear value', async () => {
    const rows = await db.db.selectFrom('documents').select(['path', 'pii_kinds']).orderBy('path').execute();
    assert.deepEqual(
      rows.map((r) => [r.path, [...r.pii_kinds].sort()]),
      [
        ['Clients/A/dossier.docx', ['bsn', 'iban']],
        ['Clients/A/plain.docx', []],
        ['Clients/B/mail.docx', ['email']],
      ],
    );
    const stored = await sql<{ pii: string | null }>`select pii::text as pii from documents where path = 'Clients/A/dossier.docx'`.execute(db.db);
    const text = stored.rows[0]?.pii ?? '';
    assert.deepEqual(JSON.parse(text), {
      bsn: { count: 1, samples: [{ masked: '******333', part: 'body' }] },
      iban: { count: 1, samples: [{ masked: 'NL91 **** **** **** 00', part: 'body' }] },
    });
    const all = await sql<{ pii: string }>`select coalesce(string_agg(pii::text, ' '), '') as pii from documents`.execute(db.db);
    for (const clear of CLEAR) assert.ok(!all.rows[0]?.pii.includes(clear), `${clear} is stored in clear`);
  });

  it('shows the masked samples on the document', async () => {
    const res = await api<DocumentDetail>(appOf(runtime), 'GET', `/v1/documents/${await idOf('Clients/A/dossier.docx')}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.personalData?.iban?.samples, [{ masked: 'NL91 **** **** **** 00', part: 'body' }]);
    const plain = await api<DocumentDetail>(appOf(runtime), 'GET', `/v1/documents/${await idOf('Clients/A/plain.docx')}`);
    assert.equal(plain.body.personalData, null);
  });

  it('rolls personal data up per folder, within the scope of a key', async () => {
    const app = appOf(runtime);
    const root = await api<FolderInsights>(app, 'GET', `/v1/folders/${enc('Clients')}/insights`);
    assert.equal(root.status, 200);
    assert.deepEqual(root.body.personalData, {
      documents: 2,
      findings: 3,
      byKind: [
        { kind: 'bsn', documents: 1, findings: 1 },
        { kind: 'email', documents: 1, findings: 1 },
        { kind: 'iban', documents: 1, findings: 1 },
      ],
    });
    const keys = createKeysService(createKeysRepository(db.db));
    const scoped = { authorization: `Bearer ${(await keys.create({ name: 'b only', role: 'viewer', scopes: ['Clients/B'] })).key}` };
    const own = await api<FolderInsights>(app, 'GET', `/v1/folders/${enc('Clients/B')}/insights`, undefined, scoped);
    assert.equal(own.status, 200);
    assert.deepEqual(own.body.personalData, { documents: 1, findings: 1, byKind: [{ kind: 'email', documents: 1, findings: 1 }] });
    const other = await api(app, 'GET', `/v1/folders/${enc('Clients/A')}/insights`, undefined, scoped);
    assert.equal(other.status, 404, 'a folder outside the scope is not found');
    const above = await api(app, 'GET', `/v1/folders/${enc('Clients')}/insights`, undefined, scoped);
    assert.equal(above.status, 404, 'nor is the folder above it, which would show A\'s figures');
  });

  it('filters listings and search on personal data', async () => {
    const app = appOf(runtime);
    const list = async (q: string) =>
      (await api<{ items: { path: string }[] }>(app, 'GET', `/v1/folders/${enc('Clients')}/documents?${q}`)).body.items.map((d) => d.path).sort();
    assert.deepEqual(await list('sensitive=any'), ['Clients/A/dossier.docx', 'Clients/B/mail.docx']);
    assert.deepEqual(await list('sensitive=iban'), ['Clients/A/dossier.docx']);
    assert.deepEqual(await list('sensitive=card'), []);
    const bad = await api(app, 'GET', `/v1/folders/${enc('Clients')}/documents?sensitive=passport`);
    assert.equal(bad.status, 400);
    const search = async (q: string) =>
      (await api<{ items: { path: string }[] }>(app, 'GET', `/v1/search?${q}`)).body.items.map((d) => d.path).sort();
    assert.deepEqual(await search('sensitive=email'), ['Clients/B/mail.docx']);
    assert.deepEqual(await search('sensitive=any&path=Clients%2FA'), ['Clients/A/dossier.docx']);
  });

  it('counts the matches per kind of personal data in a search facet, with and without a query, within a key\'s scope', async () => {
    const app = appOf(runtime);
    type Facet = { key: string; count: number }[];
    const facet = async (q: string, headers?: Record<string, string>) => {
      const res = await api<{ total: number; facets: { sensitive: Facet } }>(app, 'GET', `/v1/search?${q}`, undefined, headers);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return { total: res.body.total, sensitive: res.body.facets.sensitive };
    };
    const all = [
      { key: 'any', count: 2 },
      { key: 'bsn', count: 1 },
      { key: 'email', count: 1 },
      { key: 'iban', count: 1 },
    ];
    // Body text is indexed by the workers when idle: the queries below need it.
    await waitFor(async () => (await api<{ unindexed: number }>(app, 'GET', '/v1/search?limit=1')).body.unindexed, {
      what: 'the text to be indexed',
      timeoutMs: 30_000,
      intervalMs: 100,
      until: (n) => n === 0,
    });
    // Browsing (no query) and a query reach the facet through different statements.
    assert.deepEqual(await facet('path=Clients'), { total: 3, sensitive: all });
    assert.deepEqual(await facet('q=dossier OR mail OR plain'), { total: 3, sensitive: all });
    assert.deepEqual(await facet('q=klantdossier'), { total: 1, sensitive: [{ key: 'any', count: 1 }, { key: 'bsn', count: 1 }, { key: 'iban', count: 1 }] });
    assert.deepEqual(await facet('q=figures'), { total: 1, sensitive: [] }, 'a document without personal data counts in no bucket');
    // The facet follows the filters, its own included.
    assert.deepEqual(await facet('sensitive=email'), { total: 1, sensitive: [{ key: 'any', count: 1 }, { key: 'email', count: 1 }] });
    const keys = createKeysService(createKeysRepository(db.db));
    const scoped = { authorization: `Bearer ${(await keys.create({ name: 'a only', role: 'viewer', scopes: ['Clients/A'] })).key}` };
    assert.deepEqual(await facet('', scoped), { total: 2, sensitive: [{ key: 'any', count: 1 }, { key: 'bsn', count: 1 }, { key: 'iban', count: 1 }] });
  });
});

describe('personal data detection turned off', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;

  before(async () => {
    ({ db, root, runtime } = await setUp({ PII_DETECTION: 'off' }));
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('stores nothing and reports nothing', async () => {
    const r = await sql<{ n: string }>`select count(*)::text as n from documents where pii is not null or cardinality(pii_kinds) > 0`.execute(db.db);
    assert.equal(r.rows[0]?.n, '0');
    const extracted = await sql<{ n: string }>`select count(*)::text as n from documents where status = 'extracted'`.execute(db.db);
    assert.equal(extracted.rows[0]?.n, '3', 'the documents were read');
    const insights = await api<FolderInsights>(appOf(runtime), 'GET', `/v1/folders/${enc('Clients')}/insights`);
    assert.deepEqual(insights.body.personalData, { documents: 0, findings: 0, byKind: [] });
  });
});

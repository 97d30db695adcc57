/**
 * Search end to end on the machine's PostgreSQL: generated Dutch and English .docx are scanned
 * through the pipeline, then found through GET /v1/search: ranking, phrases, prefixes, accents,
 * both languages, facets that add up, cursor pages, folder and key scopes, deleted documents,
 * classification changes, the background indexing of text, the reindex, and hostile queries
 * that must never give a 500.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { createIdleSearchIndexer } from '../../src/services/search-indexing.service.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createSearchService, parseSearchQuery } from '../../src/services/search.service.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { migrations } from '../../src/store/migrations/index.ts';
import { createSearchRepository } from '../../src/store/search.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx, generateDocxFolder, type GeneratedDoc } from '../support/docx-fixtures.ts';
import { api, appOf, type ApiTarget, waitForJob } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

interface Bucket {
  key: string | null;
  count: number;
}
interface SearchBody {
  interpreted: string | null;
  total: number;
  totalExact: boolean;
  unindexed: number;
  approximate: boolean;
  rankedWithin: number | null;
  items: {
    id: string;
    path: string;
    title: string | null;
    author: string | null;
    type: string | null;
    language: string | null;
    modified: string;
    score: number;
    snippet: { text: string; match: boolean }[];
  }[];
  facets: { tag: Bucket[]; type: Bucket[]; author: Bucket[]; year: Bucket[] };
  nextCursor: string | null;
  error?: { code: string; message: string };
}

const NL_RISK = [
  'Deze risico analyse beschrijft de belangrijkste risico’s van het project en de maatregelen die de gemeente neemt.',
  'Het college heeft besloten de aanbesteding voor de nieuwe leverancier uit te stellen tot na de zomer.',
  'De coördinatie tussen de afdelingen verloopt via het projectbureau in het café naast het stadhuis.',
  'Alle aanbestedingen worden vooraf getoetst aan het inkoopbeleid en de wettelijke regels.',
];
const NL_MINUTES = [
  'Notulen van de vergadering van de projectgroep. Aanwezig waren de voorzitter, de secretaris en drie leden.',
  'De begroting voor het komende jaar werd besproken en goedgekeurd, met een kleine opmerking over het risico van vertraging.',
  'De volgende vergadering vindt plaats in de tweede week van de maand in het gemeentehuis.',
];
const EN_RISK = [
  'This risk analysis describes the main risks of the supplier contract and the measures the council will take.',
  'The procurement team reviewed every clause of the contract and recommended a quarterly review of the delivery timeline.',
  'Coordination between departments runs through the project office, which reports to the steering committee.',
];

describe('search', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let app: ApiTarget;
  let generated: GeneratedDoc[];
  const search = (query: string) => api<SearchBody>(app, 'GET', `/v1/search?${query}`);
  const q = (text: string, extra = '') => search(`q=${encodeURIComponent(text)}${extra}`);
  /** Text is indexed by the workers when idle: wait until search says nothing waits. */
  const waitIndexed = () =>
    waitFor(async () => (await search('limit=1')).body.unindexed, { what: 'the text to be indexed', timeoutMs: 30_000, intervalMs: 100, until: (n) => n === 0 });

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-search-'));
    generated = await generateDocxFolder(root, 18, { companies: 3, projectsPerCompany: 2, targetKb: 8, seed: 7 });
    const put = async (rel: string, spec: Parameters<typeof buildDocx>[0]) => {
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), buildDocx(spec));
    };
    await put('Company A/Project 4/Risico analyse Project 4.docx', {
      title: 'Risico analyse Project 4',
      creator: 'Sanne de Vries',
      modified: new Date('2023-05-02T10:00:00Z'),
      paragraphs: NL_RISK,
    });
    await put('Company A/Project 4/Notulen projectgroep.docx', {
      title: 'Notulen projectgroep',
      creator: 'Jan Jansen',
      modified: new Date('2023-06-12T10:00:00Z'),
      paragraphs: NL_MINUTES,
    });
    await put('Company B/Risk analysis supplier contract.docx', {
      title: 'Risk analysis for the supplier contract',
      creator: 'Olivia Smith',
      modified: new Date('2022-03-01T10:00:00Z'),
      paragraphs: EN_RISK,
    });
    // The sibling whose name extends "Company A": never inside it.
    await put('Company A2/Elders.docx', {
      title: 'Document elders',
      creator: 'Outsider',
      paragraphs: ['Een ander risico analyse document dat buiten de map Company A staat, met dezelfde woorden.'],
    });

    const config = parseConfig({ DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', EXTRACT_THREADS: '2', QUEUE_NAME: `search${Date.now().toString(36)}` });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
    app = appOf(runtime);
    const start = await api<{ id: string }>(app, 'POST', '/v1/scans', { path: '.' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const job = await waitForJob(app, start.body.id);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    await waitIndexed();
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('ranks the obvious match first and highlights the words in a snippet', async () => {
    const r = await q('risico');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.items[0]?.path, 'Company A/Project 4/Risico analyse Project 4.docx');
    assert.ok(r.body.items.some((i) => i.path === 'Company A/Project 4/Notulen projectgroep.docx'), 'a mention in the text matches too');
    const snippet = r.body.items[0]?.snippet ?? [];
    assert.ok(snippet.some((s) => s.match && /^risico/i.test(s.text)), JSON.stringify(snippet));
    assert.ok(snippet.every((s) => !s.text.includes('<') && !s.text.includes('\uE000')), 'no markup in snippets');
    const scores = r.body.items.map((i) => i.score);
    assert.deepEqual(scores, [...scores].sort((a, z) => z - a));

    const en = await q('risk analysis');
    assert.equal(en.body.items[0]?.path, 'Company B/Risk analysis supplier contract.docx');
  });

  it('finds phrases, prefixes and word forms, whatever the case or accents, in Dutch and English', async () => {
    const paths = async (text: string) => (await q(text)).body.items.map((i) => i.path);
    const riskNl = 'Company A/Project 4/Risico analyse Project 4.docx';
    const riskEn = 'Company B/Risk analysis supplier contract.docx';
    assert.ok((await paths('"risico analyse"')).includes(riskNl));
    assert.ok(!(await paths('"analyse risico"')).includes(riskNl), 'word order matters in a phrase');
    assert.ok((await paths('aanbest*')).includes(riskNl), 'prefix');
    assert.ok((await paths('aanbestedingen')).includes(riskNl), 'Dutch plural meets the singular');
    assert.ok((await paths('RISICO')).includes(riskNl), 'case');
    assert.ok((await paths('coordinatie')).includes(riskNl), 'accents folded (coördinatie)');
    assert.ok((await paths('cafe')).includes(riskNl), 'accents folded (café)');
    assert.ok((await paths('risks')).includes(riskEn), 'English plural meets the singular');
    assert.ok((await paths('the procurement')).includes(riskEn), 'an English stop word does not block a match');
    const both = await paths('risico OR risk');
    assert.ok(both.includes(riskNl) && both.includes(riskEn), 'OR');
    assert.ok(!(await paths('risico -aanbesteding')).includes(riskNl), 'exclusion');
    const languages = (await q('risico OR risk')).body.items.map((i) => i.language);
    assert.ok(languages.includes('nld') && languages.includes('eng'), JSON.stringify(languages));
  });

  it('counts facets over every match that add up to the total, and pages through all of them with a cursor', async () => {
    const first = await q('project', '&limit=100');
    assert.equal(first.status, 200);
    const total = first.body.total;
    assert.ok(total >= 10, `${total} matches`);
    assert.equal(first.body.totalExact, true);
    const sum = (b: Bucket[]) => b.reduce((n, x) => n + x.count, 0);
    assert.equal(sum(first.body.facets.type), total);
    assert.equal(sum(first.body.facets.author), total);
    assert.equal(sum(first.body.facets.year), total);
    assert.deepEqual(first.body.facets.type, [{ key: 'docx', count: total }]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof q>> = await q('project', `&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.items.length <= 4);
      seen.push(...page.body.items.map((i) => i.path));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total, 'no document twice');
    assert.deepEqual(seen, first.body.items.map((i) => i.path), 'pages in the same order as one big page');

    // A facet used as a filter gives exactly its count.
    const author = first.body.facets.author[0];
    assert.ok(author?.key);
    const filtered = await q('project', `&author=${encodeURIComponent(author.key)}`);
    assert.equal(filtered.body.total, author.count);
    assert.ok(filtered.body.items.every((i) => i.author === author.key));
    const year = first.body.facets.year[0];
    assert.ok(year?.key);
    const byYear = await q('project', `&modifiedFrom=${year.key}-01-01&modifiedTo=${Number(year.key) + 1}-01-01`);
    assert.equal(byYear.body.total, year.count);
  });

  it('browses without a query, newest first, with the same filters and facets', async () => {
    const r = await search('type=docx&limit=100');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.interpreted, null);
    assert.equal(r.body.total, generated.length + 4);
    const dates = r.body.items.map((i) => i.modified);
    assert.deepEqual(dates, [...dates].sort().reverse());
    const sanne = await search(`author=${encodeURIComponent('Sanne de Vries')}&modifiedFrom=2023-01-01&modifiedTo=2024-01-01`);
    assert.ok(sanne.body.items.some((i) => i.path === 'Company A/Project 4/Risico analyse Project 4.docx'));
    assert.ok(sanne.body.items.every((i) => i.author === 'Sanne de Vries'));
  });

  it('keeps a folder filter inside the folder, never its sibling "Company A2"', async () => {
    const r = await q('risico', `&path=${encodeURIComponent('Company A')}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.items.length >= 2);
    assert.ok(r.body.items.every((i) => i.path.startsWith('Company A/')), JSON.stringify(r.body.items.map((i) => i.path)));
    const all = await q('risico');
    assert.ok(all.body.items.some((i) => i.path.startsWith('Company A2/')));
    assert.equal((await q('risico', '&path=..%2Fetc')).status, 400);
  });

  it('confines results to the scopes it is given (service) and to a scoped key (HTTP)', async () => {
    const service = createSearchService({ search: createSearchRepository(db.db) });
    const open = await service.search({ q: 'risico OR risk', limit: 100 });
    assert.ok(open.items.some((i) => i.path.startsWith('Company B/')));
    const scoped = await service.search({ q: 'risico OR risk', limit: 100, scopes: ['Company A'] });
    assert.ok(scoped.items.length > 0);
    assert.ok(scoped.items.every((i) => i.path.startsWith('Company A/')), JSON.stringify(scoped.items.map((i) => i.path)));
    assert.equal(scoped.total, scoped.items.length);
    const browse = await service.search({ limit: 100, scopes: ['Company B'] });
    assert.ok(browse.items.length > 0 && browse.items.every((i) => i.path.startsWith('Company B/')));
    assert.ok([...browse.facets.author, ...browse.facets.type].every((b) => b.count <= browse.total));
    await assert.rejects(service.search({ q: 'risico', path: 'Company B', limit: 10, scopes: ['Company A'] }), { code: 'not_found' });

    const keys = createKeysService(createKeysRepository(db.db));
    const { key } = await keys.create({ name: 'scoped', role: 'viewer', scopes: ['Company B'] });
    const headers = { authorization: `Bearer ${key}` };
    const viaKey = await api<SearchBody>(app, 'GET', `/v1/search?q=${encodeURIComponent('risico OR risk')}`, undefined, headers);
    assert.equal(viaKey.status, 200, JSON.stringify(viaKey.body));
    assert.ok(viaKey.body.items.length > 0);
    assert.ok(viaKey.body.items.every((i) => i.path.startsWith('Company B/')));
    const outside = await api<SearchBody>(app, 'GET', `/v1/search?q=risico&path=${encodeURIComponent('Company A')}`, undefined, headers);
    assert.equal(outside.status, 404);
  });

  it('leaves deleted documents out', async () => {
    const target = 'Company A/Project 4/Notulen projectgroep.docx';
    assert.ok((await q('notulen')).body.items.some((i) => i.path === target));
    await sql`update documents set deleted_at = now() where path = ${target}`.execute(db.db);
    try {
      const r = await q('notulen');
      assert.ok(!r.body.items.some((i) => i.path === target));
      assert.ok(!(await search('limit=100')).body.items.some((i) => i.path === target));
    } finally {
      await sql`update documents set deleted_at = null where path = ${target}`.execute(db.db);
    }
  });

  it('follows classifications: tags and summaries become searchable, filterable and counted', async () => {
    const doc = await sql<{ id: string; sha256: string }>`
      select id, sha256 from documents where path = 'Company B/Risk analysis supplier contract.docx'`.execute(db.db);
    const taxonomy = await sql<{ id: string }>`select id from taxonomies limit 1`.execute(db.db);
    const d = doc.rows[0];
    const t = taxonomy.rows[0];
    assert.ok(d && t);
    const tags = JSON.stringify([{ label: 'Risk Management', confidence: 0.9, needsReview: false }]);
    const c = await sql<{ id: string }>`
      insert into classifications (document_id, content_sha256, taxonomy_id, taxonomy_version, model, prompt_version,
        summary_language, tags, primary_category, summary, strategy, chunks, input_tokens, output_tokens)
      values (${d.id}, ${d.sha256}, ${t.id}, 1, 'test', 'v1', 'en', ${tags}::jsonb, 'Risk Management',
        'Overview of the zeppelin hangar lease.', 'single', 1, 10, 10)
      returning id`.execute(db.db);
    await sql`update documents set classification_id = ${c.rows[0]?.id ?? ''}::uuid where id = ${d.id}`.execute(db.db);

    const bySummary = await q('zeppelin');
    assert.deepEqual(bySummary.body.items.map((i) => i.path), ['Company B/Risk analysis supplier contract.docx']);
    assert.deepEqual(bySummary.body.facets.tag, [{ key: 'Risk Management', count: 1 }]);
    const byTag = await search(`tag=${encodeURIComponent('Risk Management')}`);
    assert.deepEqual(byTag.body.items.map((i) => i.path), ['Company B/Risk analysis supplier contract.docx']);
    assert.equal((await q('management')).body.items[0]?.path, 'Company B/Risk analysis supplier contract.docx');

    // A forced rerun rewrites the same classification row in place.
    await sql`update classifications set summary = 'Overview of the airship hangar lease.' where id = ${c.rows[0]?.id ?? ''}::uuid`.execute(db.db);
    assert.equal((await q('zeppelin')).body.total, 0);
    assert.equal((await q('airship')).body.total, 1);
  });

  it('indexes text in the background: head at once, body when the indexer catches up, never re-parsed for a classification', async () => {
    const target = 'Company A/Project 4/Notulen projectgroep.docx';
    const row = async () =>
      (
        await sql<{ id: string; pending: boolean; body: string | null }>`
          select id, search_pending as pending, search_body::text as body from documents where path = ${target}`.execute(db.db)
      ).rows[0];
    const before = await row();
    assert.ok(before && !before.pending && before.body);
    // A classification changes the head only: the body is not recomputed (a marker put in its
    // place survives) and nothing waits.
    await sql`update documents set search_body = ${"'bodymarker':1C"}::tsvector where id = ${before.id}`.execute(db.db);
    const t = (await sql<{ id: string }>`select id from taxonomies limit 1`.execute(db.db)).rows[0];
    assert.ok(t);
    const c = await sql<{ id: string }>`
      insert into classifications (document_id, content_sha256, taxonomy_id, taxonomy_version, model, prompt_version,
        summary_language, tags, primary_category, summary, strategy, chunks, input_tokens, output_tokens)
      select id, sha256, ${t.id}, 1, 'test', 'v1', 'nl', '[]'::jsonb, 'Meeting Notes', 'Verslag over de windmolen.', 'single', 1, 10, 10
      from documents where id = ${before.id}
      returning id`.execute(db.db);
    await sql`update documents set classification_id = ${c.rows[0]?.id ?? ''}::uuid where id = ${before.id}`.execute(db.db);
    await sql`update classifications set summary = 'Verslag over de windmolen en de dijk.' where id = ${c.rows[0]?.id ?? ''}::uuid`.execute(db.db);
    const classified = await row();
    assert.deepEqual(classified, { ...before, body: "'bodymarker':1C" }, 'classification left the body alone');
    assert.ok((await q('windmolen')).body.items.some((i) => i.path === target), 'the summary is searchable at once');
    assert.ok((await q('dijk')).body.items.some((i) => i.path === target), 'a rewritten summary too');

    // New text (as a rescan writes it): the title still finds it at once, the text once indexed.
    await sql`update documents set text = 'Het verslag noemt de zeilboot van de voorzitter.', title = 'Notulen projectgroep' where id = ${before.id}`.execute(db.db);
    const pending = await row();
    assert.ok(pending?.pending && pending.body === null, JSON.stringify(pending));
    assert.ok((await q('notulen')).body.items.some((i) => i.path === target), 'found by title while its text waits');
    const waiting = await q('zeilboot');
    assert.equal(waiting.body.unindexed, 1, 'search says one text waits');
    assert.equal(waiting.body.total, 0, 'the new text is not searchable yet');
    // A scoped search counts only what waits inside its folder.
    const service = createSearchService({ search: createSearchRepository(db.db) });
    assert.equal((await service.search({ q: 'zeilboot', limit: 10, scopes: ['Company B'] })).unindexed, 0);
    assert.equal((await service.search({ q: 'zeilboot', limit: 10, scopes: ['Company A'] })).unindexed, 1);

    // The idle indexer (as the workers run it) catches up: nothing waits, then the text is found.
    const indexer = createIdleSearchIndexer(createSearchRepository(db.db), pino({ level: 'silent' }), { idleMs: 0, sweepMs: 0 });
    try {
      indexer.poke();
      await waitIndexed();
    } finally {
      await indexer.close();
    }
    const indexed = await q('zeilboot');
    assert.equal(indexed.body.unindexed, 0);
    assert.deepEqual(indexed.body.items.map((i) => i.path), [target]);
    assert.equal((await q('voorzitter notulen')).body.items[0]?.path, target, 'one word in the title, one in the text');
    assert.ok(!(await q('begroting')).body.items.some((i) => i.path === target), 'the old text is gone');
    assert.equal((await row())?.pending, false);
  });

  it('says when ranking was bounded, and its cursor pages still reach every match once', async () => {
    const exact = createSearchService({ search: createSearchRepository(db.db) });
    const bounded = createSearchService({ search: createSearchRepository(db.db, { rankCandidates: 3, facetLimit: 5 }) });
    const all = await exact.search({ q: 'project', limit: 100 });
    assert.equal(all.approximate, false);
    assert.equal(all.rankedWithin, null);
    assert.ok(all.total >= 10, `${all.total} matches`);

    const first = await bounded.search({ q: 'project', limit: 2 });
    assert.equal(first.approximate, true);
    assert.ok(first.rankedWithin !== null && first.rankedWithin >= 3 && first.rankedWithin < all.total, String(first.rankedWithin));
    assert.equal(first.totalExact, false);
    assert.equal(first.total, 5, 'at least this many, and said so');
    const seen: { path: string; score: number }[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await bounded.search({ q: 'project', limit: 2, cursor });
      assert.equal(page.approximate, true);
      seen.push(...page.items.map((h) => ({ path: h.path, score: h.rank })));
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break;
    }
    assert.equal(seen.length, all.total);
    assert.deepEqual(new Set(seen.map((h) => h.path)), new Set(all.items.map((h) => h.path)), 'every match, once');
    const ranked = seen.filter((h) => h.score >= 0);
    assert.equal(ranked.length, first.rankedWithin, 'the ranked candidates first, best first');
    assert.deepEqual(ranked.map((h) => h.score), ranked.map((h) => h.score).sort((a, z) => z - a));
    assert.ok(seen.slice(ranked.length).every((h) => h.score === -1), 'then the other matches, unranked');
    // The obvious match is a title match, so it is a candidate and first, bounded or not.
    assert.equal((await bounded.search({ q: 'risico', limit: 1 })).items[0]?.path, 'Company A/Project 4/Risico analyse Project 4.docx');
    // Bounded or not, a scope holds.
    const scoped = await bounded.search({ q: 'project', limit: 100, scopes: ['Company B'] });
    assert.ok(scoped.items.length > 0 && scoped.items.every((h) => h.path.startsWith('Company B/')));
    // Over HTTP the flags are there.
    const http = await q('project', '&limit=1');
    assert.equal(http.body.approximate, false);
    assert.equal(http.body.rankedWithin, null);
  });

  it('ranks a document a word is central to above one that mentions it once', async () => {
    const repo = createSearchRepository(db.db);
    await sql`
      insert into documents (path, folder, name, extension, size, mtime, status, language, text)
      values ('Company C/Once.docx', 'Company C', 'Once.docx', 'docx', 1, now(), 'extracted', 'eng',
              'A long report on many matters, where the lighthouse appears once among other words of little interest.'),
             ('Company C/Often.docx', 'Company C', 'Often.docx', 'docx', 1, now(), 'extracted', 'eng',
              'The lighthouse keeper wrote about the lighthouse, its lighthouse lamp and the lighthouse stairs.')`.execute(db.db);
    while ((await repo.indexPending(50)) > 0);
    const r = await q('lighthouse');
    assert.deepEqual(r.body.items.map((i) => i.path), ['Company C/Often.docx', 'Company C/Once.docx']);
    await sql`delete from documents where folder = 'Company C'`.execute(db.db);
  });

  it('rebuilds every search vector with reindex', async () => {
    await sql`update documents set search_body = null, search_terms = null, search_length = null, search_head = null`.execute(db.db);
    // One document's text changed a moment ago: the rebuild indexes it too.
    await sql`update documents set text = 'De kustwacht vond de boei.' where path = 'Company A2/Elders.docx'`.execute(db.db);
    assert.equal((await q('risico')).body.total, 0);
    assert.equal((await q('kustwacht')).body.unindexed, 1);
    const service = createSearchService({ search: createSearchRepository(db.db) });
    const count = await service.reindex();
    const rows = await sql<{ n: number }>`select count(*)::int as n from documents`.execute(db.db);
    assert.equal(count, rows.rows[0]?.n);
    assert.equal((await q('risico')).body.items[0]?.path, 'Company A/Project 4/Risico analyse Project 4.docx');
    assert.equal((await q('airship')).body.total, 1, 'classification data survives the rebuild');
    const kust = await q('kustwacht');
    assert.equal(kust.body.unindexed, 0, 'nothing waits after a rebuild');
    assert.deepEqual(kust.body.items.map((i) => i.path), ['Company A2/Elders.docx']);
    const unranked = await sql<{ n: number }>`select count(*)::int as n from documents where search_terms is null or search_length is null`.execute(db.db);
    assert.equal(unranked.rows[0]?.n, 0, 'ranking inputs rebuilt');
  });

  it('answers hostile queries with results or a 400, never a 500', async () => {
    const hostile = [
      '"', "'", '""', '"risico', "risico'", '&&', '|', '!', '!!risico', ':*', '*', '-', '--', '-risico', 'risico & | !',
      '(risico', 'risico)', '<->', 'risico <-> analyse', "'; drop table documents; --", 'a:b*', 'risico:A', '\\', '\\\\"',
      'OR', 'OR OR risico', 'risico OR', 'risico OR -analyse', '-"risico analyse"', 'ri*', 'r*', '*risico', '***',
      '🦄 risico 🦄', 'ﬁnance', 'مخاطر', '風險分析', 'cafe\u0301', 'zero\u200bwidth', '\u202eesrever', 'x'.repeat(3000),
      'risico '.repeat(1500), Array.from({ length: 30 }, (_, i) => `w${i}`).join(' '), 'the', 'de het een', '\u0000', 'risico\u0000analyse',
      'e\u0000*',
    ];
    for (const text of hostile) {
      const r = await q(text);
      assert.ok(r.status === 200 || r.status === 400, `${JSON.stringify(text.slice(0, 40))}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      if (r.status === 400) assert.equal(r.body.error?.code, 'bad_request');
    }
    // Raw bytes that are not UTF-8, and a query string of 10 KB.
    for (const raw of ['q=%FF%FE', 'q=%00', 'q=%C0%AF', 'q=%ED%A0%80', `q=${'a'.repeat(10_240)}`, 'q=risico&q=analyse']) {
      const r = await search(raw);
      assert.ok(r.status === 200 || r.status === 400, `${raw.slice(0, 30)}: ${r.status}`);
    }
    for (const bad of ['limit=0', 'limit=abc', 'limit=1000', 'cursor=bm90LWEtY3Vyc29y', 'cursor=%%%', 'modifiedFrom=yesterday', 'sort=rank', 'tag=' + 'x'.repeat(200)]) {
      const r = await search(`q=risico&${bad}`);
      assert.equal(r.status, 400, `${bad}: ${r.status}`);
      assert.equal(r.body.error?.code, 'bad_request');
    }
    // A cursor belongs to its search.
    const page = await q('risico', '&limit=1');
    assert.ok(page.body.nextCursor);
    assert.equal((await q('analyse', `&limit=1&cursor=${page.body.nextCursor}`)).status, 400);
    assert.equal((await search(`limit=1&cursor=${page.body.nextCursor}`)).status, 400);
  });

  it('parses queries into clauses without trusting operators', () => {
    assert.deepEqual(parseSearchQuery('"risico analyse" aanbest* -de OR risk'), [
      [
        { kind: 'phrase', text: 'risico analyse', negated: false },
        { kind: 'prefix', text: 'aanbest', negated: false },
        { kind: 'term', text: 'de', negated: true },
      ],
      [{ kind: 'term', text: 'risk', negated: false }],
    ]);
    assert.deepEqual(parseSearchQuery('ab* & | !'), [[{ kind: 'term', text: 'ab', negated: false }]]);
    assert.throws(() => parseSearchQuery('-risico'), { code: 'bad_request' });
  });
});

describe('migration 0006 on a database with documents', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  after(async () => {
    await t?.drop();
  });

  it('keeps every indexed text searchable without re-parsing, and marks the rest for the indexer', async () => {
    const migrator = new Migrator({
      db: t.db,
      provider: { getMigrations: async () => migrations },
      migrationTableName: 'docsight_migrations',
      migrationLockTableName: 'docsight_migrations_lock',
    });
    assert.equal((await migrator.migrateTo('0005_auth')).error, undefined);
    await sql`
      insert into documents (path, folder, name, extension, size, mtime, status, language, title, text)
      values ('A/Dijk.docx', 'A', 'Dijk.docx', 'docx', 1, now(), 'extracted', 'nld', 'Dijkversterking',
              'De waterschappen bespreken de risico analyse van de zeewering bij Petten.'),
             ('A/Leeg.docx', 'A', 'Leeg.docx', 'docx', 1, now(), 'extracted', 'nld', 'Lege notitie', ''),
             ('A/Oud.docx', 'A', 'Oud.docx', 'docx', 1, now(), 'extracted', 'eng', 'Old memo', 'The lighthouse keeper left.')`.execute(t.db);
    // A row whose vector was never built (as after a COPY with triggers off).
    await sql`update documents set search_vector = null where path = 'A/Oud.docx'`.execute(t.db);
    await sql`alter table documents disable trigger documents_search_vector`.execute(t.db);
    await sql`update documents set search_vector = null where path = 'A/Oud.docx'`.execute(t.db);
    await sql`alter table documents enable trigger documents_search_vector`.execute(t.db);

    const rest = await migrator.migrateToLatest();
    assert.equal(rest.error, undefined, String(rest.error));
    const rows = await sql<{ path: string; pending: boolean; body: boolean; terms: boolean; length: number | null }>`
      select path, search_pending as pending, search_body is not null as body, search_terms is not null as terms, search_length as length
      from documents order by path`.execute(t.db);
    assert.deepEqual(
      rows.rows.map((r) => [r.path, r.pending, r.body, r.terms]),
      [
        ['A/Dijk.docx', false, true, true],
        ['A/Leeg.docx', false, true, true],
        ['A/Oud.docx', true, false, false],
      ],
    );
    assert.ok((rows.rows[0]?.length ?? 0) > 5, 'the body word count is kept for ranking');

    const repo = createSearchRepository(t.db);
    const service = createSearchService({ search: repo });
    const phrase = await service.search({ q: '"risico analyse" zeewering', limit: 10 });
    assert.deepEqual(phrase.items.map((i) => i.path), ['A/Dijk.docx'], 'the backfilled body keeps its positions');
    assert.equal((await service.search({ q: 'dijkversterking', limit: 10 })).items[0]?.path, 'A/Dijk.docx');
    const waiting = await service.search({ q: 'lighthouse', limit: 10 });
    assert.equal(waiting.unindexed, 1);
    while ((await repo.indexPending(10)) > 0);
    const found = await service.search({ q: 'lighthouse', limit: 10 });
    assert.equal(found.unindexed, 0);
    assert.deepEqual(found.items.map((i) => i.path), ['A/Oud.docx']);
  });
});

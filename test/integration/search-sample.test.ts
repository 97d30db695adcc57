/**
 * Search for a word most documents contain, on the machine's PostgreSQL: its total, facets and
 * first candidates come from the sample index (one document in eight, migration 0009) when that
 * alone holds more matches than are counted. The answer says so (totalExact false, approximate),
 * the obvious best match is still first, facets add up to the total, cursor pages still reach every
 * match once, and a word the sample barely holds is counted over the whole index as before.
 * Ids are chosen: the sample is the documents whose id's last byte is below 32.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createSearchService } from '../../src/services/search.service.ts';
import { createSearchRepository } from '../../src/store/search.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

/** An id whose last byte is `last` (0-255), so the test knows which documents are in the sample. */
const idOf = (n: number, last: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(10, '0')}${last.toString(16).padStart(2, '0')}`;

describe('search: a common word', () => {
  let db: TestDatabase;
  const FACET_LIMIT = 5;
  const BEST = 'Harbour/Lighthouse keeper handbook.docx';
  const RARE = 'Harbour/Almanac.docx';

  before(async () => {
    db = await createTestDatabase();
    const rows: { id: string; path: string; title: string; author: string; format: string; text: string; year?: number }[] = [];
    // 24 documents mention "lighthouse" once; the 12 even ones are in the sample (last byte < 32)
    // and dated 2020, the 12 odd ones are not, dated 2001: the year facet tells which were counted.
    for (let i = 0; i < 24; i++) {
      rows.push({
        id: idOf(i, i % 2 === 0 ? i : 200 + i),
        path: `Harbour/Log ${i}.docx`,
        title: `Log ${i}`,
        author: i % 3 === 0 ? 'Ada' : 'Bram',
        format: i % 4 === 0 ? 'pdf' : 'docx',
        year: i % 2 === 0 ? 2020 : 2001,
        text: `Entry ${i}: the weather was calm, ships came and went, and the lighthouse stood by the quay.`,
      });
    }
    // The obvious match: the word in its title and all over its text, outside the sample.
    rows.push({
      id: idOf(100, 255),
      path: BEST,
      title: 'Lighthouse keeper handbook',
      author: 'Cees',
      format: 'docx',
      text: 'The lighthouse keeper tends the lighthouse lamp; every lighthouse has a keeper and a log.',
    });
    // A word two documents contain, one in the sample: counted over the whole index.
    rows.push({ id: idOf(101, 3), path: RARE, title: 'Almanac', author: 'Ada', format: 'docx', year: 2020, text: 'Tides, the lighthouse and the zeppelin.' });
    rows.push({ id: idOf(102, 250), path: 'Harbour/Zeppelin.docx', title: 'Zeppelin', author: 'Bram', format: 'docx', text: 'A zeppelin over the harbour.' });
    for (const r of rows) {
      await sql`
        insert into documents (id, path, folder, name, extension, size, mtime, status, language, title, author, format, text)
        values (${r.id}::uuid, ${r.path}, 'Harbour', ${r.path.slice('Harbour/'.length)}, 'docx', 1, ${new Date(Date.UTC(r.year ?? 2024, 5, 1))}, 'extracted', 'eng',
                ${r.title}, ${r.author}, ${r.format}, ${r.text})`.execute(db.db);
    }
    while ((await createSearchRepository(db.db).indexPending(50)) > 0);
  });

  after(async () => {
    await db?.drop();
  });

  it('counts a word the sample holds many of in the sample, says so, and still puts the obvious match first', async () => {
    const bounded = createSearchService({ search: createSearchRepository(db.db, { rankCandidates: 3, facetLimit: FACET_LIMIT }) });
    const all = await createSearchService({ search: createSearchRepository(db.db) }).search({ q: 'lighthouse', limit: 100 });
    assert.equal(all.total, 26);
    assert.equal(all.totalExact, true);

    const r = await bounded.search({ q: 'lighthouse', limit: 2 });
    assert.equal(r.items[0]?.path, BEST, 'a title match is a candidate, sampled or not');
    assert.equal(r.approximate, true);
    assert.equal(r.totalExact, false);
    assert.equal(r.total, FACET_LIMIT, 'at least this many, and said so');
    const sum = (b: { count: number }[]) => b.reduce((n, x) => n + x.count, 0);
    assert.equal(sum(r.facets.type), r.total, 'facets add up to the total they count');
    assert.equal(sum(r.facets.author), r.total);
    assert.equal(sum(r.facets.year), r.total);
    // Counted in the sample: none of the documents outside it (the best match included).
    assert.deepEqual(r.facets.year.map((b) => b.key), ['2020'], JSON.stringify(r.facets.year));

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await bounded.search({ q: 'lighthouse', limit: 4, cursor });
      seen.push(...page.items.map((h) => h.path));
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break;
    }
    assert.equal(seen.length, all.total, 'every match');
    assert.deepEqual(new Set(seen), new Set(all.items.map((h) => h.path)), 'every match, once');
  });

  it('leaves out a title match whose text has an excluded word, ranked within candidates or not', async () => {
    const bounded = createSearchService({ search: createSearchRepository(db.db, { rankCandidates: 3, facetLimit: FACET_LIMIT }) });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await bounded.search({ q: 'lighthouse -lamp', limit: 4, cursor });
      assert.equal(page.approximate, true);
      seen.push(...page.items.map((h) => h.path));
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break;
    }
    assert.equal(seen.length, 25, 'the 24 logs and the almanac');
    assert.equal(new Set(seen).size, 25);
    assert.ok(!seen.includes(BEST), 'the handbook mentions a lamp in its text, not in its title');
  });

  it('counts a word the sample holds few of over every document, exactly', async () => {
    const bounded = createSearchService({ search: createSearchRepository(db.db, { rankCandidates: 3, facetLimit: FACET_LIMIT }) });
    const r = await bounded.search({ q: 'zeppelin', limit: 10 });
    assert.equal(r.total, 2);
    assert.equal(r.totalExact, true);
    assert.equal(r.approximate, false);
    assert.deepEqual(new Set(r.items.map((h) => h.path)), new Set([RARE, 'Harbour/Zeppelin.docx']));
    // A filter narrows the sample too: one author's matches there are too few (5 of 9), so the
    // matches counted are the first found in the whole index, outside the sample too.
    const ada = await bounded.search({ q: 'lighthouse', author: 'Ada', limit: 100 });
    assert.equal(ada.totalExact, false, 'more matches than are counted');
    assert.equal(ada.items.length, 9);
    assert.ok(ada.items.every((h) => h.author === 'Ada'));
    assert.ok(ada.facets.year.some((b) => b.key === '2001'), JSON.stringify(ada.facets.year));
  });
});

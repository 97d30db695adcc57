/**
 * Saving classification results (store/classifications.repository.ts): results that arrive
 * together are written together, and each still behaves as if saved alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createClassificationsRepository, type NewClassification } from '../../src/store/classifications.repository.ts';
import { storedResult } from '../support/classification-fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('classification results are saved one by one or in a burst alike', () => {
  let db: TestDatabase;
  let taxonomyId = '';
  let jobId = '';
  const docs: string[] = [];

  before(async () => {
    db = await createTestDatabase();
    const t = await sql<{ id: string }>`select id from taxonomies limit 1`.execute(db.db);
    taxonomyId = t.rows[0]?.id ?? '';
    const j = await sql<{ id: string }>`insert into jobs (kind) values ('classify') returning id`.execute(db.db);
    jobId = j.rows[0]?.id ?? '';
    for (let i = 0; i < 40; i++) {
      const r = await sql<{ id: string }>`
        insert into documents (path, folder, name, extension, size, mtime, sha256, status)
        values (${`f/d${i}.txt`}, 'f', ${`d${i}.txt`}, 'txt', 10, now(), ${`sha${i}`}, 'extracted')
        returning id`.execute(db.db);
      docs.push(r.rows[0]?.id ?? '');
    }
  });
  after(async () => {
    await db?.drop();
  });

  const result = (documentId: string, summaryLanguage: string, summary: string): NewClassification =>
    storedResult({ documentId, taxonomyId, jobId }, { summaryLanguage, summary, inputTokens: 100, outputTokens: 20, costUsd: 0.001 });

  it('stores every result of a burst, makes the last one per document its latest, and replaces a result under the same key', async () => {
    const repo = createClassificationsRepository(db.db);
    // Per document: "en" then "nl" (two keys), then "nl" again (a forced rerun: replaces under its key).
    await Promise.all(
      docs.flatMap((d) => [repo.save(result(d, 'en', 'first')), repo.save(result(d, 'nl', 'second')), repo.save(result(d, 'nl', 'third'))]),
    );
    const rows = await sql<{ n: number; docs: number }>`select count(*)::int as n, count(distinct document_id)::int as docs from classifications`.execute(db.db);
    assert.deepEqual(rows.rows[0], { n: docs.length * 2, docs: docs.length });
    const latest = await sql<{ summary: string; summary_language: string }>`
      select c.summary, c.summary_language from documents d join classifications c on c.id = d.classification_id`.execute(db.db);
    assert.equal(latest.rows.length, docs.length);
    for (const r of latest.rows) assert.deepEqual(r, { summary: 'third', summary_language: 'nl' });
  });

  it('fails only the result that cannot be stored when it arrives with others', async () => {
    const repo = createClassificationsRepository(db.db);
    const missing = '00000000-0000-0000-0000-000000000001';
    const outcomes = await Promise.allSettled([
      repo.save(result(docs[0] ?? '', 'de', 'ok 1')),
      repo.save(result(missing, 'de', 'no such document')),
      repo.save(result(docs[1] ?? '', 'de', 'ok 2')),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    const saved = await sql<{ summary: string }>`select summary from classifications where summary_language = 'de' order by summary`.execute(db.db);
    assert.deepEqual(
      saved.rows.map((r) => r.summary),
      ['ok 1', 'ok 2'],
    );
  });
});

/**
 * The typed copies of custom field values (migration 0019): kept by a trigger from a result's
 * `fields` and its taxonomy version's definitions, replaced when a result under the same key is
 * replaced, and a value of the wrong form never fails the write of the result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createClassificationsRepository, type NewClassification } from '../../src/store/classifications.repository.ts';
import { createTaxonomiesRepository } from '../../src/store/taxonomies.repository.ts';
import { up as migrate0019 } from '../../src/store/migrations/0019_custom_fields.ts';
import { storedResult } from '../support/classification-fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('typed custom field values in the store', () => {
  let db: TestDatabase;
  let taxonomyId = '';
  let jobId = '';
  let documentId = '';

  before(async () => {
    db = await createTestDatabase();
    // Idempotent: running it again over the migrated schema changes nothing and fails nothing.
    await migrate0019(db.db as never);
    const t = await createTaxonomiesRepository(db.db).create({
      name: 'contracts',
      labels: [{ name: 'Contracts' }],
      fields: [
        { name: 'value', type: 'number' },
        { name: 'ends', type: 'date' },
        { name: 'renews', type: 'boolean' },
        { name: 'kind', type: 'enum', values: ['Lease'] },
        { name: 'party', type: 'string' },
      ],
    });
    taxonomyId = t?.id ?? '';
    const j = await sql<{ id: string }>`insert into jobs (kind) values ('classify') returning id`.execute(db.db);
    jobId = j.rows[0]?.id ?? '';
    const r = await sql<{ id: string }>`
      insert into documents (path, folder, name, extension, size, mtime, sha256, status)
      values ('f/a.txt', 'f', 'a.txt', 'txt', 10, now(), 'sha', 'extracted') returning id`.execute(db.db);
    documentId = r.rows[0]?.id ?? '';
  });
  after(async () => {
    await db?.drop();
  });

  const result = (fields: NewClassification['fields']): NewClassification =>
    storedResult(
      { documentId, taxonomyId, jobId },
      { summaryLanguage: 'auto', tags: [{ label: 'Contracts', confidence: 0.9, needsReview: false }], primaryCategory: 'Contracts', fields },
    );

  const typed = async () =>
    (
      await sql<{ name: string; type: string; text_value: string; number_value: string | null; date_value: string | null; bool_value: boolean | null }>`
        select name, type, text_value, number_value::text, date_value::text, bool_value from classification_fields order by name`.execute(db.db)
    ).rows;

  it('writes one typed row per non-null value, and replaces them with the result', async () => {
    const repo = createClassificationsRepository(db.db);
    await repo.save(result({ value: 1234.5, ends: '2025-12-31', renews: true, kind: 'Lease', party: null }));
    assert.deepEqual(await typed(), [
      { name: 'ends', type: 'date', text_value: '2025-12-31', number_value: null, date_value: '2025-12-31', bool_value: null },
      { name: 'kind', type: 'enum', text_value: 'Lease', number_value: null, date_value: null, bool_value: null },
      { name: 'renews', type: 'boolean', text_value: 'true', number_value: null, date_value: null, bool_value: true },
      { name: 'value', type: 'number', text_value: '1234.5', number_value: '1234.5', date_value: null, bool_value: null },
    ]);
    // A forced rerun under the same key replaces the result and its typed values.
    await repo.save(result({ value: null, ends: null, renews: false, kind: null, party: 'Acme' }));
    assert.deepEqual(
      (await typed()).map((r) => [r.name, r.text_value]),
      [
        ['party', 'Acme'],
        ['renews', 'false'],
      ],
    );
  });

  it('a hand-written value of the wrong form is kept as text, never failing the write', async () => {
    const repo = createClassificationsRepository(db.db);
    await repo.save(result({ value: 'lots', ends: '2023-02-30', renews: 'yes', kind: 'Lease', party: 'x' }));
    const rows = await typed();
    assert.deepEqual(rows.find((r) => r.name === 'ends'), { name: 'ends', type: 'date', text_value: '2023-02-30', number_value: null, date_value: null, bool_value: null });
    assert.equal(rows.find((r) => r.name === 'value')?.number_value, null);
    assert.equal(rows.find((r) => r.name === 'renews')?.bool_value, null);
    const latest = await sql<{ n: number }>`select count(*)::int as n from documents d join classifications c on c.id = d.classification_id`.execute(db.db);
    assert.equal(latest.rows[0]?.n, 1);
  });
});

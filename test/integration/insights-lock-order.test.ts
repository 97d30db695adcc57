/**
 * A scan's upsert (documents.repository `upsertSeen`), an extraction's update (`applyExtraction`)
 * and a classification save (classifications.repository `writeResults`) of the same documents
 * must lock rows in the same order (id), or each can hold
 * a row the other waits for: PostgreSQL then rolls one back (deadlock, 40P01) and a job is retried
 * for nothing. The interleaving is forced with two blocker transactions holding one row each:
 * the scan is given its files in an order that, locked as given, would hold a row the extraction
 * needs, and the extraction its updates in the opposite order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../../src/store/database.ts';
import { type NewClassification, writeResults } from '../../src/store/classifications.repository.ts';
import { createDocumentsRepository, type DocumentUpdate, type SeenFile } from '../../src/store/documents.repository.ts';
import type { Database } from '../../src/store/schema.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { deferred } from '../support/deferred.ts';
import { waitFor } from '../support/wait.ts';
import { storedResult } from '../support/classification-fixtures.ts';

const MTIME = new Date('2024-01-02T03:04:05Z');
// ids in this order: x < v < w < y; paths in the opposite order, so path order is not id order.
const ROWS = [
  { id: '00000000-0000-4000-8000-000000000001', path: 'f/4-x.txt' },
  { id: '00000000-0000-4000-8000-000000000002', path: 'f/3-v.txt' },
  { id: '00000000-0000-4000-8000-000000000003', path: 'f/2-w.txt' },
  { id: '00000000-0000-4000-8000-000000000004', path: 'f/1-y.txt' },
] as const;
const [X, V, W, Y] = ROWS;

function seen(path: string): SeenFile {
  return { path, folder: 'f', name: path.slice(2), extension: 'txt', size: 10, mtime: MTIME };
}

function touched(id: string): DocumentUpdate {
  return { id, status: 'unchanged', size: 11, mtime: MTIME };
}

/** Backends of this database waiting for a lock. */
async function lockWaiters(db: Db): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** A transaction that holds a row lock until release() is called. */
function holdRow(db: Db, id: string): { held: Promise<void>; release: () => void; done: Promise<void> } {
  const held = deferred();
  const gate = deferred();
  const done = db.transaction().execute(async (trx: Transaction<Database>) => {
    await sql`select 1 from documents where id = ${id}::uuid for no key update`.execute(trx);
    held.resolve();
    await gate.promise;
  });
  return { held: held.promise, release: gate.resolve, done };
}

/**
 * Runs `first` and an extraction of x, v and y against each other with w and v held by blockers:
 * `first` starts and waits (for w, locking as given), the extraction starts and waits (it holds x
 * and waits for v), then both blockers go. Locked in different orders, the two would then each
 * wait for a row the other holds. Asserts neither failed; returns `first`'s outcome.
 */
async function againstExtraction<T>(db: Db, what: string, first: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  const docs = createDocumentsRepository(db);
  // Blockers on w (first's second row as given) and v (the extraction's second row as given).
  const bw = holdRow(db, W.id);
  const bv = holdRow(db, V.id);
  await Promise.all([bw.held, bv.held]);
  const started = first();
  await waitFor(() => lockWaiters(db), { what: `the ${what} to wait`, intervalMs: 20, until: (n) => n >= 1 });
  const extraction = db.transaction().execute((trx) => docs.applyExtraction(trx, [X.id, V.id, Y.id].map(touched)));
  await waitFor(() => lockWaiters(db), { what: 'the extraction to wait', intervalMs: 20, until: (n) => n >= 2 });
  bw.release();
  bv.release();
  await Promise.all([bw.done, bv.done]);

  const outcomes = await Promise.allSettled([started, extraction]);
  const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code?: string; message?: string }] : []));
  assert.deepEqual(errors.map((e) => `${e.code}: ${e.message}`), [], 'neither statement failed (40P01 is a deadlock)');
  return outcomes[0];
}

describe('scans, extractions and classification saves lock documents in the same order', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => {
    await t?.drop();
  });

  it('a scan and an extraction of the same documents, interleaved, do not deadlock', async () => {
    const db = t.db;
    // Physical order x, v, w, y: the extraction's plan meets x first whatever join it picks.
    for (const r of ROWS) {
      await db
        .insertInto('documents')
        .values({ id: r.id, path: r.path, folder: 'f', name: r.path.slice(2), extension: 'txt', size: 10, mtime: MTIME })
        .execute();
    }
    const docs = createDocumentsRepository(db);
    // Locked as given, the scan would hold y and wait for w.
    const scan = await againstExtraction(db, 'scan', () => docs.upsertSeen([Y.path, W.path, X.path].map(seen)));
    const rows = await db.selectFrom('documents').select(['id', 'size']).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => Number(r.size)), [11, 11, 10, 11], 'the extraction wrote x, v and y');
    assert.equal(scan.status, 'fulfilled');
  });

  it('a classification save and an extraction of the same documents, interleaved, do not deadlock', async () => {
    const db = t.db;
    await sql`truncate documents cascade`.execute(db);
    // Physical order y, w, v, x (the reverse of id order), so a plan that visits rows as stored or
    // in the order given meets y first.
    for (const r of [...ROWS].reverse()) {
      await db
        .insertInto('documents')
        .values({ id: r.id, path: r.path, folder: 'f', name: r.path.slice(2), extension: 'txt', size: 10, mtime: MTIME, sha256: 'sha', status: 'extracted' })
        .execute();
    }
    const taxonomy = await sql<{ id: string }>`select id from taxonomies limit 1`.execute(db);
    const job = await sql<{ id: string }>`insert into jobs (kind) values ('classify') returning id`.execute(db);
    const result = (documentId: string): NewClassification =>
      storedResult({ documentId, taxonomyId: taxonomy.rows[0]?.id ?? '', jobId: job.rows[0]?.id ?? '' });
    // Locked as given, the save would hold y and wait for w.
    const save = await againstExtraction(db, 'save', () => writeResults(db, [Y.id, W.id, X.id].map(result)));
    assert.equal(save.status, 'fulfilled');
    const classified = await db.selectFrom('documents').select('id').where('classification_id', 'is not', null).orderBy('id').execute();
    assert.deepEqual(classified.map((r) => r.id), [X.id, W.id, Y.id], 'the save pointed x, w and y at their results');
  });
});

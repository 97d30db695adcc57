/**
 * Oldest and newest modified of folder insights come from per-folder bounds (migration 0008),
 * recomputed for folders marked as changed. They must be exact after inserts, new modified
 * values, (un)deletes, hard deletes and moves, before and after compaction, and when a change
 * commits while a compaction that cannot see it runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Db } from '../../src/store/database.ts';
import { createDocumentsRepository, type DocumentUpdate } from '../../src/store/documents.repository.ts';
import { createInsightsRepository } from '../../src/store/insights.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { deferred } from '../support/deferred.ts';

const day = (d: string) => new Date(`${d}T00:00:00Z`);

/** Oldest and newest modified of the live documents inside folder, from the document rows. */
async function reference(db: Db, folder: string): Promise<[Date | null, Date | null]> {
  const inside = folder === '' ? sql`true` : sql`(folder = ${folder} or folder like ${`${folder}/%`})`;
  const r = await sql<{ oldest: Date | null; newest: Date | null }>`
    select min(coalesce(doc_modified, mtime)) as oldest, max(coalesce(doc_modified, mtime)) as newest
    from documents where deleted_at is null and ${inside}`.execute(db);
  return [r.rows[0]?.oldest ?? null, r.rows[0]?.newest ?? null];
}

const FOLDERS = ['', 'a', 'a/b', 'c'];

async function assertBounds(db: Db, step: string): Promise<void> {
  const insights = createInsightsRepository(db);
  for (const folder of FOLDERS) {
    const got = await insights.folderAggregates(folder);
    assert.deepEqual([got.oldestModified, got.newestModified], await reference(db, folder), `${step}: bounds of "${folder}"`);
  }
}

/** After a compaction, the stored bounds alone (no marks left) are exact. */
async function assertCompacted(db: Db, step: string): Promise<void> {
  await sql`select docsight_folder_bounds_compact()`.execute(db);
  const marks = await sql<{ n: number }>`select count(*)::int as n from folder_bound_marks`.execute(db);
  assert.equal(marks.rows[0]?.n, 0, `${step}: no marks left`);
  const stored = await sql<{ folder: string; oldest: Date; newest: Date }>`
    select folder, oldest, newest from folder_bounds order by folder`.execute(db);
  const scratch = await sql<{ folder: string; oldest: Date; newest: Date }>`
    select folder, min(coalesce(doc_modified, mtime)) as oldest, max(coalesce(doc_modified, mtime)) as newest
    from documents where deleted_at is null group by folder order by folder`.execute(db);
  assert.deepEqual(stored.rows, scratch.rows, `${step}: stored bounds equal the documents'`);
  await assertBounds(db, step);
}

function extracted(id: string, modified: Date | null): DocumentUpdate {
  return {
    id, status: 'extracted', size: 10, mtime: day('2020-01-01'), sha256: 's', mimeType: 'text/plain', format: 'text',
    title: null, author: null, docCreated: null, docModified: modified?.toISOString() ?? null, language: null,
    pageCount: null, wordCount: null, metadata: {}, text: 't', textTruncated: false,
  };
}

describe('folder bounds (oldest/newest modified)', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => {
    await t?.drop();
  });

  it('are exact after inserts, updates, deletes and moves, compacted or not', async () => {
    const db = t.db;
    const docs = createDocumentsRepository(db);
    const files = [
      ['a/1.txt', '2019-05-01'], ['a/2.txt', '2021-05-01'], ['a/b/3.txt', '2018-05-01'],
      ['a/b/4.txt', '2023-05-01'], ['c/5.txt', '2020-05-01'], ['6.txt', '2022-05-01'],
    ] as const;
    const rows = await docs.upsertSeen(files.map(([p, d]) => ({
      path: p, folder: p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '', name: p.slice(p.lastIndexOf('/') + 1),
      extension: 'txt', size: 10, mtime: day(d),
    })));
    const id = (p: string) => rows.find((r) => r.path === p)?.id ?? '';
    await assertBounds(db, 'inserted');
    await assertCompacted(db, 'inserted');

    // The oldest of a/b gets a later modified (extraction found doc_modified): a/b's oldest moves up.
    await db.transaction().execute((trx) => docs.applyExtraction(trx, [extracted(id('a/b/3.txt'), day('2024-01-01'))]));
    await assertBounds(db, 'oldest of a/b modified later');
    // The newest of a/b leaves (vanished), and comes back (seen again).
    await docs.markDeleted([id('a/b/3.txt')]);
    await assertBounds(db, 'newest of a/b deleted');
    await assertCompacted(db, 'newest of a/b deleted');
    await docs.upsertSeen([{ path: 'a/b/3.txt', folder: 'a/b', name: '3.txt', extension: 'txt', size: 10, mtime: day('2020-01-01') }]);
    await assertBounds(db, 'undeleted');
    // Moves: the oldest of the tree from a to c, then the newest of c to the root.
    await sql`update documents set path = 'c/1.txt', folder = 'c' where id = ${id('a/1.txt')}::uuid`.execute(db);
    await assertBounds(db, 'moved a → c');
    await sql`update documents set path = '7.txt', folder = '' where id = ${id('a/b/3.txt')}::uuid`.execute(db);
    await assertBounds(db, 'moved a/b → root');
    await assertCompacted(db, 'moved');
    // Hard deletes, down to an empty folder.
    await sql`delete from documents where folder = 'c'`.execute(db);
    await assertBounds(db, 'c hard-deleted');
    await assertCompacted(db, 'c hard-deleted');
    // An update that changes no modified value leaves no mark.
    await sql`update documents set title = 'x'`.execute(db);
    const marks = await sql<{ n: number }>`select count(*)::int as n from folder_bound_marks`.execute(db);
    assert.equal(marks.rows[0]?.n, 0, 'an update of other columns marks nothing');
    await sql`truncate documents cascade`.execute(db);
    await assertCompacted(db, 'truncated');
  });

  it('stay exact when a change commits after a compaction that could not see it', async () => {
    const db = t.db;
    const docs = createDocumentsRepository(db);
    const rows = await docs.upsertSeen([
      { path: 'a/old.txt', folder: 'a', name: 'old.txt', extension: 'txt', size: 1, mtime: day('2001-01-01') },
      { path: 'a/new.txt', folder: 'a', name: 'new.txt', extension: 'txt', size: 1, mtime: day('2002-01-01') },
    ]);
    const oldId = rows.find((r) => r.path === 'a/old.txt')?.id ?? '';
    await assertCompacted(db, 'start');

    // A writer removes a's oldest but has not committed; a compaction commits meanwhile (it sees
    // the old state, and not the writer's mark), then the writer commits.
    const gate = deferred();
    const changed = deferred();
    const writer = db.transaction().execute(async (trx) => {
      await createDocumentsRepository(trx).markDeleted([oldId]);
      changed.resolve();
      await gate.promise;
    });
    await changed.promise;
    await sql`select docsight_folder_bounds_compact()`.execute(db);
    await assertBounds(db, 'while the writer is open');
    gate.resolve();
    await writer;
    await assertBounds(db, 'after the writer committed');
    await assertCompacted(db, 'after the writer committed');

    // The other way round: the compaction's transaction stays open while a writer commits.
    const rows2 = await docs.upsertSeen([{ path: 'a/older.txt', folder: 'a', name: 'older.txt', extension: 'txt', size: 1, mtime: day('1999-01-01') }]);
    const gate2 = deferred();
    const compacted = deferred();
    const compactor = db.transaction().execute(async (trx) => {
      await sql`select docsight_folder_bounds_compact()`.execute(trx);
      compacted.resolve();
      await gate2.promise;
    });
    await compacted.promise;
    await docs.markDeleted([rows2[0]?.id ?? '']);
    await assertBounds(db, 'writer committed, compactor open');
    gate2.resolve();
    await compactor;
    await assertBounds(db, 'both committed');
    await assertCompacted(db, 'both committed');
  });
});

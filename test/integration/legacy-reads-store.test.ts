/**
 * The store side of the original design's reads (issue 19): count_files' one statement (the
 * folder's row with the count), the newest documents of a folder in order through the (mtime, id)
 * index of 0027, and the planner statistics a scan refreshes when it wrote many rows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDocumentsRepository } from '../../src/store/documents.repository.ts';
import { createFoldersRepository } from '../../src/store/folders.repository.ts';
import { createInsightsRepository } from '../../src/store/insights.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('store reads of the original design\'s routes', () => {
  let tdb: TestDatabase;
  const N = 200;

  before(async () => {
    tdb = await createTestDatabase();
  });
  after(async () => {
    await tdb?.drop();
  });

  const reltuples = async () =>
    Number((await sql<{ t: number }>`select reltuples::float8 as t from pg_class where oid = 'documents'::regclass`.execute(tdb.db)).rows[0]?.t);

  it('refreshes the statistics of a never analysed table after a walk, and not after a small one', async () => {
    const documents = createDocumentsRepository(tdb.db);
    // Two files share each modification time, so the order needs the id too.
    await documents.upsertSeen(
      Array.from({ length: N }, (_, i) => ({
        path: `Clients/Client ${i % 4}/doc ${i}.docx`,
        folder: `Clients/Client ${i % 4}`,
        name: `doc ${i}.docx`,
        extension: 'docx',
        size: 1000 + i,
        mtime: new Date(Date.UTC(2020, 0, 1 + Math.floor(i / 2))),
      })),
    );
    assert.equal(await reltuples(), -1);
    assert.equal(await documents.refreshStatistics(N), true);
    assert.equal(await reltuples(), N);
    assert.equal(await documents.refreshStatistics(60), false, 'under 50 rows + 10 % of the table');
    assert.equal(await documents.refreshStatistics(71), true);
  });

  it('counts a folder with its row in one statement: recorded and walked, recorded only, not recorded', async () => {
    const insights = createInsightsRepository(tdb.db);
    const folders = createFoldersRepository(tdb.db);
    const job = (await sql<{ id: string }>`insert into jobs (kind, status, params) values ('scan', 'running', '{}') returning id`.execute(tdb.db)).rows[0]?.id ?? '';
    await folders.upsertSeen(['Clients', 'Clients/Client 1'], job);
    await folders.markScanned('Clients/Client 1', job);
    assert.deepEqual(await insights.countWithFolder('Clients'), { count: N, recorded: { lastScannedAt: null } });
    const walked = await insights.countWithFolder('Clients/Client 1');
    assert.equal(walked.count, N / 4);
    assert.ok(walked.recorded?.lastScannedAt instanceof Date);
    assert.deepEqual(await insights.countWithFolder('Elsewhere'), { count: 0, recorded: null });
    assert.equal(await insights.countDocuments('Clients/Client 1'), N / 4);
  });

  it('lists the newest documents of a folder by modification time, then id, both descending', async () => {
    const insights = createInsightsRepository(tdb.db);
    const page = await insights.listDocuments({ folder: 'Clients', sort: 'mtime', order: 'desc', limit: 10 });
    const all = (await sql<{ id: string; mtime: Date }>`select id, mtime from documents`.execute(tdb.db)).rows;
    all.sort((a, z) => z.mtime.getTime() - a.mtime.getTime() || (z.id < a.id ? -1 : z.id > a.id ? 1 : 0));
    assert.deepEqual(page.items.map((d) => d.id), all.slice(0, 10).map((d) => d.id));
    const sub = await insights.listDocuments({ folder: 'Clients/Client 3', sort: 'mtime', order: 'desc', limit: 3 });
    assert.deepEqual(sub.items.map((d) => d.name), ['doc 199.docx', 'doc 195.docx', 'doc 191.docx']);
  });
});

/**
 * Folder insights from the per-folder summary rows (migrations 0007 and 0008) must equal a
 * from-scratch computation over every document row (the query insights ran before, kept here as
 * the reference) after any sequence of writes: scans of new and known files, extraction
 * successes, failures and unchanged files, rescans of changed files, vanished and deleted files,
 * classification, reclassification under the same key (rewritten in place), hard deletes, moves
 * to another folder, compactions, and writes of two transactions at once. Also the migrations'
 * backfill of data written before them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import type { Bucket } from '../../src/contract.ts';
import { descendantRange } from '../../src/domain/paths.ts';
import type { Db } from '../../src/store/database.ts';
import { createClassificationsRepository } from '../../src/store/classifications.repository.ts';
import { createDocumentsRepository, type DocumentUpdate, type SeenFile } from '../../src/store/documents.repository.ts';
import { createInsightsRepository, type FolderAggregates } from '../../src/store/insights.repository.ts';
import { migrations } from '../../src/store/migrations/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { seeded } from '../support/docx-fixtures.ts';

/** The insights query before migration 0007: every document row of the folder, every time. */
async function referenceAggregates(db: Db, folder: string): Promise<FolderAggregates> {
  const range = descendantRange(folder);
  const where = range ? sql`deleted_at is null and path >= ${range.lower} and path < ${range.upper}` : sql`deleted_at is null`;
  const rows = await sql<{
    g: number;
    status: string | null;
    format: string | null;
    extension: string | null;
    author: string | null;
    year: number | null;
    language: string | null;
    error_code: string | null;
    count: string;
    size: string | null;
    oldest: Date | null;
    newest: Date | null;
  }>`
    select grouping(status, format, extension, author, year, language, error_code) as g,
      status, format, extension, author, year, language, error_code,
      count(*) as count, sum(size) as size, min(modified) as oldest, max(modified) as newest
    from (
      select status, format, extension, author, language,
        case when status = 'failed' then error_code end as error_code,
        coalesce(doc_modified, mtime) as modified,
        extract(year from coalesce(doc_modified, mtime))::int as year, size
      from documents where ${where}
    ) d
    group by grouping sets ((), (status), (format), (extension), (author), (year), (language), (error_code))`.execute(db);
  const out: FolderAggregates = {
    documentCount: 0, totalSize: 0, oldestModified: null, newestModified: null,
    byStatus: [], byFormat: [], byExtension: [], byAuthor: [], byYear: [], byLanguage: [], failuresByCode: [], subfolders: [],
    classification: { classified: 0, classifiable: 0, coverage: 0, needsReview: 0, reviewed: 0, byTag: [], byCategory: [], costUsd: 0, inputTokens: 0, outputTokens: 0 },
  };
  const ALL = 0b1111111;
  const only = (bit: number) => ALL & ~(1 << (6 - bit));
  for (const r of rows.rows) {
    const b = (key: string | number | null): Bucket => ({ key: key === null ? null : String(key), count: Number(r.count), size: Number(r.size ?? 0) });
    if (r.g === ALL) {
      out.documentCount = Number(r.count);
      out.totalSize = Number(r.size ?? 0);
      out.oldestModified = r.oldest;
      out.newestModified = r.newest;
    } else if (r.g === only(0)) out.byStatus.push(b(r.status));
    else if (r.g === only(1)) out.byFormat.push(b(r.format));
    else if (r.g === only(2)) out.byExtension.push(b(r.extension));
    else if (r.g === only(3)) out.byAuthor.push(b(r.author));
    else if (r.g === only(4)) out.byYear.push(b(r.year));
    else if (r.g === only(5)) out.byLanguage.push(b(r.language));
    else if (r.g === only(6) && r.error_code !== null) out.failuresByCode.push(b(r.error_code));
  }
  const byCount = (a: Bucket, z: Bucket) => z.count - a.count || String(a.key).localeCompare(String(z.key));
  for (const list of [out.byStatus, out.byFormat, out.byExtension, out.byAuthor, out.byLanguage, out.failuresByCode]) list.sort(byCount);
  out.byYear.sort((a, z) => String(a.key).localeCompare(String(z.key)));
  const offset = folder === '' ? 1 : folder.length + 2;
  const sub = await sql<{ key: string; count: string; size: string }>`
    select split_part(substr(path, ${offset}), '/', 1) as key, count(*) as count, sum(size) as size
    from documents where ${where} and strpos(substr(path, ${offset}), '/') > 0
    group by 1 order by 1`.execute(db);
  out.subfolders = sub.rows.map((r) => ({ key: folder === '' ? r.key : `${folder}/${r.key}`, count: Number(r.count), size: Number(r.size) }));
  const totals = await sql<{ classifiable: number; classified: number; review: number }>`
    select count(*) filter (where d.status = 'extracted')::int as classifiable,
           count(c.id) filter (where d.status = 'extracted')::int as classified,
           count(*) filter (where c.needs_review)::int as review
    from documents d left join classifications c on c.id = d.classification_id where ${where}`.execute(db);
  const tags = await sql<{ key: string; count: number }>`
    select t->>'label' as key, count(*)::int as count
    from documents d join classifications c on c.id = d.classification_id, jsonb_array_elements(c.tags) t
    where ${where} group by 1 order by 2 desc, 1`.execute(db);
  const categories = await sql<{ key: string; count: number }>`
    select c.primary_category as key, count(*)::int as count
    from documents d join classifications c on c.id = d.classification_id
    where ${where} group by 1 order by 2 desc, 1`.execute(db);
  const spend = await sql<{ cost: number; i: number; o: number }>`
    select coalesce(sum(c.cost_usd), 0) as cost, coalesce(sum(c.input_tokens), 0)::bigint as i,
           coalesce(sum(c.output_tokens), 0)::bigint as o
    from documents d join classifications c on c.document_id = d.id where ${where}`.execute(db);
  const t = totals.rows[0] ?? { classifiable: 0, classified: 0, review: 0 };
  const s = spend.rows[0] ?? { cost: 0, i: 0, o: 0 };
  out.classification = {
    classified: t.classified,
    classifiable: t.classifiable,
    coverage: t.classifiable > 0 ? Math.round((t.classified / t.classifiable) * 1000) / 1000 : 0,
    needsReview: t.review,
    reviewed: 0, // read beside the summary rows, by the service
    byTag: tags.rows.map((r) => ({ key: r.key, count: r.count, size: 0 })),
    byCategory: categories.rows.map((r) => ({ key: r.key, count: r.count, size: 0 })),
    costUsd: Number(s.cost),
    inputTokens: Number(s.i),
    outputTokens: Number(s.o),
  };
  return out;
}

// Siblings whose names share a prefix ("A", "A b", "AB") check the byte-range rule.
const FOLDERS = ['', 'A', 'A/x', 'A/x/deep', 'A/y', 'A b', 'AB', 'B', 'B/z', 'Ç/é'];
const CHECKED = [...FOLDERS, 'A/x/none', 'C'];
const AUTHORS = ['Ann', 'Bob', null, 'Zoë'];
const TAGS = ['Compliance', 'Meeting Notes', 'Financial Reports', 'Risk Management'];
const FORMATS = [['docx', 'docx'], ['pdf', 'pdf'], ['txt', 'text']] as const;

interface World {
  db: Db;
  rand: () => number;
  paths: string[];
  jobId: string;
  taxonomyId: string;
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}
function some<T>(rand: () => number, list: readonly T[], p: number): T[] {
  return list.filter(() => rand() < p);
}

function seenFile(w: World, p: string): SeenFile {
  const i = p.lastIndexOf('/');
  const name = p.slice(i + 1);
  return {
    path: p,
    folder: i < 0 ? '' : p.slice(0, i),
    name,
    extension: name.slice(name.lastIndexOf('.') + 1),
    size: 100 + Math.floor(w.rand() * 10_000),
    mtime: new Date(Date.UTC(2018 + Math.floor(w.rand() * 7), Math.floor(w.rand() * 12), 1 + Math.floor(w.rand() * 28), 12)),
  };
}

async function liveIds(w: World, where: 'all' | 'extracted' = 'all'): Promise<string[]> {
  let q = w.db.selectFrom('documents').select('id').orderBy('path');
  if (where === 'extracted') q = q.where('status', '=', 'extracted').where('deleted_at', 'is', null);
  return (await q.execute()).map((r) => r.id);
}

const ACTIONS: Record<string, (w: World) => Promise<void>> = {
  async scan(w) {
    const docs = createDocumentsRepository(w.db);
    await docs.upsertSeen(some(w.rand, w.paths, 0.3).map((p) => seenFile(w, p)));
  },
  async extract(w) {
    const docs = createDocumentsRepository(w.db);
    const ids = some(w.rand, await liveIds(w), 0.4);
    const updates: DocumentUpdate[] = ids.map((id) => {
      const r = w.rand();
      const size = 100 + Math.floor(w.rand() * 10_000);
      const mtime = new Date(Date.UTC(2020, Math.floor(w.rand() * 12), 1 + Math.floor(w.rand() * 28)));
      if (r < 0.15) return { id, status: 'failed', size, mtime, sha256: null, mimeType: null, format: null, errorCode: pick(w.rand, ['corrupt', 'encrypted', 'too_large']), errorMessage: 'x' };
      if (r < 0.3) return { id, status: 'unchanged', size, mtime };
      const [format, mime] = pick(w.rand, FORMATS);
      return {
        id,
        status: r < 0.38 ? 'unsupported' : 'extracted',
        size,
        mtime,
        sha256: `sha-${Math.floor(w.rand() * 3)}`,
        mimeType: mime,
        format,
        title: 't',
        author: pick(w.rand, AUTHORS),
        docCreated: null,
        docModified: w.rand() < 0.3 ? null : new Date(Date.UTC(2015 + Math.floor(w.rand() * 10), 5, 1)).toISOString(),
        language: pick(w.rand, ['eng', 'nld', null]),
        pageCount: 1,
        wordCount: 10,
        metadata: {},
        text: 'some text',
        textTruncated: false,
      };
    });
    await w.db.transaction().execute((trx) => docs.applyExtraction(trx, updates));
  },
  async vanish(w) {
    await createDocumentsRepository(w.db).markDeleted(some(w.rand, await liveIds(w), 0.1));
  },
  async rescanFolder(w) {
    // A complete walk of a folder that saw only some of its files: the others are gone.
    const folder = pick(w.rand, FOLDERS);
    const docs = createDocumentsRepository(w.db);
    const since = new Date((await sql<{ now: Date }>`select now() as now`.execute(w.db)).rows[0]?.now ?? new Date());
    const inside = w.paths.filter((p) => folder === '' || p.startsWith(`${folder}/`));
    await docs.upsertSeen(some(w.rand, inside, 0.7).map((p) => seenFile(w, p)));
    await docs.markDeletedNotSeenSince(folder, since);
  },
  async classify(w) {
    const cls = createClassificationsRepository(w.db);
    for (const id of some(w.rand, await liveIds(w, 'extracted'), 0.3)) {
      const tags = some(w.rand, TAGS, 0.4).map((label) => ({ label, confidence: w.rand(), needsReview: w.rand() < 0.3 }));
      await cls.save({
        documentId: id,
        // Few distinct keys, so a save often rewrites an existing result in place.
        contentSha256: `sha-${Math.floor(w.rand() * 3)}`,
        taxonomyId: w.taxonomyId,
        taxonomyVersion: 1,
        model: pick(w.rand, ['m1', 'm2']),
        promptVersion: 'p1',
        summaryLanguage: 'auto',
        tags,
        primaryCategory: pick(w.rand, TAGS),
        summary: 's',
        language: 'eng',
        strategy: 'whole',
        chunks: 1,
        inputTokens: Math.floor(w.rand() * 1000),
        outputTokens: Math.floor(w.rand() * 100),
        costUsd: Math.floor(w.rand() * 1_000_000) / 1_000_000,
        needsReview: tags.some((t) => t.needsReview),
        jobId: w.jobId,
      });
    }
  },
  async deleteClassification(w) {
    await sql`delete from classifications where id = (select id from classifications order by md5(id::text || ${String(w.rand())}) limit 1)`.execute(w.db);
  },
  async deleteDocument(w) {
    await sql`delete from documents where id = (select id from documents order by md5(id::text || ${String(w.rand())}) limit 1)`.execute(w.db);
  },
  async move(w) {
    // The application never moves a row (a moved file is a new path), but a hand-made move must
    // keep every summary right: the old folder loses the document, the new one gains it.
    const folder = pick(w.rand, FOLDERS);
    await sql`
      update documents set folder = ${folder}, path = ${folder === '' ? '' : `${folder}/`} || 'moved-' || left(md5(random()::text), 8) || '-' || name
      where id = (select id from documents order by md5(id::text || ${String(w.rand())}) limit 1)`.execute(w.db);
  },
  async compact(w) {
    await sql`select docsight_folder_stats_compact()`.execute(w.db);
    await sql`select docsight_folder_bounds_compact()`.execute(w.db);
  },
};

const WEIGHTS: [string, number][] = [
  ['scan', 4], ['extract', 5], ['vanish', 1], ['rescanFolder', 1], ['classify', 4],
  ['deleteClassification', 0.3], ['deleteDocument', 0.3], ['move', 0.5], ['compact', 1],
];

function nextAction(rand: () => number): string {
  const total = WEIGHTS.reduce((s, [, x]) => s + x, 0);
  let r = rand() * total;
  for (const [name, x] of WEIGHTS) {
    r -= x;
    if (r < 0) return name;
  }
  return 'scan';
}

async function assertSame(db: Db, step: string): Promise<void> {
  const insights = createInsightsRepository(db);
  for (const folder of CHECKED) {
    const [got, want, count] = await Promise.all([insights.folderAggregates(folder), referenceAggregates(db, folder), insights.countDocuments(folder)]);
    assert.deepStrictEqual(got, want, `${step}: insights of "${folder}" differ from the scan of its documents`);
    assert.equal(count, want.documentCount, `${step}: document count of "${folder}"`);
  }
}

/**
 * A scan's upsert and an extraction's update of the same documents lock rows in different orders
 * and can deadlock (documents.repository, with or without summaries); PostgreSQL rolls one back
 * and the worker's job retry runs it again. Do the same here, so the test checks the summaries.
 */
async function retryDeadlock(run: () => Promise<void> | undefined): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run();
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== '40P01' || attempt >= 5) throw e;
    }
  }
}

async function setUp(db: Db, seed: number): Promise<World> {
  const rand = seeded(seed);
  const paths = Array.from({ length: 80 }, (_, i) => `${pick(rand, FOLDERS) || ''}${FOLDERS.length ? '/' : ''}f${i}.${pick(rand, ['docx', 'pdf', 'txt'])}`.replace(/^\//, ''));
  const job = await db.insertInto('jobs').values({ kind: 'classify', params: '{}', stats: '{}' }).returning('id').executeTakeFirstOrThrow();
  const tax = await db.selectFrom('taxonomies').select('id').executeTakeFirstOrThrow();
  return { db, rand, paths, jobId: job.id, taxonomyId: tax.id };
}

describe('folder insights from summary rows', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => {
    await t?.drop();
  });

  it('equal the scan of every document after a random sequence of writes', async () => {
    const w = await setUp(t.db, 7);
    await assertSame(t.db, 'empty');
    for (let step = 0; step < 120; step++) {
      const name = nextAction(w.rand);
      const action = ACTIONS[name];
      assert.ok(action);
      await action(w);
      await assertSame(t.db, `step ${step} (${name})`);
    }
    const deltas = await sql<{ n: string }>`select count(*) as n from folder_stat_deltas`.execute(t.db);
    const base = await sql<{ n: string }>`select count(*) as n from folder_stats`.execute(t.db);
    assert.ok(Number(base.rows[0]?.n) > 0, 'the compaction folded deltas into base rows');
    assert.ok(Number(deltas.rows[0]?.n) < 2000, 'deltas stay few');
  });

  it('equal the scan of every document when two transactions write at once', async () => {
    const w = await setUp(t.db, 11);
    const other = { ...w, rand: seeded(12) };
    for (let round = 0; round < 40; round++) {
      const a = nextAction(w.rand);
      const b = nextAction(other.rand);
      // Hard deletes take the rebuild lock; keep them out of the concurrent pairs.
      const safe = (n: string) => (n.startsWith('delete') ? 'extract' : n);
      await Promise.all([retryDeadlock(() => ACTIONS[safe(a)]?.(w)), retryDeadlock(() => ACTIONS[safe(b)]?.(other))]);
      await assertSame(t.db, `round ${round} (${a} ‖ ${b})`);
    }
  });
});

describe('migrations 0007 and 0008 backfill', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  after(async () => {
    await t?.drop();
  });

  it('summarises the documents written before it', async () => {
    const migrator = new Migrator({
      db: t.db,
      provider: { getMigrations: async () => migrations },
      migrationTableName: 'docsight_migrations',
      migrationLockTableName: 'docsight_migrations_lock',
    });
    const names = Object.keys(migrations);
    const before0007 = names[names.indexOf('0007_folder_stats') - 1];
    assert.ok(before0007);
    const first = await migrator.migrateTo(before0007);
    assert.equal(first.error, undefined);
    // The repositories of today write the columns that migrations after 0009 add (documents inside
    // files, OCR, classification warnings); those migrations are idempotent, so they run again, as
    // no-ops, after 0007 and 0008.
    // 0028 is not one of them: it redefines 0007's functions, so it runs only after them.
    const addColumnsOfToday = async () => {
      for (const name of names.filter((n) => n >= '0010' && n !== '0028_summary_stale_pii')) await migrations[name]?.up(t.db as never);
    };
    await addColumnsOfToday();
    const w = await setUp(t.db, 3);
    for (let step = 0; step < 30; step++) {
      const name = nextAction(w.rand);
      if (name === 'compact') continue;
      await ACTIONS[name]?.(w);
    }
    const rest = await migrator.migrateToLatest();
    assert.equal(rest.error, undefined);
    await assertSame(t.db, 'after the backfill');
    await ACTIONS.classify?.(w);
    await ACTIONS.extract?.(w);
    await assertSame(t.db, 'after writes on the backfilled rows');
    // Down removes everything 0007 and 0008 made; up again backfills what is there now.
    const down = await migrator.migrateTo(before0007);
    assert.equal(down.error, undefined);
    const left = await sql<{ n: number }>`
      select (select count(*) from pg_proc where proname like 'docsight\_%stats%' or proname like 'docsight\_%bounds%')::int
           + (select count(*) from pg_class where relname like 'folder\_stat%' or relname like 'folder\_bound%')::int as n`.execute(t.db);
    assert.equal(left.rows[0]?.n, 0, 'down drops the functions and tables of 0007 and 0008');
    await addColumnsOfToday();
    await ACTIONS.extract?.(w);
    const again = await migrator.migrateToLatest();
    assert.equal(again.error, undefined);
    await assertSame(t.db, 'after down and up again');
  });
});

/**
 * Stale documents and personal data of folder insights from the summary rows (migration 0028)
 * equal the queries over every document of the folder that they replaced, over a folder tree,
 * after inserts, status changes, (un)deletes, hard deletes, moves, new modified dates and new
 * personal data, written in sessions of several time zones, with documents exactly at and next
 * to the cutoffs and the bounds of the cutoffs' months.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { PersonalDataAggregates } from '../../src/contract.ts';
import { descendantRange } from '../../src/domain/paths.ts';
import type { Db } from '../../src/store/database.ts';
import { createInsightsRepository } from '../../src/store/insights.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { seeded } from '../support/docx-fixtures.ts';

/** The stale count before migration 0028: every document of the folder before the cutoff. */
async function liveStale(db: Db, folder: string, cutoff: Date): Promise<{ documents: number; bytes: number }> {
  const range = descendantRange(folder);
  const within = range ? sql`and d.path >= ${range.lower} and d.path < ${range.upper}` : sql``;
  const r = await sql<{ n: string; bytes: string }>`
    select count(*)::text as n, coalesce(sum(d.size), 0)::text as bytes
    from documents d
    where coalesce(d.doc_modified, d.mtime) < ${cutoff}::timestamptz and d.deleted_at is null ${within}`.execute(db);
  return { documents: Number(r.rows[0]?.n ?? 0), bytes: Number(r.rows[0]?.bytes ?? 0) };
}

/** The personal data roll-up before migration 0028. */
async function livePersonalData(db: Db, folder: string): Promise<PersonalDataAggregates> {
  const range = descendantRange(folder);
  const within = range ? sql`and d.path >= ${range.lower} and d.path < ${range.upper}` : sql``;
  const r = await sql<{ kind: string | null; documents: string; findings: string }>`
    select k.kind, count(distinct d.id)::text as documents, coalesce(sum((d.pii -> k.kind ->> 'count')::int), 0)::text as findings
    from documents d cross join lateral unnest(d.pii_kinds) as k(kind)
    where cardinality(d.pii_kinds) > 0 and d.deleted_at is null ${within}
    group by grouping sets ((k.kind), ())`.execute(db);
  const total = r.rows.find((x) => x.kind === null);
  const byKind = r.rows.flatMap((x) => (x.kind === null ? [] : [{ kind: x.kind, documents: Number(x.documents), findings: Number(x.findings) }]));
  byKind.sort((a, z) => z.documents - a.documents || a.kind.localeCompare(z.kind));
  return { documents: Number(total?.documents ?? 0), findings: Number(total?.findings ?? 0), byKind } as PersonalDataAggregates;
}

// Siblings whose names share a prefix ("A", "A b", "AB") check the byte-range rule.
const FOLDERS = ['', 'A', 'A/x', 'A/x/deep', 'A b', 'AB', 'B', 'Ç/é'];
const CHECKED = [...FOLDERS, 'A/x/none', 'C'];
/** Mid-month, a month's first instant, its last millisecond, and far ones (the '-' and '~' buckets). */
const CUTOFFS = [
  '2019-03-15T10:20:30.123Z',
  '2019-04-01T00:00:00.000Z',
  '2019-03-31T23:59:59.999Z',
  '2019-12-31T23:59:59.999Z',
  '0001-01-01T00:00:00.000Z',
  '10000-01-01T00:00:00.000Z',
  '12000-06-01T00:00:00.000Z',
];
/** Modified dates at and next to the cutoffs and month bounds, a time-zone trap, far ones. */
const EDGES = [
  ...CUTOFFS,
  '2019-03-15T10:20:30.122Z',
  '2019-03-15T10:20:30.124Z',
  '2019-03-01T00:00:00.000Z',
  '2019-02-28T23:59:59.999Z',
  '2019-03-31T23:30:00-02:00',
  '2019-04-01T00:00:00.001Z',
  '2020-01-01T00:00:00.000Z',
  '0500-06-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '11000-01-01T00:00:00.000Z',
  'infinity',
  '-infinity',
];
/** A cutoff as a Date (JavaScript writes years past 9999 as +0yyyyy). */
const asDate = (cutoff: string) => new Date(cutoff.replace(/^(\d{5})-/, '+0$1-'));
const KINDS = ['email', 'iban', 'phone', 'bsn'];
const ZONES = ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Kolkata'];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

interface World {
  db: Db;
  rand: () => number;
  next: number;
}

function modified(w: World): string {
  if (w.rand() < 0.5) return pick(w.rand, EDGES);
  return new Date(Date.UTC(2016 + Math.floor(w.rand() * 6), Math.floor(w.rand() * 12), 1 + Math.floor(w.rand() * 28), Math.floor(w.rand() * 24))).toISOString();
}

function pii(w: World): { pii: string | null; kinds: string[] } {
  if (w.rand() < 0.5) return { pii: null, kinds: [] };
  const kinds = KINDS.filter(() => w.rand() < 0.5);
  const obj = Object.fromEntries(kinds.map((k) => [k, { count: 1 + Math.floor(w.rand() * 5), samples: [] }]));
  return { pii: JSON.stringify(obj), kinds };
}

/** A random live document (or any, with `all`), as a subquery. */
const one = (w: World, all = false) =>
  sql`(select id from documents ${all ? sql`` : sql`where deleted_at is null`} order by md5(id::text || ${String(w.rand())}) limit 1)`;

const ACTIONS: Record<string, (w: World, db: Db) => Promise<void>> = {
  async insert(w, db) {
    for (let i = 0; i < 1 + Math.floor(w.rand() * 6); i++) {
      const folder = pick(w.rand, FOLDERS);
      const name = `f${w.next++}.pdf`;
      const p = pii(w);
      const docModified = w.rand() < 0.4 ? null : modified(w);
      await sql`
        insert into documents (path, folder, name, extension, size, mtime, doc_modified, status, pii, pii_kinds)
        values (${folder === '' ? name : `${folder}/${name}`}, ${folder}, ${name}, 'pdf', ${100 + Math.floor(w.rand() * 10_000)},
                ${modified(w)}::timestamptz, ${docModified}::timestamptz, ${pick(w.rand, ['pending', 'extracted', 'failed'])},
                ${p.pii}::jsonb, ${p.kinds}::text[])`.execute(db);
    }
  },
  async status(w, db) {
    await sql`update documents set status = ${pick(w.rand, ['pending', 'extracted', 'failed', 'unsupported'])} where id = ${one(w)}`.execute(db);
  },
  async reclassify(w, db) {
    // A new extraction finds other personal data (or none) and another modified date.
    const p = pii(w);
    await sql`
      update documents set pii = ${p.pii}::jsonb, pii_kinds = ${p.kinds}::text[], status = 'extracted',
        doc_modified = ${w.rand() < 0.5 ? modified(w) : null}::timestamptz
      where id = ${one(w)}`.execute(db);
  },
  async touch(w, db) {
    await sql`update documents set mtime = ${modified(w)}::timestamptz, size = size + 1 where id = ${one(w)}`.execute(db);
  },
  async vanish(w, db) {
    await sql`update documents set deleted_at = now() where id = ${one(w)}`.execute(db);
  },
  async reappear(w, db) {
    await sql`update documents set deleted_at = null where id = (select id from documents where deleted_at is not null order by md5(id::text || ${String(w.rand())}) limit 1)`.execute(db);
  },
  async hardDelete(w, db) {
    await sql`delete from documents where id = ${one(w, true)}`.execute(db);
  },
  async move(w, db) {
    const folder = pick(w.rand, FOLDERS);
    await sql`
      update documents set folder = ${folder}, path = ${folder === '' ? '' : `${folder}/`} || 'moved-' || left(md5(random()::text), 8) || '-' || name
      where id = ${one(w, true)}`.execute(db);
  },
  async compact(_w, db) {
    await sql`select docsight_folder_stats_compact()`.execute(db);
  },
};

async function assertSame(db: Db, step: string): Promise<void> {
  const insights = createInsightsRepository(db);
  for (const folder of CHECKED) {
    assert.deepStrictEqual(await insights.personalData(folder), await livePersonalData(db, folder), `${step}: personal data of "${folder}"`);
    for (const cutoff of CUTOFFS) {
      const at = asDate(cutoff);
      assert.ok(!Number.isNaN(at.getTime()), cutoff);
      assert.deepStrictEqual(await insights.staleDocuments(folder, at), await liveStale(db, folder, at), `${step}: stale before ${cutoff} in "${folder}"`);
    }
  }
}

describe('stale documents and personal data from summary rows', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => {
    await t?.drop();
  });

  it('equal the queries over every document after a random sequence of writes', async () => {
    const w: World = { db: t.db, rand: seeded(28), next: 0 };
    const names = Object.keys(ACTIONS);
    await ACTIONS.insert?.(w, t.db);
    await assertSame(t.db, 'start');
    for (let step = 0; step < 80; step++) {
      const name = step < 10 ? 'insert' : pick(w.rand, names);
      const zone = pick(w.rand, ZONES);
      // Writers in other session time zones put documents in the same UTC months.
      await t.db.transaction().execute(async (trx) => {
        await sql`select set_config('TimeZone', ${zone}, true)`.execute(trx);
        await ACTIONS[name]?.(w, trx);
      });
      await assertSame(t.db, `step ${step} (${name} in ${zone})`);
    }
    const edge = await sql<{ n: string }>`
      select count(*) as n from documents
      where deleted_at is null and coalesce(doc_modified, mtime) = any (${CUTOFFS}::timestamptz[])`.execute(t.db);
    assert.ok(Number(edge.rows[0]?.n) > 0, 'some documents sit exactly at a cutoff');
  });
});

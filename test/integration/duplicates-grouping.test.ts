/**
 * The duplicate grouping's answer on a known set of files, on a real PostgreSQL (the LSH bands are
 * the store's generated column): signatures are written directly, slot by slot, so each expected
 * similarity is an exact count of equal slots out of 128. Transitive versions, exact copies with
 * and without a signature, both sides of the threshold, large buckets of near copies and of
 * strangers, a deleted copy and a subfolder. Any change to the groups, their order, kinds,
 * similarities or members fails here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { OPEN_ACCESS } from '../../src/domain/access.ts';
import { createDuplicatesService } from '../../src/services/duplicates.service.ts';
import { createDuplicatesRepository } from '../../src/store/duplicates.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

/** A signature: slot i holds base + i, except the slots given. */
function signature(base: number, changed: Iterable<number> = [], by = 50_000): number[] {
  const out = Array.from({ length: 128 }, (_, i) => base + i);
  for (const i of changed) out[i] = base + by + i;
  return out;
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

const A = signature(1000);
// 24 slots differ from A (104/128 = 0.8125): a version of A.
const B = signature(1000, range(104, 128));
// 24 more differ from B (0.8125), 48 from A (80/128 = 0.625): a version of B, not of A.
const C = [...B.slice(0, 80), ...signature(1000, range(80, 104), 70_000).slice(80, 104), ...B.slice(104)];
const D = signature(2000);
// 25 slots differ (103/128 = 0.8047): just over the threshold.
const E = signature(2000, range(103, 128));
const F = signature(3000);
// 26 slots differ (102/128 = 0.7969): just under, though they share bands 0 to 16.
const G = signature(3000, range(102, 128));

describe('duplicate grouping on a known set', () => {
  let db: TestDatabase;
  let n = 0;
  const put = async (path: string, content: string, minhash: number[] | null, modified: string, deleted = false) => {
    const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    const name = path.slice(path.lastIndexOf('/') + 1);
    n++;
    await sql`
      insert into documents (path, folder, name, extension, size, mtime, sha256, status, minhash, deleted_at)
      values (${path}, ${folder}, ${name}, 'docx', ${1000 + n}, ${new Date(modified)}, ${content.padEnd(64, '0')}, 'extracted',
              ${minhash}::int4[], ${deleted ? new Date() : null})`.execute(db.db);
  };

  before(async () => {
    db = await createTestDatabase();
    await put('Client/offerte.docx', 'a1', A, '2024-01-01T00:00:00Z');
    await put('Client/Archief/offerte origineel.docx', 'a1', A, '2023-12-01T00:00:00Z');
    await put('Client/offerte v2.docx', 'b2', B, '2024-02-01T00:00:00Z');
    await put('Client/offerte definitief.docx', 'c3', C, '2024-03-01T00:00:00Z');
    await put('Client/contract.docx', 'd4', D, '2024-01-05T00:00:00Z');
    await put('Client/contract v2.docx', 'e5', E, '2024-01-06T00:00:00Z');
    await put('Client/notulen.docx', 'f6', F, '2024-01-07T00:00:00Z');
    await put('Client/notulen v2.docx', 'a7', G, '2024-01-08T00:00:00Z');
    // Too short for a signature, the same bytes twice, and a third copy that was deleted.
    await put('Client/memo.txt', '99', null, '2024-04-01T00:00:00Z');
    await put('Client/memo (1).txt', '99', null, '2024-04-02T00:00:00Z');
    await put('Client/memo (2).txt', '99', null, '2024-04-03T00:00:00Z', true);
    // 18 near copies of one text (each one slot of its own: 127/128 alike), a bucket past 16.
    for (let i = 0; i < 18; i++) {
      await put(`Bulk/copy ${String(i).padStart(2, '0')}.docx`, `b${String(i).padStart(2, '0')}`, signature(4000, [127], 1000 + i), `2024-05-${String(i + 1).padStart(2, '0')}T00:00:00Z`);
    }
    // 18 strangers sharing band 0 (slots 0 to 5) and nothing else: one bucket, no group.
    for (let i = 0; i < 18; i++) {
      const sig = signature(10_000 * (i + 1));
      for (let s = 0; s < 6; s++) sig[s] = 5 + s;
      await put(`Strangers/s ${String(i).padStart(2, '0')}.docx`, `c${String(i).padStart(2, '0')}`, sig, '2024-06-01T00:00:00Z');
    }
  });

  after(async () => {
    await db?.drop();
  });

  const service = () =>
    createDuplicatesService({ repo: createDuplicatesRepository(db.db), threshold: 0.8, knownFolder: async (path) => ({ rel: path === '.' ? '' : path }) });

  /** The whole answer in short: per group its kind, similarity and members (path, similarity, exact copy). */
  async function answer(folder: string) {
    const page = await service().forFolder(folder, OPEN_ACCESS, { limit: 100 });
    return {
      summary: page.summary,
      groups: page.items.map((g) => ({
        kind: g.kind,
        similarity: g.similarity,
        members: g.members.map((m) => [m.path, m.similarity, m.exactCopy]),
      })),
    };
  }

  it('groups versions transitively, exact copies, and pairs at or over the threshold only, most wasted bytes first', async () => {
    const r = await answer('Client');
    assert.deepEqual(r.groups, [
      {
        kind: 'near',
        // The weakest verified link (A to B, B to C); A to C (0.625) is below it, joined through B.
        similarity: 104 / 128,
        members: [
          ['Client/Archief/offerte origineel.docx', 80 / 128, true],
          ['Client/offerte.docx', 80 / 128, true],
          ['Client/offerte v2.docx', 104 / 128, false],
          ['Client/offerte definitief.docx', 1, false],
        ],
      },
      {
        kind: 'exact',
        similarity: 1,
        members: [
          ['Client/memo.txt', 1, true],
          ['Client/memo (1).txt', 1, true],
        ],
      },
      {
        kind: 'near',
        similarity: 103 / 128,
        members: [
          ['Client/contract.docx', 103 / 128, false],
          ['Client/contract v2.docx', 1, false],
        ],
      },
    ]);
    assert.deepEqual(r.summary, { groups: 3, exactGroups: 1, nearGroups: 2, documents: 8, wastedBytes: r.summary.wastedBytes });
  });

  it('links a bucket of more than 16 near copies into one group, and leaves strangers sharing one band alone', async () => {
    const bulk = await answer('Bulk');
    assert.equal(bulk.groups.length, 1);
    assert.equal(bulk.groups[0]!.similarity, 127 / 128);
    assert.deepEqual(
      bulk.groups[0]!.members.map((m) => m[0]),
      Array.from({ length: 18 }, (_, i) => `Bulk/copy ${String(i).padStart(2, '0')}.docx`),
    );
    assert.deepEqual((await answer('Strangers')).groups, []);
  });

  it('reads every live file once with its bands, in pages of any size, and the signatures of the contents asked for', async () => {
    const repo = createDuplicatesRepository(db.db);
    const stored = await sql<{ sha256: string; lsh: string | null }>`
      select sha256, lsh::text as lsh from documents where deleted_at is null order by path`.execute(db.db);
    // Band b's int8 as the store has it, from the bands read: high half above the low one.
    const asText = (bands: Int32Array | null) =>
      bands && `{${Array.from({ length: bands.length / 2 }, (_, b) => ((BigInt(bands[2 * b]!) << 32n) | BigInt(bands[2 * b + 1]! >>> 0)).toString()).join(',')}}`;
    for (const pageSize of [7, 10_000]) {
      const read: { sha256: string; lsh: string | null }[] = [];
      for await (const page of repo.bandedFiles('', pageSize)) {
        assert.ok(page.length <= pageSize);
        for (const f of page) read.push({ sha256: f.sha256, lsh: asText(f.bands) });
      }
      // Within a page the order is the database's: compared as sets of files.
      const key = (f: { sha256: string; lsh: string | null }) => `${f.sha256} ${f.lsh}`;
      assert.deepEqual(read.map(key).sort(), stored.rows.map(key).sort(), `pages of ${pageSize}`);
    }
    const asked = ['a1'.padEnd(64, '0'), '99'.padEnd(64, '0'), 'b2'.padEnd(64, '0'), 'f'.repeat(64)];
    // In one batch, and in batches of one and of three (each read while the one before is decoded).
    for (const batchSize of [undefined, 1, 3]) {
      const { signatures, members } = await repo.holders('Client', asked, batchSize);
      assert.deepEqual(
        members.map((m) => m.path).sort(),
        ['Client/Archief/offerte origineel.docx', 'Client/memo (1).txt', 'Client/memo.txt', 'Client/offerte v2.docx', 'Client/offerte.docx'],
        `the live files inside the folder that hold the contents (not the deleted copy), batches of ${batchSize}`,
      );
      assert.deepEqual([...signatures.keys()].sort(), ['a1'.padEnd(64, '0'), 'b2'.padEnd(64, '0')], 'contents without a signature or outside the folder have none');
      assert.deepEqual(Array.from(signatures.get('b2'.padEnd(64, '0'))!), B);
    }
    assert.deepEqual(await repo.holders('Client', []), { members: [], signatures: new Map() }, 'no contents: nothing read');
  });

  it('finds the same groups from the root, and each file of a group in the export membership', async () => {
    const root = await answer('.');
    assert.deepEqual(root.summary, { groups: 4, exactGroups: 1, nearGroups: 3, documents: 26, wastedBytes: root.summary.wastedBytes });
    const membership = await service().membership('Client');
    const ids = await sql<{ id: string; path: string }>`select id, path from documents where path like 'Client/%'`.execute(db.db);
    const byPath = Object.fromEntries(ids.rows.map((x) => [x.path, membership.get(x.id) ?? null]));
    assert.equal(byPath['Client/notulen.docx'], null);
    assert.equal(byPath['Client/memo (2).txt'], null, 'a deleted copy is in no group');
    assert.equal(byPath['Client/offerte.docx']?.duplicateOf, 'Client/Archief/offerte origineel.docx');
    assert.equal(byPath['Client/Archief/offerte origineel.docx']?.duplicateOf, null);
    assert.equal(byPath['Client/memo (1).txt']?.duplicateOf, 'Client/memo.txt');
    assert.equal(byPath['Client/offerte v2.docx']?.group, byPath['Client/offerte definitief.docx']?.group);
    assert.notEqual(byPath['Client/offerte v2.docx']?.group, byPath['Client/contract.docx']?.group);
  });
});

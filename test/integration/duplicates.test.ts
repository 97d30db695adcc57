/**
 * Duplicates and versions through the whole pipeline: a scan extracts .docx files (their MinHash
 * signatures computed in the extraction threads and stored with their LSH bands), then the folder's
 * duplicate groups, a document's similar documents and the folder insights tell exact copies from
 * versions, with similarity, wasted bytes, order by modified date and the version words in names;
 * a scoped key sees only its folder.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import type { DocumentItem, DuplicatesPage, SimilarDocument } from '../../src/contract.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { backfillSignatures } from '../../src/services/duplicates.service.ts';
import { isCurrentSignature } from '../../src/extract/minhash.ts';
import { createDuplicatesRepository } from '../../src/store/duplicates.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { api, appOf, enc, waitForJob } from '../support/http.ts';

const VOCABULARY = (
  'de het een offerte klant levering prijs project uren tarief week maand jaar contract afspraak werk bouw dak gevel ' +
  'kozijn schilder materiaal planning oplevering garantie factuur betaling termijn btw akkoord handtekening datum adres'
).split(' ');

/** Two pages of deterministic text: 10 paragraphs of 100 words. */
function paragraphs(seed: number): string[] {
  let s = seed;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % VOCABULARY.length;
  };
  return Array.from({ length: 10 }, () => Array.from({ length: 100 }, () => VOCABULARY[next()]!).join(' '));
}

/** The text with a few words of one paragraph changed and a phrase added. */
function edited(text: string[], paragraph: number, phrase: string): string[] {
  const out = [...text];
  const words = out[paragraph]!.split(' ');
  words.splice(40, 3, ...phrase.split(' '));
  out[paragraph] = words.join(' ');
  return out;
}

const ORIGINAL = paragraphs(2024);
const V2 = edited(ORIGINAL, 4, 'na overleg aangepast bedrag inclusief meerwerk');
const FINAL = edited(V2, 7, 'zoals besproken op de bouwplaats getekend');

describe('duplicates and versions through the pipeline', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  const app = () => appOf(runtime);
  const sizeOf = async (p: string) => (await stat(path.join(root, p))).size;

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-dup-'));
    await mkdir(path.join(root, 'Client', 'Archief'), { recursive: true });
    await mkdir(path.join(root, 'Other'), { recursive: true });
    const original = buildDocx({ title: 'Offerte', paragraphs: ORIGINAL, modified: new Date('2024-01-10T09:00:00Z') });
    await writeFile(path.join(root, 'Client', 'Offerte.docx'), original);
    await writeFile(path.join(root, 'Client', 'Archief', 'Offerte origineel.docx'), original);
    await writeFile(path.join(root, 'Other', 'Offerte.docx'), original);
    await writeFile(path.join(root, 'Client', 'Offerte v2.docx'), buildDocx({ title: 'Offerte', paragraphs: V2, modified: new Date('2024-02-01T09:00:00Z') }));
    await writeFile(
      path.join(root, 'Client', 'Offerte definitief (kopie).docx'),
      buildDocx({ title: 'Offerte', paragraphs: FINAL, modified: new Date('2024-03-01T09:00:00Z') }),
    );
    await writeFile(path.join(root, 'Client', 'Notulen.docx'), buildDocx({ title: 'Notulen', paragraphs: paragraphs(7), modified: new Date('2024-01-20T09:00:00Z') }));
    // Too short for a signature: an exact copy all the same.
    await writeFile(path.join(root, 'Client', 'memo.txt'), 'Bel de klant terug.');
    await writeFile(path.join(root, 'Client', 'memo (1).txt'), 'Bel de klant terug.');
    await utimes(path.join(root, 'Client', 'memo.txt'), new Date('2024-04-01T09:00:00Z'), new Date('2024-04-01T09:00:00Z'));
    await utimes(path.join(root, 'Client', 'memo (1).txt'), new Date('2024-04-02T09:00:00Z'), new Date('2024-04-02T09:00:00Z'));
    const config = parseConfig({ DATABASE_URL: db.url, QUEUE_NAME: `t${Date.now().toString(36)}dup`, DOCS_ROOT: root, PORT: '0', EXTRACT_THREADS: '1' });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
    const start = await api<{ id: string }>(app(), 'POST', '/v1/scans', { path: '.' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    await waitForJob(app(), start.body.id, 60_000);
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  const duplicates = async (folder: string, headers: Record<string, string> = {}, query = '') =>
    api<DuplicatesPage>(app(), 'GET', `/v1/folders/${enc(folder)}/duplicates${query}`, undefined, headers);

  it('groups an exact copy and the versions of a document, oldest first, with similarity, version words and wasted bytes', async () => {
    const r = await duplicates('Client');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const near = r.body.items.find((g) => g.kind === 'near');
    assert.ok(near, JSON.stringify(r.body.items));
    assert.deepEqual(
      near.members.map((m) => [m.path, m.versionHints, m.exactCopy]),
      [
        ['Client/Archief/Offerte origineel.docx', [], true],
        ['Client/Offerte.docx', [], true],
        ['Client/Offerte v2.docx', ['v2'], false],
        ['Client/Offerte definitief (kopie).docx', ['final', 'copy'], false],
      ],
    );
    assert.ok(near.similarity >= 0.8 && near.similarity < 1, `group similarity ${near.similarity}`);
    const newest = near.members[3]!;
    assert.equal(newest.similarity, 1);
    for (const m of near.members.slice(0, 3)) assert.ok(m.similarity >= 0.8 && m.similarity < 1, `${m.path} ${m.similarity}`);
    const sizes = await Promise.all(near.members.map((m) => sizeOf(m.path)));
    assert.deepEqual(near.members.map((m) => m.size), sizes);
    assert.equal(near.wastedBytes, sizes.reduce((a, b) => a + b, 0) - Math.max(...sizes));
    assert.ok(!near.members.some((m) => m.path.includes('Notulen')), 'the unrelated document is in no group');

    const exact = r.body.items.find((g) => g.kind === 'exact');
    assert.ok(exact);
    assert.deepEqual(exact.members.map((m) => [m.path, m.versionHints]), [['Client/memo.txt', []], ['Client/memo (1).txt', ['copy']]]);
    assert.equal(exact.similarity, 1);
    assert.equal(exact.wastedBytes, await sizeOf('Client/memo.txt'));

    assert.equal(r.body.items.length, 2);
    assert.equal(r.body.threshold, 0.8);
    assert.deepEqual(r.body.summary, { groups: 2, exactGroups: 1, nearGroups: 1, documents: 6, wastedBytes: near.wastedBytes + exact.wastedBytes });
    // Most wasted bytes first; pages of one group follow each other to the end.
    assert.equal(r.body.items[0]!.key, near.key);
    const first = await duplicates('Client', {}, '?limit=1');
    assert.deepEqual(first.body.items.map((g) => g.key), [near.key]);
    assert.ok(first.body.nextCursor);
    const second = await duplicates('Client', {}, `?limit=1&cursor=${first.body.nextCursor}`);
    assert.deepEqual(second.body.items.map((g) => g.key), [exact.key]);
    assert.equal(second.body.nextCursor, null);
    // The same through the route with literal slashes.
    const slashed = await app().inject({ method: 'GET', url: '/v1/folders/Client/Archief/duplicates' });
    assert.equal(slashed.statusCode, 200, slashed.body);
    assert.deepEqual((JSON.parse(slashed.body) as DuplicatesPage).items, [], 'one file in Archief: no group there');
  });

  it('counts copies across folders at the root', async () => {
    const r = await duplicates('.');
    const near = r.body.items.find((g) => g.kind === 'near');
    assert.ok(near?.members.some((m) => m.path === 'Other/Offerte.docx'));
    assert.equal(near?.members.length, 5);
  });

  it('lists the documents like one document, identical copies first', async () => {
    const list = await api<{ items: DocumentItem[] }>(app(), 'GET', `/v1/folders/${enc('Client')}/documents?limit=50`);
    const id = (p: string) => list.body.items.find((d) => d.path === p)!.id;
    const r = await api<{ threshold: number; items: SimilarDocument[] }>(app(), 'GET', `/v1/documents/${id('Client/Offerte.docx')}/similar`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.items.map((d) => [d.path, d.identical]),
      [
        ['Client/Archief/Offerte origineel.docx', true],
        ['Other/Offerte.docx', true],
        ['Client/Offerte v2.docx', false],
        ['Client/Offerte definitief (kopie).docx', false],
      ],
    );
    assert.ok(r.body.items[2]!.similarity >= r.body.items[3]!.similarity && r.body.items[3]!.similarity >= 0.8);
    const unrelated = await api<{ items: SimilarDocument[] }>(app(), 'GET', `/v1/documents/${id('Client/Notulen.docx')}/similar`);
    assert.deepEqual(unrelated.body.items, []);
  });

  it('a scoped key sees only the groups and similar documents of its folder', async () => {
    const keys = createKeysService(createKeysRepository(db.db));
    const auth = { authorization: `Bearer ${(await keys.create({ name: 'client', role: 'viewer', scopes: ['Client'] })).key}` };
    const own = await duplicates('Client', auth);
    assert.equal(own.status, 200);
    assert.deepEqual(own.body.items.flatMap((g) => g.members.map((m) => m.path)).filter((p) => !p.startsWith('Client/')), []);
    for (const folder of ['.', 'Other']) assert.equal((await duplicates(folder, auth)).status, 404, folder);
    const list = await api<{ items: DocumentItem[] }>(app(), 'GET', `/v1/folders/${enc('Client')}/documents?limit=50`, undefined, auth);
    const offerte = list.body.items.find((d) => d.path === 'Client/Offerte.docx')!.id;
    const similar = await api<{ items: SimilarDocument[] }>(app(), 'GET', `/v1/documents/${offerte}/similar`, undefined, auth);
    assert.ok(!similar.body.items.some((d) => d.path.startsWith('Other/')), JSON.stringify(similar.body.items));
    assert.equal(similar.body.items.length, 3);
    const other = await api<{ items: DocumentItem[] }>(app(), 'GET', `/v1/folders/${enc('Other')}/documents`);
    const outside = other.body.items[0]!.id;
    assert.equal((await api(app(), 'GET', `/v1/documents/${outside}/similar`, undefined, auth)).status, 404);
  });

  it('gives documents extracted before signatures existed one from their stored text, without reading the file again', async () => {
    const v2 = 'Client/Offerte v2.docx';
    const signed = await db.db.selectFrom('documents').select(['id', 'minhash']).where('path', '=', v2).executeTakeFirstOrThrow();
    assert.ok(signed.minhash, 'extraction signed it');
    // As a document extracted before migration 0013 is: no signature, no bands.
    await db.db.updateTable('documents').set({ minhash: null }).where('id', '=', signed.id).execute();
    const paths = async () => (await duplicates('Client')).body.items.flatMap((g) => g.members.map((m) => m.path));
    assert.ok(!(await paths()).includes(v2), 'without a signature the version is not found');

    const repo = createDuplicatesRepository(db.db);
    const first = await backfillSignatures(repo);
    // The too-short memos are read and left without one.
    assert.ok(first.read >= 3 && first.signed === 1, JSON.stringify(first));
    const after = await db.db.selectFrom('documents').select('minhash').where('id', '=', signed.id).executeTakeFirstOrThrow();
    assert.deepEqual(after.minhash, signed.minhash, 'the same signature extraction computed');
    const bands = await db.db.selectFrom('documents').select('lsh').where('id', '=', signed.id).executeTakeFirstOrThrow();
    assert.equal(bands.lsh?.length, 20, 'its 20 LSH bands follow from the signature');
    assert.ok((await paths()).includes(v2), 'found again');
    assert.equal((await backfillSignatures(repo)).signed, 0, 'a second run has nothing to sign');
  });

  it('signs again, from the stored text, documents whose signature is of the format before', async () => {
    const v2 = 'Client/Offerte v2.docx';
    const signed = await db.db.selectFrom('documents').select(['id', 'minhash']).where('path', '=', v2).executeTakeFirstOrThrow();
    assert.ok(signed.minhash && isCurrentSignature(signed.minhash), 'extraction signed it in today\'s format');
    // The format before: 31-bit values in filled slots, which compare with today's as unrelated.
    const older = signed.minhash.map((v) => v & 0x7fffffff);
    await db.db.updateTable('documents').set({ minhash: older }).where('id', '=', signed.id).execute();
    const paths = async () => (await duplicates('Client')).body.items.flatMap((g) => g.members.map((m) => m.path));
    assert.ok(!(await paths()).includes(v2), 'an older signature matches none of today\'s');

    const repo = createDuplicatesRepository(db.db);
    assert.ok((await backfillSignatures(repo)).signed >= 1);
    const after = await db.db.selectFrom('documents').select('minhash').where('id', '=', signed.id).executeTakeFirstOrThrow();
    assert.deepEqual(after.minhash, signed.minhash, 'today\'s signature, as extraction computes it');
    assert.ok((await paths()).includes(v2), 'found again');
    assert.equal((await backfillSignatures(repo)).signed, 0, 'a second run has nothing to sign');
  });
});

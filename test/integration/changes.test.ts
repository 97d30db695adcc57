/**
 * What changed, through the whole service: real files in a temporary documents root, scans through
 * HTTP, the worker's extraction on a fresh PostgreSQL. Added, changed (old and new sha256), moved
 * (same document id and classification, through the fake OpenAI-compatible server) and deleted are
 * recorded; the changes route pages with a cursor and keeps scoped keys to their folders; deleted
 * documents leave insights and listings and are purged after the retention period.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import type { Change, ChangeDays, ChangesPage } from '../../src/contract.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createChangesService } from '../../src/services/changes.service.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createChangesRepository } from '../../src/store/changes.repository.ts';
import { createDocumentsRepository } from '../../src/store/documents.repository.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { api, appOf, enc, type JobBody, waitForJob } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

interface DocItem {
  id: string;
  path: string;
  sha256: string | null;
  primaryCategory: string | null;
  tags: { label: string }[] | null;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const TEXT = {
  one: 'Meeting notes of the weekly meeting. Present: Sanne, Jan. Notes on the agenda items.',
  oneEdited: 'Meeting notes of the weekly meeting. Present: Sanne, Jan, Piet. Notes on the agenda items and actions.',
  two: 'Financial report: the quarterly budget, invoices and financial forecast for the board.',
  three: 'Risk analysis for Project 4: the main risk is supplier delay. Risk management plan attached.',
  four: 'Internal policy on remote work. This policy applies to all employees.',
  b: 'A letter for client B about the delivery planning.',
};

describe('what changed between scans', () => {
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let root: string;
  let runtime: Runtime;
  const app = () => appOf(runtime);
  const put = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  };
  const scan = async (folder: string) => {
    const r = await api<JobBody>(app(), 'POST', '/v1/scans', { path: folder });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const job = await waitForJob(app(), r.body.id);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    return job.id;
  };
  const changes = async (folder: string, query = '', headers: Record<string, string> = {}) =>
    api<ChangesPage>(app(), 'GET', `/v1/folders/${enc(folder)}/changes?${query.includes('limit=') ? '' : 'limit=500'}${query}`, undefined, headers);
  const ofJob = async (folder: string, jobId: string) => (await changes(folder)).body.items.filter((c) => c.jobId === jobId);
  const docs = async (folder: string) => (await api<{ items: DocItem[] }>(app(), 'GET', `/v1/folders/${enc(folder)}/documents?limit=100`)).body.items;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-changes-'));
    await put('A/one.txt', TEXT.one);
    await put('A/two.txt', TEXT.two);
    await put('A/three.txt', TEXT.three);
    await put('A/four.txt', TEXT.four);
    await put('B/b.txt', TEXT.b);
    fake = await startFakeOpenAI({ latencyMs: 5 });
    db = await createTestDatabase({ migrate: false });
    const config = parseConfig({
      DATABASE_URL: db.url,
      DOCS_ROOT: root,
      PORT: '0',
      QUEUE_NAME: `t${Date.now().toString(36)}chg`,
      EXTRACT_THREADS: '1',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test-key',
      LLM_MODEL: 'gpt-4o-mini',
      LLM_RPM: '0',
      LLM_TPM: '0',
      WATCH_DEBOUNCE_MS: '100',
      WATCH_REFRESH_SECONDS: '1',
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
  });

  after(async () => {
    await runtime?.stop();
    await fake?.close();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('records added, changed (old and new sha256) and deleted, and leaves deleted documents out of insights and listings', async () => {
    const first = await scan('A');
    const added = await ofJob('A', first);
    assert.deepEqual(
      added.map((c) => [c.kind, c.path, c.newSha256]).sort(),
      [
        ['added', 'A/four.txt', sha(TEXT.four)],
        ['added', 'A/one.txt', sha(TEXT.one)],
        ['added', 'A/three.txt', sha(TEXT.three)],
        ['added', 'A/two.txt', sha(TEXT.two)],
      ],
    );
    const unchanged = await scan('A');
    assert.deepEqual(await ofJob('A', unchanged), [], 'a rescan of an unchanged folder records nothing');

    await put('A/one.txt', TEXT.oneEdited);
    await unlink(path.join(root, 'A/two.txt'));
    const second = await scan('A');
    const found = await ofJob('A', second);
    assert.deepEqual(
      found.map((c) => [c.kind, c.path, c.oldSha256, c.newSha256]).sort(),
      [
        ['changed', 'A/one.txt', sha(TEXT.one), sha(TEXT.oneEdited)],
        ['deleted', 'A/two.txt', sha(TEXT.two), null],
      ],
    );

    const insights = await api<{ documentCount: number }>(app(), 'GET', `/v1/folders/A/insights`);
    assert.equal(insights.body.documentCount, 3);
    const listed = (await docs('A')).map((d) => d.path).sort();
    assert.deepEqual(listed, ['A/four.txt', 'A/one.txt', 'A/three.txt']);
    const gone = found.find((c) => c.kind === 'deleted');
    assert.ok(gone);
    const detail = await api<{ deletedAt: string | null }>(app(), 'GET', `/v1/documents/${gone.documentId}`);
    assert.ok(detail.body.deletedAt, 'kept as deleted, not dropped');
  });

  it('recognises a rename by content: the document keeps its id and classification', async () => {
    const start = await api<JobBody>(app(), 'POST', '/v1/classifications', { path: 'A' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    assert.equal((await waitForJob(app(), start.body.id)).status, 'completed');
    const three = (await docs('A')).find((d) => d.path === 'A/three.txt');
    assert.ok(three?.primaryCategory, 'classified');

    // Renamed into a new subfolder within one scan.
    await mkdir(path.join(root, 'A/archive'));
    await rename(path.join(root, 'A/three.txt'), path.join(root, 'A/archive/risk renamed.txt'));
    const job = await scan('A');
    const moved = await ofJob('A', job);
    assert.deepEqual(moved.map((c) => [c.kind, c.documentId, c.oldPath, c.path, c.oldSha256, c.newSha256]), [
      ['moved', three.id, 'A/three.txt', 'A/archive/risk renamed.txt', sha(TEXT.three), sha(TEXT.three)],
    ]);
    const after = (await docs('A')).find((d) => d.path === 'A/archive/risk renamed.txt');
    assert.equal(after?.id, three.id);
    assert.equal(after?.primaryCategory, three.primaryCategory);
    assert.deepEqual(after?.tags, three.tags);
    assert.ok(!(await docs('A')).some((d) => d.path === 'A/three.txt'));

    // Deleted in one scan, back at another path in a later one (within the retention period).
    const four = (await docs('A')).find((d) => d.path === 'A/four.txt');
    assert.ok(four?.primaryCategory);
    await unlink(path.join(root, 'A/four.txt'));
    const deletedIn = await scan('A');
    assert.deepEqual((await ofJob('A', deletedIn)).map((c) => c.kind), ['deleted']);
    await put('A/policy.txt', TEXT.four);
    const back = await scan('A');
    const returned = await ofJob('A', back);
    assert.deepEqual(returned.map((c) => [c.kind, c.documentId, c.oldPath, c.path]), [['moved', four.id, 'A/four.txt', 'A/policy.txt']]);
    const policy = (await docs('A')).find((d) => d.path === 'A/policy.txt');
    assert.equal(policy?.id, four.id);
    assert.equal(policy?.primaryCategory, four.primaryCategory);
  });

  it('pages changes with a cursor, counts them per day, and keeps scoped keys to their folders', async () => {
    await scan('B');
    const all = (await changes('A')).body.items;
    assert.ok(all.length >= 8, JSON.stringify(all));
    const seen: Change[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: ChangesPage } = await changes('A', `&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 3);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen.map((c) => c.id), all.map((c) => c.id), 'every change once, in order');
    assert.ok(!all.some((c) => c.path?.startsWith('B/')), 'only the folder\'s changes');

    const future = await changes('A', `&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    assert.deepEqual(future.body.items, []);

    const bad = await changes('A', '&cursor=not-a-cursor');
    assert.equal(bad.status, 400);
    assert.equal((bad.body as unknown as { error: { code: string } }).error.code, 'bad_request');

    const days = await api<ChangeDays>(app(), 'GET', `/v1/folders/A/changes-by-day`);
    assert.equal(days.status, 200);
    const total = days.body.days.reduce((n, d) => n + d.added + d.changed + d.moved + d.deleted, 0);
    assert.equal(total, all.length);
    assert.equal(days.body.days.at(-1)?.day, new Date().toISOString().slice(0, 10));

    const keys = createKeysService(createKeysRepository(db.db));
    const onlyB = { authorization: `Bearer ${(await keys.create({ name: 'b only', role: 'viewer', scopes: ['B'] })).key}` };
    assert.equal((await changes('A', '', onlyB)).status, 404);
    assert.equal((await changes('', '', onlyB)).status, 404);
    assert.equal((await api(app(), 'GET', '/v1/folders/A/changes-by-day', undefined, onlyB)).status, 404);
    const mine = await changes('B', '', onlyB);
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body.items.map((c) => [c.kind, c.path]), [['added', 'B/b.txt']]);
    // The wildcard form (literal slashes) answers the same.
    assert.equal((await api(app(), 'GET', '/v1/folders/A/archive/changes', undefined, onlyB)).status, 404);
    assert.equal((await api<ChangesPage>(app(), 'GET', '/v1/folders/A/archive/changes')).body.items[0]?.kind, 'moved');
  });

  it('classifies new and changed documents of a watch with automatic classification', async () => {
    await put('C/first.txt', TEXT.two);
    const before = fake.stats.requests;
    const watch = await api<{ autoClassify: boolean }>(app(), 'POST', '/v1/watches', { folder: 'C', autoClassify: true });
    assert.equal(watch.status, 201, JSON.stringify(watch.body));
    assert.equal(watch.body.autoClassify, true);
    await waitFor(async () => (await docs('C')).find((d) => d.path === 'C/first.txt' && d.primaryCategory), { what: 'C/first.txt classified', timeoutMs: 30_000, intervalMs: 100 });
    await put('C/second.txt', TEXT.one);
    await waitFor(async () => (await docs('C')).find((d) => d.path === 'C/second.txt' && d.primaryCategory), { what: 'C/second.txt classified', timeoutMs: 30_000, intervalMs: 100 });
    // One request per document: the first one was not classified again with the second.
    await waitFor(async () => (await api<{ items: { status: string }[] }>(app(), 'GET', '/v1/jobs?kind=classify&folder=C')).body.items.every((j) => j.status !== 'running' && j.status !== 'queued'), {
      what: 'the watch\'s classifications to end',
      timeoutMs: 30_000,
    });
    assert.equal(fake.stats.requests - before, 2);
  });

  it('lets one of two batches that found the same moved file take it over; the other adds its own', async () => {
    const documents = createDocumentsRepository(db.db);
    const [known, x, y] = await documents.upsertSeen(
      ['Race/gone.txt', 'Race/x.txt', 'Race/y.txt'].map((p) => ({ path: p, folder: 'Race', name: path.basename(p), extension: 'txt', size: 5, mtime: new Date() })),
    );
    assert.ok(known && x && y);
    await sql`update documents set sha256 = 'race', status = 'extracted', extraction_count = 1, deleted_at = now() where id = ${known.id}`.execute(db.db);
    const [candidate] = await documents.moveCandidates(['race'], [x.id, y.id], new Date(Date.now() - 86_400_000));
    assert.equal(candidate?.id, known.id);
    const adopt = (fresh: { id: string; path: string }) => ({
      freshId: fresh.id, knownId: known.id, oldPath: 'Race/gone.txt', newPath: fresh.path, sha256: 'race', size: 5, mtime: new Date(), etag: null, deletedAt: candidate.deletedAt, jobId: null,
    });
    // Two transactions race for the same known document: the second waits for the first's lock, then sees it taken.
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((r) => {
      releaseFirst = r;
    });
    let claimedFirst!: () => void;
    const firstClaimed = new Promise<void>((r) => {
      claimedFirst = r;
    });
    const first = db.db.transaction().execute(async (tx) => {
      assert.equal(await documents.claimMoveCandidate(tx, candidate), true);
      claimedFirst();
      await firstHolds;
      await documents.adoptMove(tx, adopt(x));
    });
    await firstClaimed;
    const second = db.db.transaction().execute(async (tx) => documents.claimMoveCandidate(tx, candidate));
    releaseFirst();
    await first;
    assert.equal(await second, false);
    const rows = await sql<{ id: string; path: string; deleted_at: Date | null }>`select id, path, deleted_at from documents where folder = 'Race' order by path`.execute(db.db);
    assert.deepEqual(rows.rows.map((r) => [r.id, r.path, r.deleted_at]), [[known.id, 'Race/x.txt', null], [y.id, 'Race/y.txt', null]]);
  });

  it('purges deleted documents after the retention period, and only those', async () => {
    const deleted = (await changes('A')).body.items.find((c) => c.kind === 'deleted' && c.path === 'A/two.txt');
    assert.ok(deleted);
    const service = createChangesService({ changes: createChangesRepository(db.db), documents: createDocumentsRepository(db.db), knownFolder: async (p) => ({ rel: p }) });
    assert.equal(await service.purgeDeleted(30), 0, 'deleted today: kept');
    await sql`update documents set deleted_at = now() - interval '31 days' where id = ${deleted.documentId}`.execute(db.db);
    assert.equal(await service.purgeDeleted(30), 1);
    assert.equal((await api(app(), 'GET', `/v1/documents/${deleted.documentId}`)).status, 404);
    assert.equal((await docs('A')).length, 3, 'live documents stay');
    assert.ok((await changes('A')).body.items.some((c) => c.documentId === deleted.documentId), 'its history stays');
  });
});

/**
 * A rescan writes nothing for a file that has not changed, on the documents root and on a bucket
 * (s3rver on loopback), and still finds every change: the rows of unchanged files keep their
 * transaction id (xmin: any UPDATE of a row gives it a new one), and changed, added, deleted (also
 * a whole folder gone), moved (by content, keeping the id) and restored files are recorded, with
 * the job's progress and the folder's insights right.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { api, appOf, enc, type JobBody, waitForJob } from '../support/http.ts';
import { s3SourceBody, startS3, type TestS3 } from '../support/s3.ts';
import { waitFor } from '../support/wait.ts';

const BUCKET = 'rescan';
const SOURCE = 'rescan-bucket';

/** A tree as relative path -> text; the same one goes on disk and into the bucket. */
const TREE: Record<string, string> = {
  'a/1.txt': 'First note about the project schedule.',
  'a/2.txt': 'Second note: the budget for the next quarter.',
  'a/7.txt': 'Seventh note: minutes of the steering meeting.',
  'a/sub/3.txt': 'Third note, in a subfolder: the supplier contract.',
  'b/4.txt': 'Fourth note: a letter to the client about delivery.',
  'b/5.txt': 'Fifth note: the risk register of the project.',
  'c/6.txt': 'Sixth note: the only file of its folder.',
};

/** The bucket's copy of a text: other content than on disk, so no file of one is taken for a move of the other's. */
const inBucket = (text: string) => `In the bucket: ${text}`;

interface Place {
  /** The folder scanned: the local folder's path, or the source's name. */
  folder: string;
  write(rel: string, text: string): Promise<void>;
  remove(rel: string): Promise<void>;
  move(from: string, to: string, text: string): Promise<void>;
}

describe('an unchanged rescan writes nothing and a changed one misses nothing', () => {
  let db: TestDatabase;
  let root: string;
  let s3: TestS3;
  let runtime: Runtime;
  const app = () => appOf(runtime);

  const scan = async (folder: string): Promise<JobBody> => {
    const r = await api<JobBody>(app(), 'POST', '/v1/scans', { path: folder });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const job = await waitForJob(app(), r.body.id);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    return job;
  };
  /** Every row under the folder with the transaction that last wrote it (once the search indexer, which writes after extraction, is done). */
  const rows = async (folder: string) => {
    await waitFor(
      async () => (await sql<{ n: number }>`select count(*)::int as n from documents where search_pending and deleted_at is null`.execute(db.db)).rows[0]?.n,
      { what: 'the search indexer to catch up', until: (n) => n === 0 },
    );
    const r = await sql<{ id: string; path: string; xmin: string; deleted: boolean }>`
      select id, path, xmin::text as xmin, deleted_at is not null as deleted from documents
      where path >= ${`${folder}/`} and path < ${`${folder}0`} order by path`.execute(db.db);
    return new Map(r.rows.map((x) => [x.path, x]));
  };
  const changesOf = async (jobId: string) => {
    const r = await sql<{ kind: string; path: string; old_path: string | null; document_id: string }>`
      select kind, path, old_path, document_id from document_changes where job_id = ${jobId} order by kind, path`.execute(db.db);
    return r.rows;
  };
  const documentCount = async (folder: string) =>
    (await api<{ documentCount: number }>(app(), 'GET', `/v1/folders/${enc(folder)}/insights`)).body.documentCount;

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-rescan-'));
    s3 = await startS3([BUCKET]);
    for (const [rel, text] of Object.entries(TREE)) {
      await mkdir(path.dirname(path.join(root, 'T', rel)), { recursive: true });
      await writeFile(path.join(root, 'T', rel), text);
      await s3.put(BUCKET, rel, inBucket(text));
    }
    const config = parseConfig({
      DATABASE_URL: db.url,
      DOCS_ROOT: root,
      PORT: '0',
      QUEUE_NAME: `t${Date.now().toString(36)}rsc`,
      EXTRACT_THREADS: '1',
      SCAN_BATCH_SIZE: '2',
      SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
    const r = await api(app(), 'POST', '/v1/sources', s3SourceBody(s3, SOURCE, BUCKET));
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });

  after(async () => {
    await runtime?.stop();
    await s3?.close();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  const places = (): Place[] => [
    {
      folder: 'T',
      write: async (rel, text) => {
        await mkdir(path.dirname(path.join(root, 'T', rel)), { recursive: true });
        await writeFile(path.join(root, 'T', rel), text);
      },
      remove: (rel) => unlink(path.join(root, 'T', rel)),
      move: async (from, to) => {
        await mkdir(path.dirname(path.join(root, 'T', to)), { recursive: true });
        await rename(path.join(root, 'T', from), path.join(root, 'T', to));
      },
    },
    {
      folder: SOURCE,
      write: (rel, text) => s3.put(BUCKET, rel, inBucket(text)),
      remove: (rel) => s3.remove(BUCKET, rel),
      move: async (from, to, text) => {
        await s3.put(BUCKET, to, inBucket(text));
        await s3.remove(BUCKET, from);
      },
    },
  ];

  for (const which of ['the documents root', 'a bucket'] as const) {
    it(`on ${which}`, async () => {
      const place = places()[which === 'a bucket' ? 1 : 0] as Place;
      const f = place.folder;
      const p = (rel: string) => `${f}/${rel}`;

      const first = await scan(f);
      assert.deepEqual([first.progress.total, first.progress.done, first.progress.skipped], [7, 7, 0]);

      // Unchanged: every file is skipped, and not one row is written.
      const before = await rows(f);
      const unchanged = await scan(f);
      assert.deepEqual(
        [unchanged.progress.total, unchanged.progress.done, unchanged.progress.skipped, unchanged.progress.failed],
        [7, 0, 7, 0],
      );
      assert.deepEqual(await changesOf(unchanged.id), []);
      const after1 = await rows(f);
      assert.deepEqual([...after1.values()], [...before.values()], 'no row of an unchanged file was written');
      assert.equal(await documentCount(f), 7);
      // Last seen still says the rescan saw it (its folder's complete scan).
      const one = before.get(p('a/1.txt'));
      assert.ok(one);
      const detail = await api<{ lastSeenAt: string }>(app(), 'GET', `/v1/documents/${one.id}`);
      const scanned = await db.db.selectFrom('jobs').select('finished_at').where('id', '=', unchanged.id).executeTakeFirstOrThrow();
      assert.ok(scanned.finished_at && Date.parse(detail.body.lastSeenAt) >= scanned.finished_at.getTime() - 5_000, detail.body.lastSeenAt);

      // Changed, deleted, a whole folder gone, moved into a new folder, added.
      await place.write('a/1.txt', `${TREE['a/1.txt']} Edited: the schedule slipped by a week.`);
      await place.remove('a/2.txt');
      await place.remove('c/6.txt');
      await place.move('b/4.txt', 'd/4-renamed.txt', TREE['b/4.txt'] as string);
      await place.write('a/sub/new.txt', 'A new note: the kick-off meeting of phase two.');
      const second = await scan(f);
      assert.deepEqual([second.progress.total, second.progress.skipped, second.progress.failed], [6, 3, 0]);
      assert.equal(second.progress.done + second.progress.skipped, 6);
      const found = await changesOf(second.id);
      assert.deepEqual(
        found.map((c) => [c.kind, c.path, c.old_path]),
        [
          ['added', p('a/sub/new.txt'), null],
          ['changed', p('a/1.txt'), null],
          ['deleted', p('a/2.txt'), null],
          ['deleted', p('c/6.txt'), null],
          ['moved', p('d/4-renamed.txt'), p('b/4.txt')],
        ],
      );
      assert.equal(found.find((c) => c.kind === 'moved')?.document_id, before.get(p('b/4.txt'))?.id, 'a move keeps its id');
      const after2 = await rows(f);
      for (const rel of ['a/7.txt', 'a/sub/3.txt', 'b/5.txt']) {
        assert.deepEqual(after2.get(p(rel)), before.get(p(rel)), `${rel} untouched`);
      }
      assert.equal(after2.get(p('a/2.txt'))?.deleted, true);
      assert.equal(after2.get(p('c/6.txt'))?.deleted, true);
      assert.equal(await documentCount(f), 6);
      assert.equal(await documentCount(p('c')), 0);

      // A deleted file back at its path is added again, under its old id.
      await place.write('a/2.txt', TREE['a/2.txt'] as string);
      const third = await scan(f);
      assert.equal(third.progress.total, 7);
      assert.deepEqual((await changesOf(third.id)).map((c) => [c.kind, c.path, c.document_id]), [['added', p('a/2.txt'), before.get(p('a/2.txt'))?.id]]);
      assert.equal(await documentCount(f), 7);

      // And unchanged again: nothing written.
      const settled = await rows(f);
      const fourth = await scan(f);
      assert.deepEqual([fourth.progress.total, fourth.progress.skipped], [7, 7]);
      assert.deepEqual([...(await rows(f)).values()], [...settled.values()]);
      assert.deepEqual(await changesOf(fourth.id), []);
    });
  }
});

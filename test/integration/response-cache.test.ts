/**
 * The response cache of folder reads on the machine's PostgreSQL (issue 19): the data version that
 * moves only when a write to what the reads use commits (migration 0029's notifications, heard by
 * store/read-version.ts), and, through the API of a runtime, answers that follow writes made on
 * other connections, never cross keys' scopes, and are computed again while the LISTEN connection
 * is lost.
 *
 * A write made with triggers off (session_replication_role = replica) notifies nobody: an answer
 * that does not show it was served from the cache, one that does was computed.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createReadVersion, READS_LISTENER, type ReadVersion } from '../../src/store/read-version.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { api, appOf, enc } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('response cache of folder reads', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let app: ReturnType<typeof appOf>;
  /** A connection of its own, as another process's. */
  let other: pg.Client;
  const headersOf = new Map<string, Record<string, string>>();

  /** Terminate the LISTEN connections of this database (as a failover or an admin would). */
  const killListeners = async () =>
    (
      await other.query<{ n: number }>(
        'select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and application_name = $1',
        [READS_LISTENER],
      )
    ).rows[0]?.n ?? 0;
  const listeners = async () =>
    (
      await other.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1', [
        READS_LISTENER,
      ])
    ).rows[0]?.n ?? 0;
  /** Retitle a document without any trigger (so without notifying). */
  const quietRetitle = async (name: string, title: string) => {
    await other.query('begin');
    await other.query('set local session_replication_role = replica');
    await other.query('update documents set title = $1 where name = $2', [title, name]);
    await other.query('commit');
  };
  const newest = async (folder: string, headers: Record<string, string> = {}) => {
    const r = await api<{ files: { filename: string; title: string | null }[] }>(
      app,
      'GET',
      `/folder-insights/${folder}/get_folder_files_metadata?limit=50`,
      undefined,
      headers,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.files;
  };
  const titleOf = async (name: string) => (await newest('Clients')).find((f) => f.filename === name)?.title;
  /** The API serves the listing from its cache: a write nobody heard of does not show. */
  const cacheIsOn = async () => {
    const token = `probe ${Math.random()}`;
    await titleOf('doc 0.docx');
    await quietRetitle('doc 0.docx', token);
    return (await titleOf('doc 0.docx')) !== token;
  };

  before(async () => {
    db = await createTestDatabase();
    root = await mkdtemp(path.join(tmpdir(), 'docsight-cache-'));
    for (const f of ['Clients/Client 1', 'Clients/Client 2', 'Other']) await mkdir(path.join(root, f), { recursive: true });
    await sql`
      insert into folders (path, parent_path, last_scanned_at) values
        ('', null, now()), ('Clients', '', now()), ('Clients/Client 1', 'Clients', now()),
        ('Clients/Client 2', 'Clients', now()), ('Other', '', now())`.execute(db.db);
    await sql`
      insert into documents (path, folder, name, extension, size, mtime)
      select 'Clients/Client ' || (1 + i % 2) || '/doc ' || i || '.docx', 'Clients/Client ' || (1 + i % 2), 'doc ' || i || '.docx',
             'docx', 1000 + i, timestamptz '2024-01-01' + i * interval '1 day'
      from generate_series(0, 9) i`.execute(db.db);
    other = new pg.Client({ connectionString: db.url });
    await other.connect();
    const config = parseConfig({ DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', QUEUE_NAME: `cache${Date.now().toString(36)}` });
    runtime = await startRuntime(config, { api: true, worker: false }, pino({ level: process.env.TEST_LOG ?? 'silent' }));
    app = appOf(runtime);
    const keys = createKeysService(createKeysRepository(db.db));
    for (const [name, scopes] of [
      ['everything', []],
      ['client1', ['Clients/Client 1']],
      ['other', ['Other']],
    ] as const) {
      headersOf.set(name, { authorization: `Bearer ${(await keys.create({ name, role: 'viewer', scopes: [...scopes] })).key}` });
    }
    await waitFor(cacheIsOn, { what: 'the response cache to be on', timeoutMs: 10_000, intervalMs: 50 });
  });

  after(async () => {
    await runtime?.stop();
    await other?.end();
    await db?.drop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  describe('the data version', () => {
    let version: ReadVersion;
    before(async () => {
      version = createReadVersion({ connection: { connectionString: db.url }, heartbeatMs: 200, minRetryMs: 50, maxRetryMs: 200 });
      await waitFor(() => version.current() !== null, { what: 'the LISTEN connection', timeoutMs: 10_000, intervalMs: 20 });
    });
    after(async () => {
      await version?.close();
    });

    it('moves when a write to a table the reads use commits, and not before or for a rollback', async () => {
      const v0 = version.current();
      await other.query('begin');
      await other.query(`update folders set last_scanned_at = now() where path = 'Other'`);
      await pause(200);
      assert.equal(version.current(), v0, 'an open transaction has told nobody');
      await other.query('rollback');
      await pause(200);
      assert.equal(version.current(), v0, 'a rolled back one never does');
      await other.query(`update folders set last_scanned_at = now() where path = 'Other'`);
      await waitFor(() => (version.current() ?? 0) > (v0 ?? 0), { what: 'the version to move after the commit', timeoutMs: 5000, intervalMs: 10 });
      // Every table of migration 0029, e.g. a review or the summary rows.
      for (const table of ['classification_reviews', 'folder_stats', 'folder_bound_marks', 'taxonomy_versions']) {
        const v = version.current() ?? 0;
        await other.query(`delete from ${table} where false`);
        await waitFor(() => (version.current() ?? 0) > v, { what: `the version to move after a write to ${table}`, timeoutMs: 5000, intervalMs: 10 });
      }
    });

    it('is unknown while the LISTEN connection is lost, and comes back as a newer version', async () => {
      const v0 = version.current() ?? 0;
      assert.ok((await killListeners()) >= 1);
      await waitFor(() => version.current() === null, { what: 'the version to be unknown', timeoutMs: 5000, intervalMs: 5 });
      await waitFor(() => (version.current() ?? 0) > v0, { what: 'the connection to come back', timeoutMs: 10_000, intervalMs: 20 });
    });
  });

  describe('through the API', () => {
    // The version test above cut the runtime's LISTEN connection too.
    const cacheOn = () => waitFor(cacheIsOn, { what: 'the response cache to be on', timeoutMs: 10_000, intervalMs: 50 });

    it('serves answers again, and computes them again once a write on another connection commits', async () => {
      await cacheOn();
      await quietRetitle('doc 2.docx', 'unheard');
      assert.notEqual(await titleOf('doc 2.docx'), 'unheard', 'served from the cache');
      await other.query(`update documents set title = 'heard' where name = 'doc 2.docx'`);
      await waitFor(() => titleOf('doc 2.docx'), { what: 'the listing to show the committed title', until: (t) => t === 'heard', timeoutMs: 5000, intervalMs: 10 });

      const count = async () => (await api<{ document_count: number }>(app, 'GET', '/folder-insights/Clients/count_files')).body.document_count;
      const insights = async () => (await api<{ documentCount: number }>(app, 'GET', `/v1/folders/${enc('Clients')}/insights`)).body.documentCount;
      // With literal slashes, the folders wildcard route.
      const inClient1 = async () => (await api<{ documentCount: number }>(app, 'GET', '/v1/folders/Clients/Client%201/insights')).body.documentCount;
      assert.equal(await count(), 10);
      assert.equal(await insights(), 10);
      assert.equal(await inClient1(), 5);
      await other.query(`insert into documents (path, folder, name, extension, size, mtime) values ('Clients/Client 1/new.docx', 'Clients/Client 1', 'new.docx', 'docx', 1, now())`);
      await waitFor(count, { what: 'count_files to count the new document', until: (n) => n === 11, timeoutMs: 5000, intervalMs: 10 });
      await waitFor(insights, { what: 'insights to count the new document', until: (n) => n === 11, timeoutMs: 5000, intervalMs: 10 });
      await waitFor(inClient1, { what: 'its folder\'s insights to count it', until: (n) => n === 6, timeoutMs: 5000, intervalMs: 10 });
    });

    it('reads its own writes at once', async () => {
      // A write through this API (a review queue entry, a key, anything but a read) moves the version before it answers.
      await quietRetitle('doc 4.docx', 'before');
      await other.query(`update documents set title = 'before' where name = 'doc 4.docx'`);
      await waitFor(() => titleOf('doc 4.docx'), { what: 'the title', until: (t) => t === 'before', timeoutMs: 5000, intervalMs: 10 });
      await cacheOn();
      await quietRetitle('doc 4.docx', 'after');
      assert.equal(await titleOf('doc 4.docx'), 'before', 'cached');
      const r = await api(app, 'POST', '/v1/keys', { name: 'another', role: 'viewer' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(await titleOf('doc 4.docx'), 'after');
    });

    it('never serves an answer computed for one key to a key of other scopes', async () => {
      const everything = headersOf.get('everything') ?? {};
      const client1 = headersOf.get('client1') ?? {};
      const elsewhere = headersOf.get('other') ?? {};
      for (let round = 0; round < 2; round++) {
        assert.equal((await newest('Clients', everything)).length, 11);
        assert.equal((await api(app, 'GET', '/folder-insights/Clients/get_folder_files_metadata?limit=50', undefined, client1)).status, 404);
        assert.equal((await api(app, 'GET', `/v1/folders/${enc('Clients')}/insights`, undefined, everything)).status, 200);
        assert.equal((await api(app, 'GET', `/v1/folders/${enc('Clients')}/insights`, undefined, elsewhere)).status, 404);
        assert.equal((await api(app, 'GET', `/v1/folders/${enc('Clients')}/documents`, undefined, everything)).status, 200);
        assert.equal((await api(app, 'GET', `/v1/folders/${enc('Clients')}/documents`, undefined, elsewhere)).status, 404);
        const mine = await newest(enc('Clients/Client 1'), client1);
        assert.ok(mine.length > 0 && mine.every((f) => f.filename !== 'doc 1.docx'), 'only Client 1');
      }
    });

    it('serves nothing kept from before the LISTEN connection was lost, and caches again once it is back', async () => {
      await cacheOn();
      assert.ok((await killListeners()) >= 1);
      let i = 0;
      // A write nobody hears of shows once the loss is noticed (a version from before is never served again).
      await waitFor(
        async () => {
          const token = `after the loss ${i++}`;
          await quietRetitle('doc 6.docx', token);
          return (await titleOf('doc 6.docx')) === token;
        },
        { what: 'an unheard write to show after the loss', timeoutMs: 5000, intervalMs: 5 },
      );
      await waitFor(listeners, { what: 'the LISTEN connection to come back', until: (n) => n === 1, timeoutMs: 10_000, intervalMs: 20 });
      await cacheOn();
    });
  });
});

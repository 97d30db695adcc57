/**
 * Bucket sources end to end against a real S3-compatible server (s3rver) on loopback: a bucket is
 * added through the API, scanned, read through insights, listings and search, changed, rescanned
 * (only the change is extracted), pruned, watched, made unreachable; secrets never come back.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createDatabase } from '../../src/store/database.ts';
import { createSourcesRepository } from '../../src/store/sources.repository.ts';
import { AppError } from '../../src/domain/errors.ts';
import { DocsRoot } from '../../src/services/docs-root.ts';
import { createSecretBox } from '../../src/services/secrets.ts';
import { createSourcesService } from '../../src/services/sources.service.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { api, appOf, type ApiTarget, enc, waitForJob } from '../support/http.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '../support/s3.ts';
import { waitFor } from '../support/wait.ts';

const BUCKET = 'clients';
const SOURCE = 'minio-clients';

describe('bucket sources', () => {
  let db: TestDatabase;
  let root: string;
  let s3: TestS3;
  let runtime: Runtime;
  let app: ApiTarget;
  let logs = '';
  /** Every response body the test saw, to look for secrets in. */
  const seen: string[] = [];
  const call = async <T = Record<string, unknown>>(method: string, url: string, body?: unknown, headers?: Record<string, string>) => {
    const r = await api<T>(app, method, url, body, headers);
    seen.push(JSON.stringify(r.body));
    return r;
  };
  const scan = async (folder: string) => {
    const r = await call<{ id: string }>('POST', '/v1/scans', { path: folder });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return waitForJob(app, r.body.id);
  };
  const row = (p: string) =>
    db.db.selectFrom('documents').select(['status', 'extraction_count', 'deleted_at', 'etag', 'sha256', 'error_code']).where('path', '=', p).executeTakeFirst();

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-sources-'));
    await mkdir(path.join(root, 'Local Folder'), { recursive: true });
    await writeFile(path.join(root, 'Local Folder', 'local.txt'), 'A file on the local disk.');
    await mkdir(path.join(root, 'taken-name'));
    s3 = await startS3([BUCKET]);
    await s3.put(BUCKET, 'in/Company A/Project 1/report.docx', buildDocx({ title: 'Quarterly aquifer report', creator: 'Ada Bucket', paragraphs: ['The aquifer levels rose this quarter.'] }));
    await s3.put(BUCKET, 'in/Company A/Project 1/notes.txt', 'zephyrine notes about the first project');
    await s3.put(BUCKET, 'in/Company B/plan.txt', 'A plan for company B.');
    await s3.put(BUCKET, 'in/Company B/.hidden.txt', 'not a document');
    await s3.put(BUCKET, 'elsewhere/outside.txt', 'outside the prefix');
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    const config = parseConfig({
      DATABASE_URL: db.url,
      QUEUE_NAME: `t${Date.now().toString(36)}src`,
      DOCS_ROOT: root,
      PORT: '0',
      WORKER_CONCURRENCY: '2',
      EXTRACT_THREADS: '2',
      SCAN_BATCH_SIZE: '2',
      SECRETS_KEY: randomBytes(32).toString('base64'),
      S3_TIMEOUT_MS: '2000',
      S3_MAX_ATTEMPTS: '2',
      JOB_ATTEMPTS: '2',
      MAX_FILE_MB: '1',
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'trace' }, sink));
    app = appOf(runtime);
  });

  after(async () => {
    await runtime?.stop();
    await s3?.close();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('adds a bucket through the API without ever answering its credentials', async () => {
    const r = await call('POST', '/v1/sources', {
      name: SOURCE,
      kind: 's3',
      bucket: BUCKET,
      prefix: 'in',
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      ...S3RVER_CREDENTIALS,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.prefix, 'in/');
    assert.equal(r.body.credentials, 'stored');
    assert.equal(r.body.accessKeyId, undefined);
    assert.equal(r.body.secretAccessKey, undefined);
    const stored = await db.db.selectFrom('sources').selectAll().where('name', '=', SOURCE).executeTakeFirstOrThrow();
    assert.ok(stored.secret_access_key_enc && !stored.secret_access_key_enc.includes('S3RVER'), 'stored encrypted');
    const list = await call<{ items: { name: string }[] }>('GET', '/v1/sources');
    assert.deepEqual(list.body.items.map((s) => s.name), [SOURCE]);
    assert.equal((await call('GET', `/v1/sources/${SOURCE}`)).status, 200);
    assert.equal((await call('POST', '/v1/sources', { name: SOURCE, kind: 's3', bucket: BUCKET })).status, 409);
  });

  it('scans the bucket: folders are key prefixes under the source name; insights, listings and search see them', async () => {
    const job = await scan(SOURCE);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.progress.total, 3);
    assert.equal(job.progress.done, 3);
    const docs = await db.db.selectFrom('documents').select('path').where('path', 'like', `${SOURCE}/%`).orderBy('path').execute();
    assert.deepEqual(
      docs.map((d) => d.path),
      [`${SOURCE}/Company A/Project 1/notes.txt`, `${SOURCE}/Company A/Project 1/report.docx`, `${SOURCE}/Company B/plan.txt`],
    );
    assert.match((await row(`${SOURCE}/Company A/Project 1/notes.txt`))?.etag ?? '', /^"[0-9a-f]{32}"$/);

    const top = await call<{ documentCount: number; subfolders: { key: string; count: number }[] }>('GET', `/v1/folders/${enc(SOURCE)}/insights`);
    assert.equal(top.status, 200, JSON.stringify(top.body));
    assert.equal(top.body.documentCount, 3);
    const project = await call<{ documentCount: number; byAuthor: { key: string }[] }>('GET', `/v1/folders/${enc(`${SOURCE}/Company A/Project 1`)}/insights`);
    assert.equal(project.body.documentCount, 2);
    assert.ok(project.body.byAuthor.some((a) => a.key === 'Ada Bucket'));
    const listing = await call<{ items: { path: string; title: string | null }[] }>('GET', `/v1/folders/${enc(`${SOURCE}/Company A`)}/documents`);
    assert.equal(listing.status, 200);
    assert.ok(listing.body.items.some((d) => d.title === 'Quarterly aquifer report'));
    const found = await waitFor(
      async () => (await call<{ items: { path: string }[] }>('GET', `/v1/search?q=zephyrine&path=${enc(SOURCE)}`)).body.items,
      { what: 'the bucket text to be searchable', timeoutMs: 30_000, until: (items) => items.length === 1 },
    );
    assert.equal(found[0]?.path, `${SOURCE}/Company A/Project 1/notes.txt`);
  });

  it('a scan of the documents root leaves the bucket documents alone', async () => {
    const job = await scan('.');
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.progress.total, 1);
    assert.equal((await row(`${SOURCE}/Company B/plan.txt`))?.deleted_at, null);
    assert.equal((await row('Local Folder/local.txt'))?.status, 'extracted');
  });

  it('rescans incrementally: only the changed object is extracted again, a deleted one is marked deleted', async () => {
    await s3.put(BUCKET, 'in/Company A/Project 1/notes.txt', 'zephyrine notes, second edition');
    const job = await scan(SOURCE);
    assert.equal(job.status, 'completed');
    assert.equal(job.progress.total, 3);
    assert.equal(job.progress.skipped, 2, JSON.stringify(job.progress));
    assert.equal((await row(`${SOURCE}/Company A/Project 1/notes.txt`))?.extraction_count, 2);
    assert.equal((await row(`${SOURCE}/Company A/Project 1/report.docx`))?.extraction_count, 1);
    assert.equal((await row(`${SOURCE}/Company B/plan.txt`))?.extraction_count, 1);
    const notesTag = (await row(`${SOURCE}/Company A/Project 1/notes.txt`))?.etag;
    assert.match(notesTag ?? '', /^"[0-9a-f]{32}"$/, 'the new ETag, written with the extraction');

    // Another ETag for the same bytes (as a multipart upload of them gives): read again, found
    // unchanged by its hash, and the object's ETag kept, so the next rescan reads nothing.
    await db.db.updateTable('documents').set({ etag: '"stale-tag"' }).where('path', '=', `${SOURCE}/Company B/plan.txt`).execute();
    const same = await scan(SOURCE);
    assert.equal(same.progress.skipped, 3, JSON.stringify(same.progress));
    const plan = await row(`${SOURCE}/Company B/plan.txt`);
    assert.equal(plan?.extraction_count, 1);
    assert.match(plan?.etag ?? '', /^"[0-9a-f]{32}"$/);
    const quiet = await scan(SOURCE);
    assert.equal(quiet.progress.skipped, 3, JSON.stringify(quiet.progress));
    assert.equal((await db.db.selectFrom('job_batches').select('batch_no').where('job_id', '=', quiet.id).execute()).length, 1, 'no extraction batch, only the count of the unchanged');

    await s3.remove(BUCKET, 'in/Company B/plan.txt');
    const again = await scan(SOURCE);
    assert.equal(again.status, 'completed');
    assert.ok((await row(`${SOURCE}/Company B/plan.txt`))?.deleted_at instanceof Date);
    const top = await call<{ documentCount: number }>('GET', `/v1/folders/${enc(SOURCE)}/insights`);
    assert.equal(top.body.documentCount, 2);
  });

  it('an unreachable endpoint or refused credentials fail the scan with a code, and nothing stored is lost', async () => {
    const before = await db.db.selectFrom('documents').select(['path', 'deleted_at']).orderBy('path').execute();
    assert.equal((await call('PATCH', `/v1/sources/${SOURCE}`, { endpoint: 'http://127.0.0.1:1' })).status, 200);
    const down = await scan(SOURCE);
    assert.equal(down.status, 'failed');
    assert.equal(down.error?.code, 'source_unreachable', JSON.stringify(down.error));
    assert.equal((await call('PATCH', `/v1/sources/${SOURCE}`, { endpoint: s3.endpoint, accessKeyId: 'WRONG', secretAccessKey: 'WRONG' })).status, 200);
    const denied = await scan(SOURCE);
    assert.equal(denied.status, 'failed');
    assert.equal(denied.error?.code, 'source_denied', JSON.stringify(denied.error));
    assert.deepEqual(await db.db.selectFrom('documents').select(['path', 'deleted_at']).orderBy('path').execute(), before);
    assert.equal((await call('PATCH', `/v1/sources/${SOURCE}`, S3RVER_CREDENTIALS)).status, 200);
    assert.equal((await scan(SOURCE)).status, 'completed');
  });

  it('throttling (503 SlowDown) is retried; a bucket that keeps throttling fails the scan as source_throttled', async () => {
    // A real HTTP hop in front of s3rver that answers SlowDown while told to, as S3 does under load.
    let throttle = 0;
    let throttled = 0;
    const proxy: Server = createServer((req, res) => {
      if (throttle > 0) {
        throttle--;
        throttled++;
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
        return;
      }
      const target = new URL(s3.endpoint);
      const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (proxy.address() as { port: number }).port;
      assert.equal((await call('PATCH', `/v1/sources/${SOURCE}`, { endpoint: `http://127.0.0.1:${port}` })).status, 200);
      throttle = 1;
      const recovered = await scan(SOURCE);
      assert.equal(recovered.status, 'completed', JSON.stringify(recovered.error));
      assert.equal(throttled, 1, 'the throttled request was answered 503 once, then retried');
      throttle = 1_000;
      const gaveUp = await scan(SOURCE);
      assert.equal(gaveUp.status, 'failed');
      assert.equal(gaveUp.error?.code, 'source_throttled', JSON.stringify(gaveUp.error));
      assert.equal((await row(`${SOURCE}/Company A/Project 1/notes.txt`))?.deleted_at, null, 'nothing marked deleted');
    } finally {
      throttle = 0;
      await new Promise((resolve) => proxy.close(resolve));
      assert.equal((await call('PATCH', `/v1/sources/${SOURCE}`, { endpoint: s3.endpoint })).status, 200);
    }
  });

  it('refuses bad input with coded errors, and non-admin or scoped keys', async () => {
    const body = { kind: 's3', bucket: BUCKET, endpoint: s3.endpoint };
    for (const name of ['Bad_Name', 'a', '-dash', 'docs', '../up']) {
      const r = await call<{ error: { code: string } }>('POST', '/v1/sources', { ...body, name });
      assert.equal(r.status, 400, name);
      assert.equal(r.body.error.code, 'bad_request');
    }
    const taken = await call<{ error: { code: string } }>('POST', '/v1/sources', { ...body, name: 'taken-name' });
    assert.equal(taken.status, 409, 'a top-level folder of DOCS_ROOT has the name');
    for (const endpoint of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'not a url', 'http://user:pw@127.0.0.1:9000']) {
      const r = await call<{ error: { code: string } }>('POST', '/v1/sources', { ...body, name: 'other', endpoint });
      assert.equal(r.status, 400, endpoint);
    }
    assert.equal((await call('POST', '/v1/sources', { ...body, name: 'other', bucket: 'A_B' })).status, 400);
    assert.equal((await call('POST', '/v1/sources', { ...body, name: 'other', accessKeyId: 'only-one' })).status, 400);
    assert.equal((await call('GET', '/v1/sources/nope')).status, 404);
    assert.equal((await call('DELETE', '/v1/sources/nope')).status, 404);
    assert.equal((await call('PATCH', '/v1/sources/nope', { region: 'eu-west-1' })).status, 404);

    const keys = createKeysService(createKeysRepository(db.db));
    const bearer = async (role: 'viewer' | 'editor' | 'admin', scopes: string[] = []) => ({
      authorization: `Bearer ${(await keys.create({ name: role, role, scopes })).key}`,
    });
    const editor = await bearer('editor');
    assert.equal((await call('GET', '/v1/sources', undefined, editor)).status, 403);
    assert.equal((await call('POST', '/v1/sources', { ...body, name: 'other' }, editor)).status, 403);
    assert.equal((await call('DELETE', `/v1/sources/${SOURCE}`, undefined, editor)).status, 403);
    const scopedAdmin = await bearer('admin', ['Local Folder']);
    assert.equal((await call('GET', '/v1/sources', undefined, scopedAdmin)).status, 403);
    // Scopes work on bucket paths as on the root's.
    const scoped = await bearer('viewer', [`${SOURCE}/Company A`]);
    assert.equal((await call('GET', `/v1/folders/${enc(`${SOURCE}/Company A`)}/insights`, undefined, scoped)).status, 200);
    assert.equal((await call('GET', `/v1/folders/${enc(`${SOURCE}/Company B`)}/insights`, undefined, scoped)).status, 404);
  });

  it('watches a bucket: a new object is picked up without a manual scan', async () => {
    assert.equal((await call('PATCH', `/v1/sources/${SOURCE}`, { watchIntervalSeconds: 10 })).status, 200);
    await s3.put(BUCKET, 'in/Company C/arrived.txt', 'it came by itself');
    const arrived = await waitFor(() => row(`${SOURCE}/Company C/arrived.txt`), {
      what: 'the watch to pick up the new object',
      timeoutMs: 40_000,
      intervalMs: 250,
      until: (r) => r?.status === 'extracted',
    });
    assert.equal(arrived?.extraction_count, 1);
    assert.equal((await call('PATCH', `/v1/sources/${SOURCE}`, { watchIntervalSeconds: null })).status, 200);
  });

  it('without SECRETS_KEY, credentials are refused (secrets_key_missing) and a source uses the environment', async () => {
    const service = createSourcesService({ repo: createSourcesRepository(db.db), secrets: createSecretBox(undefined), docsRoot: new DocsRoot(root) });
    await assert.rejects(
      service.create({ name: 'no-key', kind: 's3', bucket: BUCKET, accessKeyId: 'AKIA', secretAccessKey: 'shh' }),
      (e: unknown) => e instanceof AppError && e.code === 'secrets_key_missing',
    );
    assert.equal(await db.db.selectFrom('sources').select('name').where('name', '=', 'no-key').executeTakeFirst(), undefined, 'nothing stored');
    const env = await service.create({ name: 'no-key', kind: 's3', bucket: BUCKET });
    assert.equal(env.credentials, 'environment');
    await service.remove('no-key');
  });

  it('an object over MAX_FILE_MB fails as too_large, its folder scanned by prefix', async () => {
    await s3.put(BUCKET, 'in/Big/huge.txt', 'x'.repeat(1024 * 1024 + 10));
    const job = await scan(`${SOURCE}/Big`);
    assert.equal(job.status, 'completed');
    assert.equal(job.progress.failed, 1);
    const big = await row(`${SOURCE}/Big/huge.txt`);
    assert.equal(big?.status, 'failed');
    assert.equal(big?.error_code, 'too_large');
    assert.equal(big?.sha256, null, 'refused on its size, never read');
  });

  it('a due watch is claimed by exactly one of many processes ticking at once', async () => {
    await db.db
      .insertInto('sources')
      .values({ name: 'claimed-once', kind: 's3', bucket: 'nothing-here', watch_interval_seconds: 30, watched_at: new Date() })
      .execute();
    // Separate connection pools, as separate worker processes have; a minute on, the watch is due.
    const handles = Array.from({ length: 4 }, () => createDatabase(db.url, { max: 2 }));
    try {
      const later = new Date(Date.now() + 60_000);
      const claims = await Promise.all(handles.flatMap((h) => [0, 1].map(() => createSourcesRepository(h.db).claimDueWatches(later))));
      assert.equal(claims.flat().filter((n) => n === 'claimed-once').length, 1);
      assert.deepEqual(await createSourcesRepository(handles[0]!.db).claimDueWatches(later), [], 'claimed: not due again until its interval passes');
    } finally {
      await Promise.all(handles.map((h) => h.close()));
      await db.db.deleteFrom('sources').where('name', '=', 'claimed-once').execute();
    }
  });

  it('removes a source: its documents are kept as deleted', async () => {
    assert.equal((await call('DELETE', `/v1/sources/${SOURCE}`)).status, 200);
    assert.equal((await call('GET', `/v1/sources/${SOURCE}`)).status, 404);
    assert.ok((await row(`${SOURCE}/Company A/Project 1/notes.txt`))?.deleted_at instanceof Date);
    assert.equal((await row('Local Folder/local.txt'))?.deleted_at, null);
  });

  it('never shows the credentials in an answer or a log line', () => {
    for (const body of seen) assert.ok(!body.includes('S3RVER') && !body.includes('WRONG'), body.slice(0, 300));
    assert.ok(logs.length > 0, 'the logs were captured');
    assert.ok(!logs.includes('S3RVER') && !logs.includes('WRONG'), 'no secret in the logs');
  });
});

/**
 * `docsight sources add|list|remove` as a person runs them: the bin in child processes against a
 * listening server (in this process, on loopback) and a real S3-compatible server (s3rver).
 * Credentials come from the environment, never a flag, and are never printed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { runDocsight as docsight, showRun as show } from '../support/docsight.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '../support/s3.ts';

describe('docsight sources (CLI)', () => {
  let db: TestDatabase;
  let root: string;
  let s3: TestS3;
  let runtime: Runtime;
  let srv: string[];

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-cli-sources-'));
    s3 = await startS3(['archive']);
    await s3.put('archive', 'clients/Company A/letter.txt', 'A letter in a bucket.');
    const config = parseConfig({
      DATABASE_URL: db.url,
      QUEUE_NAME: `t${Date.now().toString(36)}clisrc`,
      DOCS_ROOT: root,
      PORT: '0',
      EXTRACT_THREADS: '1',
      SECRETS_KEY: randomBytes(32).toString('hex'),
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
    assert.ok(runtime.url);
    srv = ['--server', runtime.url];
  });

  after(async () => {
    await runtime?.stop();
    await s3?.close();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('adds a bucket with credentials from the environment, lists it, scans it, and removes it', async () => {
    const env = { DOCSIGHT_S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, DOCSIGHT_S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
    const added = await docsight(['sources', 'add', 'archive-clients', 's3://archive/clients', '--endpoint', s3.endpoint, '--region', 'us-east-1', '--path-style', ...srv], env);
    assert.equal(added.code, 0, show(added));
    assert.match(added.stdout, /Added source archive-clients \(s3:\/\/archive\/clients\/, credentials: stored\)/);

    const list = await docsight(['sources', 'list', ...srv]);
    assert.equal(list.code, 0, show(list));
    assert.match(list.stdout, /archive-clients\s+s3:\/\/archive\/clients\/\s+http:\/\/127\.0\.0\.1:\d+\s+stored/);
    const listed = await docsight(['sources', 'list', '--json', ...srv]);
    const items = (JSON.parse(listed.stdout) as { items: { name: string; forcePathStyle: boolean }[] }).items;
    assert.deepEqual(items.map((s) => [s.name, s.forcePathStyle]), [['archive-clients', true]]);
    for (const r of [added, list, listed]) assert.ok(!r.stdout.includes('S3RVER') && !r.stderr.includes('S3RVER'), 'no secret printed');

    const scanned = await docsight(['scan', 'archive-clients/Company A', ...srv]);
    assert.equal(scanned.code, 0, show(scanned));
    assert.match(scanned.stdout, /documents\s+1\b/);

    const removed = await docsight(['sources', 'remove', 'archive-clients', ...srv]);
    assert.equal(removed.code, 0, show(removed));
    assert.match(removed.stdout, /Removed source archive-clients/);
    const empty = await docsight(['sources', 'list', ...srv]);
    assert.match(empty.stdout, /No bucket sources/);
  });

  it('bad usage exits 2: no bucket URL, not an s3:// URL, a refused name, an unknown source', async () => {
    for (const args of [['sources', 'add', 'x'], ['sources', 'add', 'good-name', 'http://bucket/x'], ['sources', 'add', 'Bad_Name', 's3://archive'], ['sources', 'remove', 'nope'], ['sources']]) {
      const r = await docsight([...args, ...srv]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
      assert.match(r.stderr, /docsight sources: /);
    }
  });
});

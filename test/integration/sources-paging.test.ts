/**
 * A bucket larger than one ListObjectsV2 page (1,000 keys): the scan follows the continuation
 * tokens and records every object, and a rescan with nothing changed extracts nothing.
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
import { api, appOf, type ApiTarget, enc, waitForJob } from '../support/http.ts';
import { s3SourceBody, startS3, type TestS3 } from '../support/s3.ts';

const BUCKET = 'big-bucket';
const SOURCE = 'archive';
/** Two full pages and a part of a third. */
const OBJECTS = 2_050;

describe('a bucket of more than one listing page', () => {
  let db: TestDatabase;
  let root: string;
  let s3: TestS3;
  let runtime: Runtime;
  let app: ApiTarget;

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-paging-'));
    s3 = await startS3([BUCKET]);
    for (let i = 0; i < OBJECTS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, OBJECTS - i) }, (_, j) => {
          const n = i + j;
          return s3.put(BUCKET, `Folder ${n % 7}/note ${String(n).padStart(5, '0')}.txt`, `Note number ${n} of the archive.`);
        }),
      );
    }
    const config = parseConfig({
      DATABASE_URL: db.url,
      QUEUE_NAME: `t${Date.now().toString(36)}page`,
      DOCS_ROOT: root,
      PORT: '0',
      SECRETS_KEY: randomBytes(32).toString('base64'),
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
    app = appOf(runtime);
    const r = await api(app, 'POST', '/v1/sources', s3SourceBody(s3, SOURCE, BUCKET));
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });

  after(async () => {
    await runtime?.stop();
    await s3?.close();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  const scan = async () => {
    const r = await api<{ id: string }>(app, 'POST', '/v1/scans', { path: SOURCE });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return waitForJob(app, r.body.id, 120_000);
  };

  it('records every object across the continuation tokens, and a rescan extracts none', async () => {
    const first = await scan();
    assert.equal(first.status, 'completed', JSON.stringify(first));
    const insights = await api<{ documentCount: number; subfolders: { path: string; documentCount: number }[] }>(app, 'GET', `/v1/folders/${enc(SOURCE)}/insights`);
    assert.equal(insights.body.documentCount, OBJECTS);
    assert.equal(insights.body.subfolders.length, 7);
    const again = await scan();
    assert.equal(again.status, 'completed');
    const extracted = await db.db.selectFrom('documents').select((eb) => eb.fn.max('extraction_count').as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(extracted.n), 1, 'nothing was read twice');
  });
});

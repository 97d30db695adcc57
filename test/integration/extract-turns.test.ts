/**
 * The extraction time limit is per document, from its turn at a thread: batches running at once
 * hand the threads only a few documents at a time, in the order the batches began, so a document
 * waiting behind hundreds of others does not fail with `timeout` before it has been parsed at all.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { writeTree } from '../support/documents-root.ts';
import { api, appOf, type ApiTarget, type JobBody, waitForJob } from '../support/http.ts';

/** Text files big enough that a thread takes milliseconds over each (hash, signature, detectors). */
const FILES = 120;
const WORDS = 'Quarterly report for client 4021 on invoice NL91ABNA0417164300 and the supplier agreement of 2024. ';

describe('extraction turns', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let app: ApiTarget;

  before(async () => {
    const body = WORDS.repeat(8_000); // ~800 KB
    root = await writeTree('docsight-turns-', Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`Big/doc-${i}.txt`, `${i} ${body}`])));
    db = await createTestDatabase({ migrate: false });
    // One thread for four batches at once: every document of them waits its turn at that thread.
    const config = parseConfig({ DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', EXTRACT_THREADS: '1', WORKER_CONCURRENCY: '4', SCAN_BATCH_SIZE: '40', EXTRACT_TIMEOUT_MS: '1500' });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
    app = appOf(runtime);
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('parses every document of batches running at once within a limit shorter than their queue', async () => {
    const started = await api<JobBody>(app, 'POST', '/v1/scans', { path: 'Big' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const job = await waitForJob(app, started.body.id, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    // Before the gate, all of them queued at the thread at once and the later ones timed out unparsed.
    assert.deepEqual([job.progress.done, job.progress.failed], [FILES, 0], JSON.stringify(job.failures ?? []));
  });
});

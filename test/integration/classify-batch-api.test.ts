/**
 * Classification through OpenAI's Batch API, through the whole service against the fake server's
 * /v1/files and /v1/batches over real HTTP: one upload and one batch instead of a request per
 * document, results mapped back and stored as direct ones are, the batch price in the accounts,
 * direct requests for exactly what a batch left unanswered (failed lines, expiry), polling that
 * survives a restart of the service, and a cancelled job cancelling its batch.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ClassifyRuntime, startClassifyRuntime } from '../support/classify-runtime.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { type FakeOpenAI, type FakeOpenAIBehaviour, startFakeOpenAI } from '../support/fake-openai.ts';
import { api, type ApiTarget, enc, type JobBody, waitForJob } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

const TOPICS = [
  'Risk analysis: the main risk is supplier delay. Risk management plan attached.',
  'Financial report: the quarterly budget, invoices and financial forecast.',
  'Meeting notes of the weekly meeting. Notes on the agenda items.',
  'Internal policy on remote work. This policy applies to all employees.',
  'Project plan with milestones, the project schedule and deliverables.',
  'Contract between the parties: terms of the agreement and signatures.',
];

const BATCH_DEFAULTS: Partial<FakeOpenAIBehaviour> = { batchDelayMs: 300, batchEnd: 'completed', batchExpireAnswered: 0, batchFailEvery: 0 };

/** gpt-4o-mini's list price (classify/cost.ts), USD per token. */
const PRICE = { input: 0.15 / 1e6, output: 0.6 / 1e6 };

interface JobUsage extends JobBody {
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
}

describe('classification through the Batch API', () => {
  let fake: FakeOpenAI;
  let root: string;
  let db: TestDatabase;
  let service: ClassifyRuntime | undefined;
  let app: ApiTarget;

  const start = async () => {
    service = await startClassifyRuntime(root, fake.url, { LLM_BATCH_API: 'true', LLM_BATCH_POLL_MS: '100' }, { db });
    app = service.app;
  };

  const folder = async (name: string, count: number) => {
    await mkdir(path.join(root, name));
    for (let i = 0; i < count; i++) await writeFile(path.join(root, name, `doc-${i}.txt`), `${TOPICS[i % TOPICS.length]} (${name} ${i})`);
  };

  const classify = async (body: Record<string, unknown>) => {
    const started = await api<JobBody>(app, 'POST', '/v1/classifications', body);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    return started.body.id;
  };

  /** A folder of `count` documents, classified against a fake set up with `patch` (reset to the suite's own after). */
  const scenario = async (name: string, count: number, patch: Partial<FakeOpenAIBehaviour>, fn: () => Promise<void>) => {
    await folder(name, count);
    fake.reset();
    fake.set(patch);
    try {
      await fn();
    } finally {
      fake.set(BATCH_DEFAULTS);
    }
  };

  /** The chat requests the fake saw, as the documents' file names. */
  const directDocuments = () =>
    fake.requests.map((r) => /doc-\d+\.txt/.exec(r.messages.map((m) => m.content).join('\n'))?.[0] ?? '?').sort();

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-batch-api-'));
    fake = await startFakeOpenAI(BATCH_DEFAULTS);
    db = await createTestDatabase({ migrate: false });
    await start();
  });

  after(async () => {
    await service?.stop();
    await db?.drop();
    await fake?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('sends a folder as one upload and one batch, stores every result, and accounts at the batch price', async () => {
    await folder('Whole', 6);
    fake.reset();
    const id = await classify({ path: 'Whole', mode: 'batch' });
    const job = (await api<JobUsage>(app, 'GET', `/v1/jobs/${(await waitForJob(app, id)).id}`)).body;
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.deepEqual([job.progress.done, job.progress.failed], [6, 0]);
    assert.equal(fake.stats.requests, 0, 'no chat request per document');
    assert.equal(fake.stats.fileUploads, 1);
    assert.equal(fake.stats.batchCreates, 1);
    assert.ok(fake.stats.batchRetrieves >= 1, 'polled until the batch ended');
    assert.equal(fake.stats.batchLinesAnswered, 6);
    assert.equal(fake.batches[0]?.status, 'completed');

    // Tokens as the fake counted them; the cost at half of gpt-4o-mini's list price.
    assert.equal(job.usage.inputTokens, fake.stats.promptTokens);
    assert.equal(job.usage.outputTokens, fake.stats.completionTokens);
    const full = fake.stats.promptTokens * PRICE.input + fake.stats.completionTokens * PRICE.output;
    // Costs are stored to the millionth of a dollar per document.
    assert.ok(Math.abs(job.usage.costUsd - full * 0.5) < 1e-5, `cost ${job.usage.costUsd}, expected ${full * 0.5}`);

    const docs = await api<{ items: { id: string; name: string }[] }>(app, 'GET', `/v1/folders/${enc('Whole')}/documents?limit=100`);
    for (const d of docs.body.items) {
      const c = (await api<{ classification: { primaryCategory: string; tags: { label: string }[]; summary: string } | null }>(app, 'GET', `/v1/documents/${d.id}`)).body.classification;
      assert.ok(c, `${d.name} has a result`);
      assert.ok(c.tags.some((t) => t.label === c.primaryCategory));
      assert.match(c.summary, /Fake summary/);
    }
  });

  it('estimates at the batch price', async () => {
    const direct = await api<{ estimatedCostUsd: number; mode: string }>(app, 'POST', '/v1/classifications', { path: 'Whole', dryRun: true, mode: 'direct' });
    const batch = await api<{ estimatedCostUsd: number; mode: string }>(app, 'POST', '/v1/classifications', { path: 'Whole', dryRun: true, mode: 'batch' });
    assert.equal(direct.status, 200, JSON.stringify(direct.body));
    assert.deepEqual([direct.body.mode, batch.body.mode], ['direct', 'batch']);
    assert.ok(direct.body.estimatedCostUsd > 0);
    assert.ok(Math.abs(batch.body.estimatedCostUsd - direct.body.estimatedCostUsd / 2) < 2e-6, JSON.stringify([direct.body, batch.body]));
  });

  it('sends directly only the documents whose batch lines failed', async () => {
    await scenario('Partial', 6, { batchFailEvery: 3 }, async () => {
      const job = await waitForJob(app, await classify({ path: 'Partial', mode: 'batch' }));
      assert.equal(job.status, 'completed', JSON.stringify(job));
      assert.deepEqual([job.progress.done, job.progress.failed], [6, 0], JSON.stringify(job.failures));
      assert.equal(fake.stats.batchCreates, 1);
      assert.equal(fake.stats.batchLinesAnswered, 4);
      // Lines 3 and 6 of the batch failed: those two documents, and only they, went directly.
      assert.equal(fake.stats.requests, 2);
      assert.equal(new Set(directDocuments()).size, 2);
    });
  });

  it('sends directly what an expired batch did not answer', async () => {
    await scenario('Expired', 5, { batchEnd: 'expired', batchExpireAnswered: 2 }, async () => {
      const job = await waitForJob(app, await classify({ path: 'Expired', mode: 'batch' }));
      assert.equal(job.status, 'completed', JSON.stringify(job));
      assert.deepEqual([job.progress.done, job.progress.failed], [5, 0], JSON.stringify(job.failures));
      assert.equal(fake.batches[0]?.status, 'expired');
      assert.equal(fake.stats.batchLinesAnswered, 2);
      assert.equal(fake.stats.requests, 3);
    });
  });

  it('keeps polling the same batch after the service restarts', async () => {
    await scenario('Restart', 4, { batchDelayMs: 2500 }, async () => {
      const id = await classify({ path: 'Restart', mode: 'batch' });
      await waitFor(() => fake.stats.batchRetrieves, { what: 'the batch to be polled', timeoutMs: 20_000, until: (n) => n >= 1 });
      await service?.stop();
      service = undefined;
      const before = fake.stats.batchRetrieves;
      await start();
      const job = await waitForJob(app, id, 30_000);
      assert.equal(job.status, 'completed', JSON.stringify(job));
      assert.equal(job.progress.done, 4);
      assert.equal(fake.stats.batchCreates, 1, 'the batch was not submitted again');
      assert.ok(fake.stats.batchRetrieves > before, 'the restarted worker polled it');
      assert.equal(fake.stats.requests, 0);
    });
  });

  it('refuses batch mode with a coded error when the provider does not offer the Batch API', async () => {
    // An OpenAI-compatible server on another host: no Batch API unless LLM_BATCH_API says so.
    const plain = await startClassifyRuntime(root, fake.url);
    try {
      const refused = await api<{ error: { code: string; message: string } }>(plain.app, 'POST', '/v1/classifications', { path: 'Whole', mode: 'batch' });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'bad_request');
      assert.match(refused.body.error.message, /Batch API/);
      const auto = await api<{ mode: string }>(plain.app, 'POST', '/v1/classifications', { path: 'Whole', dryRun: true });
      assert.equal(auto.body.mode, 'direct');
    } finally {
      await plain.stop();
    }
  });

  it('cancels the batch with its job', async () => {
    await scenario('Cancel', 3, { batchDelayMs: 600_000 }, async () => {
      const id = await classify({ path: 'Cancel', mode: 'batch' });
      await waitFor(() => fake.batches[0]?.status, { what: 'the batch to be polled', timeoutMs: 20_000, until: (s) => s === 'in_progress' });
      const cancelled = await api<JobBody>(app, 'POST', `/v1/jobs/${id}/cancel`);
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      await waitFor(() => fake.batches[0]?.status, { what: 'the batch to be cancelled', timeoutMs: 10_000, until: (s) => s === 'cancelled' });
      assert.equal(fake.stats.requests, 0);
      assert.equal((await waitForJob(app, id)).status, 'cancelled');
    });
  });
});

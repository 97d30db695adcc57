/**
 * A server whose answers fit the schema but break the prompt's rules (as small open models do),
 * through the whole service: every document is classified with one request, nothing fails, and
 * the result is stored with what was set right, shown on the document. A clean rerun stores none.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ClassifyRuntime, startClassifyRuntime } from '../support/classify-runtime.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { api, type ApiTarget, enc, type JobBody, waitForJob } from '../support/http.ts';

const FILES: Record<string, string> = {
  'risk.txt': 'Risk analysis: the main risk is supplier delay. Risk management plan attached.',
  'budget.txt': 'Financial report: the quarterly budget, invoices and financial forecast.',
  'meeting.txt': 'Meeting notes of the weekly meeting. Notes on the agenda items.',
  'policy.txt': 'Internal policy on remote work. This policy applies to all employees.',
};

interface ClassificationBody {
  primaryCategory: string;
  tags: { label: string; confidence: number }[];
  summaryLanguage: string;
  language: string | null;
  warnings: string[];
}

describe('classification against a server that breaks the prompt rules', () => {
  let fake: FakeOpenAI;
  let root: string;
  let service: ClassifyRuntime | undefined;
  let app: ApiTarget;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-sloppy-'));
    await mkdir(path.join(root, 'Sloppy'));
    for (const [name, text] of Object.entries(FILES)) await writeFile(path.join(root, 'Sloppy', name), text);
    fake = await startFakeOpenAI({ sloppyRate: 1 });
    service = await startClassifyRuntime(root, fake.url, { CLASSIFY_BATCH_SIZE: '2' });
    app = service.app;
  });

  after(async () => {
    await service?.stop();
    await fake?.close();
    await rm(root, { recursive: true, force: true });
  });

  const classifications = async () => {
    const list = await api<{ items: { id: string }[] }>(app, 'GET', `/v1/folders/${enc('Sloppy')}/documents?limit=100`);
    return Promise.all(
      list.body.items.map(async (d) => (await api<{ classification: ClassificationBody | null }>(app, 'GET', `/v1/documents/${d.id}`)).body.classification),
    );
  };

  it('keeps every document with one request each, stores and shows the warnings', async () => {
    const start = await api<JobBody>(app, 'POST', '/v1/classifications', { path: 'Sloppy' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const job = await waitForJob(app, start.body.id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.deepEqual([job.progress.done, job.progress.failed], [4, 0], JSON.stringify(job.failures));
    assert.equal(fake.stats.requests, 4, 'one request per document: no repair');
    assert.equal(fake.stats.byOutcome.sloppy, 4);

    const results = await classifications();
    assert.equal(results.length, 4);
    for (const c of results) {
      assert.ok(c);
      assert.ok(c.tags.some((t) => t.label === c.primaryCategory), 'the primary category is among the tags');
      assert.ok(c.tags.every((t) => t.confidence >= 0 && t.confidence <= 1));
      assert.match(c.language ?? '', /^[a-z]{2,3}(?:-[a-z0-9]+)*$/, 'a language code, not the model\'s language name');
      for (const w of ['confidence_rescaled', 'duplicate_labels_merged', 'primary_category_added_to_tags', 'summary_language_dropped']) {
        assert.ok(c.warnings.includes(w), `${w} missing from ${c.warnings.join(', ')}`);
      }
    }
  });

  it('a clean rerun stores no warnings', async () => {
    fake.set({ sloppyRate: 0 });
    const start = await api<JobBody>(app, 'POST', '/v1/classifications', { path: 'Sloppy', force: true });
    const job = await waitForJob(app, start.body.id, 60_000);
    assert.deepEqual([job.status, job.progress.done, job.progress.failed], ['completed', 4, 0]);
    for (const c of await classifications()) assert.deepEqual(c?.warnings, []);
  });
});

/**
 * Exact duplicates are classified once: a classification job over a folder where one content is
 * held by three files (in other subfolders and batches of one document) sends it to the model
 * once, every copy gets the same tags and summary, the usage is booked once, and the document page
 * says which other documents hold the same content. A later copy is classified from the result
 * already there, without a request; a forced run sends each content once again.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DocumentDetail, DocumentItem } from '../../src/contract.ts';
import { startClassifyRuntime, type ClassifyRuntime } from '../support/classify-runtime.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { api, enc, type JobBody, waitForJob } from '../support/http.ts';

describe('exact duplicates are classified once', () => {
  let root: string;
  let fake: FakeOpenAI;
  let rt: ClassifyRuntime;
  const report = buildDocx({ title: 'Budget', paragraphs: ['Financial report: the quarterly budget, invoices and financial forecast for the board.'] });
  const write = async (rel: string, body: Uint8Array) => {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), body);
  };
  const classify = async (body: Record<string, unknown>) => {
    const start = await api<JobBody>(rt.app, 'POST', '/v1/classifications', body);
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const job = await waitForJob(rt.app, start.body.id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    return job;
  };
  const items = async () => (await api<{ items: DocumentItem[] }>(rt.app, 'GET', `/v1/folders/${enc('.')}/documents?limit=100`)).body.items;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-classify-dups-'));
    await write('A/budget.docx', report);
    await write('A/budget (kopie).docx', report);
    await write('B/budget 2024.docx', report);
    await write('B/meeting.docx', buildDocx({ title: 'Meeting', paragraphs: ['Meeting notes of the weekly meeting. Notes on the agenda items.'] }));
    fake = await startFakeOpenAI({ latencyMs: 20 });
    // Batches of one document: copies ride along with their first copy, not in batches of their own.
    rt = await startClassifyRuntime(root, fake.url, { CLASSIFY_BATCH_SIZE: '1' });
  });

  after(async () => {
    await rt?.stop();
    await fake?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('sends each content once and gives every copy its result', async () => {
    const job = await classify({ path: '.' });
    assert.deepEqual(job.progress, { total: 4, done: 4, failed: 0, skipped: 0, percent: 100 });
    assert.equal(fake.stats.requests, 2, 'one request for the three copies, one for the other document');
    const byPath = new Map((await items()).map((d) => [d.path, d]));
    const copies = ['A/budget (kopie).docx', 'A/budget.docx', 'B/budget 2024.docx'].map((p) => byPath.get(p));
    for (const d of copies) assert.equal(d?.primaryCategory, 'Financial Reports', d?.path);
    assert.deepEqual(new Set(copies.map((d) => JSON.stringify(d?.tags))).size, 1);

    const details = await Promise.all(copies.map(async (d) => (await api<DocumentDetail>(rt.app, 'GET', `/v1/documents/${d?.id}`)).body));
    const tokens = details.map((d) => d.classification?.inputTokens ?? -1).sort((a, b) => a - b);
    assert.deepEqual(tokens.slice(0, 2), [0, 0], 'the copies carry no usage of their own');
    assert.ok((tokens[2] ?? 0) > 0, 'the one sent carries it');
    const meeting = await api<DocumentDetail>(rt.app, 'GET', `/v1/documents/${byPath.get('B/meeting.docx')?.id}`);
    const full = await api<{ usage: { inputTokens: number } }>(rt.app, 'GET', `/v1/jobs/${job.id}`);
    assert.equal(full.body.usage.inputTokens, (tokens[2] ?? 0) + (meeting.body.classification?.inputTokens ?? 0), 'the job books each request once');

    const first = details.find((d) => d.path === 'A/budget.docx');
    assert.deepEqual(first?.sameContent, {
      total: 2,
      items: [
        { id: byPath.get('A/budget (kopie).docx')?.id, path: 'A/budget (kopie).docx' },
        { id: byPath.get('B/budget 2024.docx')?.id, path: 'B/budget 2024.docx' },
      ],
    });
    assert.deepEqual(meeting.body.sameContent, { total: 0, items: [] });
  });

  it('shares the result with a copy that comes later, without a request', async () => {
    await write('C/budget final.docx', report);
    const before = fake.stats.requests;
    const job = await classify({ path: 'C' });
    assert.deepEqual([job.progress.done, job.progress.failed], [1, 0]);
    assert.equal(fake.stats.requests, before, 'the content had a result under the same key');
    const copy = (await items()).find((d) => d.path === 'C/budget final.docx');
    assert.equal(copy?.primaryCategory, 'Financial Reports');
  });

  it('a forced run sends each content once again', async () => {
    const before = fake.stats.requests;
    const job = await classify({ path: '.', force: true });
    assert.deepEqual([job.progress.total, job.progress.done], [5, 5]);
    assert.equal(fake.stats.requests - before, 2);
  });
});

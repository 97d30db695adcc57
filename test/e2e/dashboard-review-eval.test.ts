/**
 * The review queue and the Evaluations page in headless Chromium, against the whole service with
 * the fake OpenAI server: a reviewer removes a tag, picks the primary category and saves, the
 * next document follows and the API stores the correction; an evaluation's numbers and a
 * comparison of two runs are shown as the API computed them.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Evaluation } from '../../src/contract.ts';
import { type Browser, chromiumMissing, ensureDashboardBuilt, openPage } from '../support/browser.ts';
import { type ClassifyRuntime, startClassifyRuntime } from '../support/classify-runtime.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { writeTree } from '../support/documents-root.ts';
import { api, type ApiTarget, type JobBody, waitForJob } from '../support/http.ts';
import { REPO } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

const SHOTS = path.join(REPO, 'test-output', 'screenshots');
const skip = chromiumMissing();

const LABELS = ['Meeting Notes', 'Financial Reports', 'Risk Management', 'Miscellaneous'].map((name) => ({ name }));

// Under the threshold of 0.75: "A short meeting about the budget." (Meeting Notes 0.6) and
// "Nothing to say." (Miscellaneous 0.5); b.txt's result is the older one.
const FILES: Record<string, string> = {
  'Team/a.txt': 'A short meeting about financial matters.',
  'Team/b.txt': 'Nothing to say.',
};

describe('dashboard: review queue and evaluations (headless Chromium)', { skip }, () => {
  let fake: FakeOpenAI;
  let root: string;
  let service: ClassifyRuntime | undefined;
  let app: ApiTarget;
  let base: string;
  let browser: Browser;
  let page: Page;
  const ids: Record<string, string> = {};
  const pageErrors: string[] = [];

  before(async () => {
    ensureDashboardBuilt();
    await mkdir(SHOTS, { recursive: true });
    root = await writeTree('docsight-dash-review-', FILES);
    fake = await startFakeOpenAI({});
    service = await startClassifyRuntime(root, fake.url, { REVIEW_CONFIDENCE_THRESHOLD: '0.75' });
    app = service.app;
    const fastify = app as unknown as { server: { address(): { port: number } } };
    base = `http://127.0.0.1:${fastify.server.address().port}`;
    assert.equal((await api(app, 'POST', '/v1/taxonomies', { name: 'team', labels: LABELS })).status, 201);
    const scan = await api<JobBody>(app, 'POST', '/v1/scans', { path: 'Team' });
    assert.equal((await waitForJob(app, scan.body.id)).status, 'completed');
    const list = await api<{ items: { id: string; name: string }[] }>(app, 'GET', '/v1/folders/Team/documents');
    for (const d of list.body.items) ids[d.name] = d.id;
    for (const name of ['b.txt', 'a.txt']) {
      const job = await api<JobBody>(app, 'POST', '/v1/classifications', { documentIds: [ids[name]], taxonomy: 'team' });
      assert.equal((await waitForJob(app, job.body.id)).status, 'completed');
    }
    ({ browser, page } = await openPage(pageErrors, { width: 1440, height: 900 }));
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
    await fake?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('reviews the queue oldest first: accept, then correct, and the queue empties', async () => {
    await page.goto(`${base}/folders/Team`);
    await page.getByRole('link', { name: /2 · review/ }).click();
    await page.getByTestId('review-item').getByRole('link', { name: 'Team/b.txt' }).waitFor();
    await page.getByRole('button', { name: 'Accept as it is' }).click();

    await page.getByTestId('review-item').getByRole('link', { name: 'Team/a.txt' }).waitFor();
    await page.getByRole('button', { name: 'Remove Meeting Notes' }).click();
    await page.getByLabel('Add a tag').selectOption('Risk Management');
    await page.getByLabel('Primary category').selectOption('Financial Reports');
    await page.screenshot({ path: path.join(SHOTS, 'review.png'), fullPage: true });
    await page.getByRole('button', { name: 'Save and next' }).click();
    await page.getByTestId('review-empty').waitFor();

    const a = await api<{ classification: { model: string; primaryCategory: string; tags: { label: string }[]; review: { accepted: boolean } } }>(
      app,
      'GET',
      `/v1/documents/${ids['a.txt']}`,
    );
    assert.equal(a.body.classification.model, 'review');
    assert.equal(a.body.classification.primaryCategory, 'Financial Reports');
    assert.deepEqual(a.body.classification.tags.map((t) => t.label).sort(), ['Financial Reports', 'Risk Management']);
    const b = await api<{ classification: { review: { accepted: boolean } } }>(app, 'GET', `/v1/documents/${ids['b.txt']}`);
    assert.equal(b.body.classification.review.accepted, true);
    assert.deepEqual(pageErrors, []);
  });

  it('shows an evaluation\'s numbers and two runs compared, as the API computed them', async () => {
    // The corrections above are the gold labels; a second taxonomy version gives a second run.
    const first = await api<Evaluation>(app, 'POST', '/v1/evaluations', { path: 'Team', taxonomy: 'team' });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    await api(app, 'PUT', '/v1/taxonomies/team', { labels: [...LABELS, { name: 'Short Notes' }] });
    const second = await api<Evaluation>(app, 'POST', '/v1/evaluations', { path: 'Team', taxonomy: 'team' });
    const done = (id: string) =>
      waitFor(async () => (await api<Evaluation>(app, 'GET', `/v1/evaluations/${id}`)).body, { what: 'the evaluation', timeoutMs: 60_000, until: (e) => e.status === 'completed' });
    const [ea, eb] = await Promise.all([done(first.body.id), done(second.body.id)]);
    assert.ok(ea.metrics && eb.metrics);

    await page.goto(`${base}/evaluations`);
    const runs = page.getByTestId('eval-runs');
    await runs.waitFor();
    const microA = `${(ea.metrics.micro.f1 * 100).toFixed(1)}%`;
    const rowText = await runs.locator('tbody tr').last().textContent();
    assert.ok(rowText?.includes(microA), `${rowText} shows ${microA}`);
    const labels = await page.getByTestId('eval-labels').textContent();
    assert.match(labels ?? '', /Financial Reports/);

    await page.getByRole('checkbox', { name: `Compare ${ea.id}` }).check();
    await page.getByRole('checkbox', { name: `Compare ${eb.id}` }).check();
    const cmp = page.getByTestId('eval-compare');
    await cmp.waitFor();
    const cmpText = (await cmp.textContent()) ?? '';
    assert.match(cmpText, /Short Notes/);
    await page.screenshot({ path: path.join(SHOTS, 'evaluations.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });
});

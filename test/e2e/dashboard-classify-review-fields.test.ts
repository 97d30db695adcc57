/**
 * The classify form's request mode and the Review view's custom fields in headless Chromium,
 * against the whole service with the fake OpenAI server (which offers the Batch API here): the
 * estimate is priced for the Batch API when it is chosen, a classification started in that mode
 * goes through /v1/batches, and a reviewer corrects field values by their types (a value the type
 * cannot read is refused and shown), which are stored typed and count as gold, the others not.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { ClassificationEstimate } from '../../src/contract.ts';
import { type Browser, chromiumMissing, ensureDashboardBuilt, openPage } from '../support/browser.ts';
import { CONTRACT_FIELDS, CONTRACT_TEXT } from '../support/classification-fixtures.ts';
import { type ClassifyFixture, runEvaluation, startClassifyFixture } from '../support/classify-runtime.ts';
import { api, type ApiTarget, type JobBody, waitForJob } from '../support/http.ts';
import { REPO } from '../support/processes.ts';

const SHOTS = path.join(REPO, 'test-output', 'screenshots');
const skip = chromiumMissing();

describe('dashboard: classification mode and field corrections (headless Chromium)', { skip }, () => {
  let fixture: ClassifyFixture | undefined;
  let app: ApiTarget;
  let base: string;
  let browser: Browser | undefined;
  let page: Page;
  let id = '';
  const pageErrors: string[] = [];

  before(async () => {
    ensureDashboardBuilt();
    await mkdir(SHOTS, { recursive: true });
    fixture = await startClassifyFixture({
      prefix: 'docsight-dash-fields-',
      files: { 'Deals/a.txt': CONTRACT_TEXT },
      folder: 'Deals',
      taxonomy: { name: 'deals', labels: [{ name: 'Contracts' }, { name: 'Miscellaneous' }], fields: CONTRACT_FIELDS },
      // Every answer of the fake is under 0.99: the document is queued for review.
      env: { LLM_BATCH_API: 'true', LLM_BATCH_POLL_MS: '100', REVIEW_CONFIDENCE_THRESHOLD: '0.99' },
    });
    ({ app, base } = fixture);
    id = fixture.ids['a.txt'] ?? '';
    ({ browser, page } = await openPage(pageErrors, { width: 1440, height: 900 }));
  });

  after(async () => {
    await browser?.close();
    await fixture?.stop();
  });

  it('chooses the Batch API in the classify form: the estimate says so, and the job goes through /v1/batches', async () => {
    const estimate = async (mode: string) =>
      (await api<ClassificationEstimate>(app, 'POST', '/v1/classifications', { path: 'Deals', taxonomy: 'deals', mode, dryRun: true })).body;
    const [direct, batch] = [await estimate('direct'), await estimate('batch')];
    assert.equal(batch.mode, 'batch');
    assert.equal(batch.estimatedCostUsd, Math.round(direct.estimatedCostUsd * 0.5 * 1e6) / 1e6, 'the Batch API price (LLM_BATCH_PRICE_FACTOR 0.5)');

    await page.goto(`${base}/folders/Deals`);
    await page.getByRole('button', { name: 'Classify…' }).click();
    const form = page.getByRole('form', { name: 'Classify Deals' });
    await form.getByLabel('Taxonomy').selectOption({ label: 'deals (v1, 2 labels)' });
    await form.getByLabel('Requests').selectOption('batch');
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/classifications') && r.method() === 'POST');
    await form.getByRole('button', { name: 'Estimate cost' }).click();
    assert.equal((await sent).postDataJSON().mode, 'batch');
    const notice = form.getByRole('status');
    await notice.waitFor();
    assert.match((await notice.textContent()) ?? '', /1 documents to classify with gpt-4o-mini.*at the Batch API's price/);
    await page.screenshot({ path: path.join(SHOTS, 'classify-batch-estimate.png'), fullPage: true });

    // Another mode: the old estimate goes; the new one is for direct requests.
    await form.getByLabel('Requests').selectOption('direct');
    await notice.waitFor({ state: 'detached' });
    await form.getByRole('button', { name: 'Estimate cost' }).click();
    await form.getByRole('status').getByText(/in direct requests/).waitFor();

    await form.getByLabel('Requests').selectOption('batch');
    const started = page.waitForResponse((r) => r.url().endsWith('/v1/classifications') && r.request().method() === 'POST');
    await form.getByRole('button', { name: 'Start classification' }).click();
    const job = (await (await started).json()) as JobBody;
    assert.equal((await waitForJob(app, job.id, 60_000)).status, 'completed');
    assert.equal(fixture?.fake.stats.batchCreates, 1, 'sent through the Batch API');
    assert.deepEqual(pageErrors, []);
  });

  it('corrects field values by type in the Review view; a value its type cannot read is refused', async () => {
    await page.goto(`${base}/review/Deals`);
    const item = page.getByTestId('review-item');
    await item.waitFor();
    const fields = page.getByTestId('review-fields');
    // The result's values, each in the input of its type.
    assert.equal(await fields.getByLabel('counterparty').inputValue(), 'Acme BV');
    assert.equal(await fields.getByLabel('end_date').inputValue(), '2025-12-31');
    assert.equal(await fields.getByLabel('signed').inputValue(), 'false');
    assert.equal(await fields.getByLabel('kind').inputValue(), 'Lease');

    await fields.getByLabel('contract_value').fill('lots of money');
    await page.getByRole('button', { name: 'Save and next' }).click();
    const alert = item.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /contract_value/);

    await fields.getByLabel('contract_value').fill('€ 1.250,00');
    await fields.getByLabel('end_date').fill('2026-01-31');
    await fields.getByLabel('signed').selectOption('true');
    await fields.getByLabel('kind').selectOption('Service');
    await page.screenshot({ path: path.join(SHOTS, 'review-fields.png'), fullPage: true });
    await page.getByRole('button', { name: 'Save and next' }).click();
    await page.getByTestId('review-empty').waitFor();

    const doc = await api<{ classification: { model: string; fields: Record<string, unknown> } }>(app, 'GET', `/v1/documents/${id}`);
    assert.equal(doc.body.classification.model, 'review');
    assert.deepEqual(doc.body.classification.fields, { counterparty: 'Acme BV', contract_value: 1250, end_date: '2026-01-31', signed: true, kind: 'Service' });

    // Gold: the four values the reviewer changed; counterparty, left alone, is the model's and not scored.
    const done = await runEvaluation(app, { path: 'Deals', taxonomy: 'deals' });
    assert.deepEqual(
      done.metrics?.fields.map((f) => [f.field, f.compared, f.correct]),
      [
        ['contract_value', 1, 0],
        ['end_date', 1, 0],
        ['kind', 1, 0],
        ['signed', 1, 0],
      ],
    );
    assert.deepEqual(pageErrors, []);
  });
});

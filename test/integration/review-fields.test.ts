/**
 * A reviewer corrects custom field values (real PostgreSQL, the fake OpenAI server, which answers
 * each field from the document's `name: value` line): the review queue carries the result's typed
 * values, PATCH /v1/documents/{id}/classification reads the ones set by each field's type
 * (string, number, date, boolean, enum) and refuses what a type cannot read (400 invalid_field),
 * together with the tags in one request, and what was set is gold in an evaluation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReviewQueuePage } from '../../src/contract.ts';
import { CONTRACT_FIELDS, CONTRACT_TEXT } from '../support/classification-fixtures.ts';
import { type ClassifyFixture, runEvaluation, startClassifyFixture } from '../support/classify-runtime.ts';
import { api, type ApiTarget, type JobBody, waitForJob } from '../support/http.ts';

describe('reviewer corrections of custom field values', () => {
  let fixture: ClassifyFixture | undefined;
  let app: ApiTarget;
  let id = '';
  const patch = (body: unknown) =>
    api<{ error?: { code: string; message: string }; classification?: { model: string; tags: { label: string }[]; fields: Record<string, unknown> } }>(
      app,
      'PATCH',
      `/v1/documents/${id}/classification`,
      body,
    );

  before(async () => {
    fixture = await startClassifyFixture({
      prefix: 'docsight-review-fields-',
      files: { 'Deals/a.txt': CONTRACT_TEXT },
      folder: 'Deals',
      taxonomy: { name: 'deals', labels: [{ name: 'Contracts' }, { name: 'Leases' }, { name: 'Miscellaneous' }], fields: CONTRACT_FIELDS },
      // Every answer of the fake is under 0.99: the document is queued for review.
      env: { REVIEW_CONFIDENCE_THRESHOLD: '0.99' },
    });
    app = fixture.app;
    id = fixture.ids['a.txt'] ?? '';
    const job = await api<JobBody>(app, 'POST', '/v1/classifications', { path: 'Deals', taxonomy: 'deals' });
    assert.equal((await waitForJob(app, job.body.id)).status, 'completed');
  });

  after(async () => {
    await fixture?.stop();
  });

  it('the review queue carries the typed field values of the result', async () => {
    const q = await api<ReviewQueuePage>(app, 'GET', '/v1/folders/Deals/review');
    assert.equal(q.status, 200, JSON.stringify(q.body));
    assert.deepEqual(q.body.items[0]?.fields, { counterparty: 'Acme BV', contract_value: 1200, end_date: '2025-12-31', signed: false, kind: 'Lease' });
  });

  it('refuses a value its field type cannot read, and a field the taxonomy does not define (400 invalid_field)', async () => {
    for (const fields of [{ contract_value: 'lots of money' }, { end_date: 'someday' }, { signed: 'perhaps' }, { kind: 'Loan' }, { invoice_number: 'X-1' }]) {
      const r = await patch({ tags: ['Contracts'], fields });
      assert.equal(r.status, 400, JSON.stringify(fields));
      assert.equal(r.body.error?.code, 'invalid_field', JSON.stringify(fields));
      assert.match(r.body.error?.message ?? '', new RegExp(Object.keys(fields)[0] ?? ''));
    }
    const wrongShape = await patch({ fields: { signed: { yes: true } } });
    assert.equal(wrongShape.status, 400);
    // Nothing was stored by a refused correction.
    const doc = await api<{ classification: { model: string } }>(app, 'GET', `/v1/documents/${id}`);
    assert.notEqual(doc.body.classification.model, 'review');
  });

  it('stores values of every type with the tags in one correction, typed, and leaves the queue', async () => {
    const r = await patch({
      tags: ['Contracts', 'Leases'],
      primaryCategory: 'Leases',
      fields: { Counterparty: 'ACME  BV', contract_value: '€ 1.250,00', end_date: '31-12-2025', signed: 'yes', kind: 'service' },
      accept: true,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.classification?.model, 'review');
    assert.deepEqual(r.body.classification?.tags.map((t) => t.label).sort(), ['Contracts', 'Leases']);
    assert.deepEqual(r.body.classification?.fields, { counterparty: 'ACME  BV', contract_value: 1250, end_date: '2025-12-31', signed: true, kind: 'Service' });
    const q = await api<ReviewQueuePage>(app, 'GET', '/v1/folders/Deals/review');
    assert.deepEqual(q.body.items, []);
    // A filter on a corrected value finds the document: the typed copy follows the correction.
    for (const [query, found] of [['field.signed=true', [id]], ['field.signed=false', []], ['field.contract_value.gte=1250', [id]]] as const) {
      const filtered = await api<{ items: { id: string }[] }>(app, 'GET', `/v1/folders/Deals/documents?${query}`);
      assert.equal(filtered.status, 200, JSON.stringify(filtered.body));
      assert.deepEqual(filtered.body.items.map((d) => d.id), found, query);
    }
  });

  it('the values the reviewer set are gold in an evaluation, scored against the model by exact match', async () => {
    const done = await runEvaluation(app, { path: 'Deals', taxonomy: 'deals' });
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.deepEqual(done.goldSources, { imported: 0, reviews: 1 });
    // The model said Acme BV (= ACME BV without case and spaces), 1200, 2025-12-31, false, Lease.
    assert.deepEqual(
      done.metrics?.fields.map((f) => [f.field, f.compared, f.correct]),
      [
        ['contract_value', 1, 0],
        ['counterparty', 1, 1],
        ['end_date', 1, 1],
        ['kind', 1, 0],
        ['signed', 1, 0],
      ],
    );
  });
});

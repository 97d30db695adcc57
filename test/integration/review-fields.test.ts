/**
 * A reviewer corrects custom field values (real PostgreSQL, the fake OpenAI server, which answers
 * each field from the document's `name: value` line): the review queue carries the result's typed
 * values, PATCH /v1/documents/{id}/classification reads the ones set by each field's type
 * (string, number, date, boolean, enum) and refuses what a type cannot read (400 invalid_field),
 * together with the tags in one request, and what was set is gold in an evaluation.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Evaluation, ReviewQueuePage } from '../../src/contract.ts';
import { type ClassifyRuntime, startClassifyRuntime } from '../support/classify-runtime.ts';
import { writeTree } from '../support/documents-root.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { api, type ApiTarget, type JobBody, waitForJob } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

const LABELS = [{ name: 'Contracts' }, { name: 'Leases' }, { name: 'Miscellaneous' }];
const FIELDS = [
  { name: 'counterparty', type: 'string' },
  { name: 'contract_value', type: 'number' },
  { name: 'end_date', type: 'date' },
  { name: 'signed', type: 'boolean' },
  { name: 'kind', type: 'enum', values: ['Lease', 'Service'] },
];

const FILES: Record<string, string> = {
  'Deals/a.txt': 'Contract.\ncounterparty: Acme BV\ncontract_value: 1200\nend_date: 2025-12-31\nsigned: false\nkind: Lease',
};

describe('reviewer corrections of custom field values', () => {
  let fake: FakeOpenAI;
  let root: string;
  let service: ClassifyRuntime | undefined;
  let app: ApiTarget;
  let id = '';
  const patch = (body: unknown) => api<{ error?: { code: string; message: string }; classification?: { model: string; tags: { label: string }[]; fields: Record<string, unknown> } }>(app, 'PATCH', `/v1/documents/${id}/classification`, body);

  before(async () => {
    root = await writeTree('docsight-review-fields-', FILES);
    fake = await startFakeOpenAI({});
    // Every answer of the fake is under 0.99: the document is queued for review.
    service = await startClassifyRuntime(root, fake.url, { REVIEW_CONFIDENCE_THRESHOLD: '0.99' });
    app = service.app;
    const t = await api(app, 'POST', '/v1/taxonomies', { name: 'deals', labels: LABELS, fields: FIELDS });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    const scan = await api<JobBody>(app, 'POST', '/v1/scans', { path: '.' });
    assert.equal((await waitForJob(app, scan.body.id)).status, 'completed');
    const list = await api<{ items: { id: string; name: string }[] }>(app, 'GET', '/v1/folders/Deals/documents');
    id = list.body.items[0]?.id ?? '';
    const job = await api<JobBody>(app, 'POST', '/v1/classifications', { path: 'Deals', taxonomy: 'deals' });
    assert.equal((await waitForJob(app, job.body.id)).status, 'completed');
  });

  after(async () => {
    await service?.stop();
    await fake?.close();
    await rm(root, { recursive: true, force: true });
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
    const start = await api<Evaluation>(app, 'POST', '/v1/evaluations', { path: 'Deals', taxonomy: 'deals' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const done = await waitFor(async () => (await api<Evaluation>(app, 'GET', `/v1/evaluations/${start.body.id}`)).body, {
      what: 'the evaluation to finish',
      timeoutMs: 60_000,
      until: (e) => e.status !== 'running',
    });
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

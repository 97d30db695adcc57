/**
 * Custom fields in evaluation, end to end (real PostgreSQL, the fake OpenAI server over HTTP, which
 * answers each field from the document's `name: value` line): gold field values imported with the
 * labels (read by the classifier's rules; an unknown field or an unreadable value refuses its
 * line) and set by a reviewer's correction (only the values the reviewer set count: the ones the
 * correction keeps are the model's), exact-match accuracy per field equal to the one computed by hand, and two runs (the
 * second under a taxonomy version without `kind`) compared field by field in the API and the CLI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Evaluation, EvaluationComparison, LabelImportReport } from '../../src/contract.ts';
import { runClientCommand } from '../../src/cli/index.ts';
import { type ClassifyFixture, runEvaluation, startClassifyFixture } from '../support/classify-runtime.ts';
import { api, type ApiTarget, type JobBody, waitForJob } from '../support/http.ts';

const LABELS = [{ name: 'Contracts' }, { name: 'Miscellaneous' }];
const FIELDS = [
  { name: 'counterparty', type: 'string' },
  { name: 'contract_value', type: 'number' },
  { name: 'end_date', type: 'date' },
  { name: 'kind', type: 'enum', values: ['Lease', 'Service'] },
];

// What the fake answers (after the classifier normalises it):
//   a  counterparty "Acme BV", contract_value 1200, end_date 2025-12-31, kind Lease
//   b  counterparty "Beta",    contract_value 500,  end_date 2024-12-31, kind Service
//   c  counterparty "Gamma",   contract_value null, end_date null,       kind Lease
//   d  every field null
//   e  counterparty "Epsilon", kind Service (reviewed: the reviewer sets counterparty and kind)
const FILES: Record<string, string> = {
  'Deals/a.txt': 'Contract.\ncounterparty: Acme BV\ncontract_value: 1200\nend_date: 2025-12-31\nkind: Lease',
  'Deals/b.txt': 'Contract.\ncounterparty: Beta\ncontract_value: 500\nend_date: 31-12-2024\nkind: Service',
  'Deals/c.txt': 'Contract.\ncounterparty: Gamma\nkind: Lease',
  'Deals/d.txt': 'Contract note.',
  'Deals/e.txt': 'Contract.\ncounterparty: Epsilon\ncontract_value: 75\nkind: Service',
};

// Gold, and whether each value matches the answer above:
//   a  every value matches once read: case and spaces, "€ 1.200,00", "31 December 2025", "lease"
//   b  counterparty ✗, contract_value ✓, end_date ✗ (a day off), kind ✓
//   c  contract_value null ✓ (a gold null is a value), end_date ✗ (none found)
//   d  no fields: scored on its tags only
//   e  (the correction) counterparty ✗ ("Epsilon Ltd"), kind ✓; contract_value kept from the model: not gold
// counterparty 1/3, contract_value 3/3, end_date 1/3, kind 3/3.
const GOLD = [
  { path: 'Deals/a.txt', tags: ['Contracts'], fields: { counterparty: ' acme  bv', contract_value: '€ 1.200,00', end_date: '31 December 2025', kind: 'lease' } },
  { path: 'Deals/b.txt', tags: ['Contracts'], fields: { Counterparty: 'Beta Services', contract_value: 500, end_date: '2024-12-30', kind: 'Service' } },
  { path: 'Deals/c.txt', tags: ['Contracts'], fields: { contract_value: null, end_date: '2026-01-01' } },
  { path: 'Deals/d.txt', tags: ['Contracts'] },
];

async function cli(server: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const [command, ...rest] = args;
  const code = await runClientCommand(command as 'eval', [...rest, '--server', server], {}, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

describe('evaluation of custom fields', () => {
  let fixture: ClassifyFixture | undefined;
  let app: ApiTarget;
  let first: Evaluation;
  let second: Evaluation;
  let eId = '';

  const postLabels = (body: string) =>
    api<LabelImportReport>(app, 'POST', '/v1/evaluations/labels?taxonomy=deals', body, { 'content-type': 'application/x-ndjson' });
  const run = () => runEvaluation(app, { path: 'Deals', taxonomy: 'deals' });

  before(async () => {
    // Every file is in Deals, so scanning Deals scans them all.
    fixture = await startClassifyFixture({ prefix: 'docsight-evalfields-', files: FILES, folder: 'Deals', taxonomy: { name: 'deals', labels: LABELS, fields: FIELDS } });
    app = fixture.app;
    eId = fixture.ids['e.txt'] ?? '';
    const job = await api<JobBody>(app, 'POST', '/v1/classifications', { documentIds: [eId], taxonomy: 'deals' });
    assert.equal((await waitForJob(app, job.body.id)).status, 'completed');
  });

  after(async () => {
    await fixture?.stop();
  });

  it('imports gold field values and refuses a line with an unknown field or an unreadable value', async () => {
    const lines = [
      ...GOLD.map((g) => JSON.stringify(g)),
      JSON.stringify({ path: 'Deals/d.txt', tags: ['Contracts'], fields: { invoice_number: 'X-1' } }),
      JSON.stringify({ path: 'Deals/d.txt', tags: ['Contracts'], fields: { contract_value: 'lots of money' } }),
      JSON.stringify({ path: 'Deals/d.txt', tags: ['Contracts'], fields: { kind: 'Loan' } }),
      JSON.stringify({ path: 'Deals/d.txt', tags: ['Contracts'], fields: ['kind'] }),
    ];
    const r = await postLabels(lines.join('\n'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.imported, 4);
    assert.deepEqual(
      r.body.errors.map((e) => [e.line, e.code]),
      [
        [5, 'unknown_field'],
        [6, 'invalid_field_value'],
        [7, 'invalid_field_value'],
        [8, 'invalid_line'],
      ],
    );
    assert.match(r.body.errors[0]?.message ?? '', /invoice_number.*counterparty, contract_value, end_date, kind/);
  });

  it('a correction sets field values (refusing unknown ones); the values it set are gold, the ones it kept are not', async () => {
    const bad = await api<{ error: { code: string } }>(app, 'PATCH', `/v1/documents/${eId}/classification`, { fields: { invoice_number: 'X' } });
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'invalid_field']);
    const unreadable = await api<{ error: { code: string } }>(app, 'PATCH', `/v1/documents/${eId}/classification`, { fields: { end_date: 'someday' } });
    assert.deepEqual([unreadable.status, unreadable.body.error.code], [400, 'invalid_field']);
    const r = await api(app, 'PATCH', `/v1/documents/${eId}/classification`, { fields: { counterparty: 'Epsilon Ltd' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // A second correction adds to what the first one set.
    assert.equal((await api(app, 'PATCH', `/v1/documents/${eId}/classification`, { fields: { KIND: 'service' } })).status, 200);
    const doc = await api<{ classification: { model: string; fields: Record<string, unknown> } }>(app, 'GET', `/v1/documents/${eId}`);
    assert.equal(doc.body.classification.model, 'review');
    assert.deepEqual(doc.body.classification.fields, { counterparty: 'Epsilon Ltd', contract_value: 75, end_date: null, kind: 'Service' });
  });

  it('a run reports exact-match accuracy per field over the labelled documents with gold values', async () => {
    first = await run();
    assert.equal(first.status, 'completed', JSON.stringify(first.error));
    assert.deepEqual(first.goldSources, { imported: 4, reviews: 1 });
    assert.equal(first.metrics?.scored, 5);
    assert.deepEqual(first.metrics?.fields, [
      { field: 'contract_value', compared: 3, correct: 3, accuracy: 1 },
      { field: 'counterparty', compared: 3, correct: 1, accuracy: 0.333333 },
      { field: 'end_date', compared: 3, correct: 1, accuracy: 0.333333 },
      { field: 'kind', compared: 3, correct: 3, accuracy: 1 },
    ]);
  });

  it('compares two runs field by field: a field the second taxonomy version dropped is predicted null', async () => {
    const put = await api(app, 'PUT', '/v1/taxonomies/deals', { labels: LABELS, fields: FIELDS.filter((f) => f.name !== 'kind') });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    second = await run();
    assert.equal(second.taxonomy.version, 2);
    assert.deepEqual(second.metrics?.fields.find((f) => f.field === 'kind'), { field: 'kind', compared: 3, correct: 0, accuracy: 0 });
    const cmp = await api<EvaluationComparison>(app, 'GET', `/v1/evaluations/compare?a=${first.id}&b=${second.id}`);
    assert.equal(cmp.status, 200, JSON.stringify(cmp.body));
    assert.deepEqual(
      cmp.body.delta.fields.map((f) => [f.field, f.a?.accuracy, f.b?.accuracy, f.accuracy]),
      [
        ['contract_value', 1, 1, 0],
        ['counterparty', 0.333333, 0.333333, 0],
        ['end_date', 0.333333, 0.333333, 0],
        ['kind', 1, 0, -1],
      ],
    );
  });

  it('the CLI prints the fields of a run and of a comparison', async () => {
    const server = fixture?.base ?? '';
    const shown = await cli(server, ['eval', 'show', first.id]);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /field\s+compared\s+correct\s+accuracy/);
    assert.match(shown.out, /end_date\s+3\s+1\s+33\.3%/);
    const compared = await cli(server, ['eval', 'compare', first.id, second.id]);
    assert.equal(compared.code, 0, compared.err);
    assert.match(compared.out, /kind\s+3\s+100\.0%\s+0\.0%\s+-100\.0/);
    assert.match(compared.out, /counterparty\s+3\s+33\.3%\s+33\.3%\s+0\.0/);
  });
});

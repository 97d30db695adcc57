/**
 * Custom fields end to end, through the API on a real PostgreSQL and the fake OpenAI server over
 * HTTP: a taxonomy with fields (and bad definitions refused with a code), one request per document
 * whose schema carries the fields, values normalised and stored typed, garbage for a field kept
 * as null with a warning, then listing filters, search facets and filters, and export columns.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import { type ClassifyRuntime, startClassifyRuntime } from '../support/classify-runtime.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { api, type ApiTarget, enc, type JobBody, waitForJob } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

const FILES: Record<string, string> = {
  'lease.txt': 'Lease contract for the office.\ncounterparty: Acme BV\ncontract_value: € 1.234,50\nend_date: 31-12-2025\nauto_renews: true\nkind: LEASE',
  'service.txt': 'Service contract for cleaning.\ncounterparty: Beta Services\ncontract_value: 5000\nend_date: 2024-06-30\nauto_renews: false\nkind: Service',
  'garbage.txt': 'Contract draft.\ncounterparty: Gamma\ncontract_value: lots of money\nend_date: someday soon\nkind: Loan',
  'note.txt': 'A short note about the canteen menu.',
};

const FIELDS = [
  { name: 'counterparty', type: 'string', description: 'The other party' },
  { name: 'contract_value', type: 'number', description: 'Total value in euros' },
  { name: 'end_date', type: 'date' },
  { name: 'auto_renews', type: 'boolean' },
  { name: 'kind', type: 'enum', values: ['Lease', 'Service', 'Purchase'] },
];

interface Classification {
  fields: Record<string, unknown>;
  warnings: string[];
}
interface Listed {
  items: { id: string; name: string }[];
}
interface ErrorBody {
  error: { code: string; message: string };
}

describe('custom fields', () => {
  let fake: FakeOpenAI;
  let root: string;
  let service: ClassifyRuntime | undefined;
  let app: ApiTarget;
  const byName = new Map<string, Classification>();

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-fields-'));
    await mkdir(path.join(root, 'Contracts'));
    for (const [name, text] of Object.entries(FILES)) await writeFile(path.join(root, 'Contracts', name), text);
    fake = await startFakeOpenAI();
    service = await startClassifyRuntime(root, fake.url);
    app = service.app;
  });

  after(async () => {
    await service?.stop();
    await fake?.close();
    await rm(root, { recursive: true, force: true });
  });

  const listed = async (query: string) => {
    const r = await api<Listed & ErrorBody>(app, 'GET', `/v1/folders/${enc('Contracts')}/documents?${query}`);
    return { status: r.status, names: r.status === 200 ? r.body.items.map((d) => d.name).sort() : [], code: r.body.error?.code };
  };

  it('refuses bad field definitions with a coded 400', async () => {
    const labels = [{ name: 'Contracts' }, { name: 'Miscellaneous' }];
    const bad: [unknown, string, RegExp][] = [
      [[{ name: 'kind', type: 'enum' }], 'invalid_field', /needs "values"/],
      [[{ name: 'end date', type: 'date' }], 'invalid_field', /letter/],
      [[{ name: 'n', type: 'number', values: ['1'] }], 'invalid_field', /only enum/],
      [[{ name: 'a', type: 'string' }, { name: 'A', type: 'string' }], 'invalid_field', /twice/],
      [Array.from({ length: 21 }, (_, i) => ({ name: `f${i}`, type: 'string' })), 'invalid_field', /at most 20/],
      [[{ name: 'n', type: 'float' }], 'bad_request', /schema/],
    ];
    for (const [fields, code, message] of bad) {
      const r = await api<ErrorBody>(app, 'POST', '/v1/taxonomies', { name: 'broken', labels, fields });
      assert.equal(r.status, 400, JSON.stringify(fields));
      assert.equal(r.body.error.code, code, JSON.stringify(r.body));
      assert.match(r.body.error.message, message);
    }
    assert.equal((await api(app, 'GET', '/v1/taxonomies/broken')).status, 404, 'nothing was created');
  });

  it('creates a taxonomy with fields; an edit without fields keeps them', async () => {
    const r = await api<{ fields: unknown[]; version: number }>(app, 'POST', '/v1/taxonomies', {
      name: 'contracts',
      labels: [{ name: 'Contracts', description: 'Agreements with another party' }, { name: 'Miscellaneous' }],
      fields: FIELDS,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.fields, FIELDS);
    const edit = await api<{ fields: unknown[]; version: number }>(app, 'PUT', '/v1/taxonomies/contracts', {
      labels: [{ name: 'Contracts', description: 'Agreements with another party' }, { name: 'Miscellaneous' }],
    });
    assert.equal(edit.status, 200, JSON.stringify(edit.body));
    assert.equal(edit.body.version, 2);
    assert.deepEqual(edit.body.fields, FIELDS);
    const badEdit = await api<ErrorBody>(app, 'PUT', '/v1/taxonomies/contracts', { labels: [{ name: 'Contracts' }], fields: [{ name: 'x', type: 'enum', values: [] }] });
    assert.equal(badEdit.status, 400);
    assert.equal(badEdit.body.error.code, 'invalid_field');
  });

  it('extracts the fields in the one request per document, normalised and typed; garbage keeps the document', async () => {
    const start = await api<JobBody>(app, 'POST', '/v1/classifications', { path: 'Contracts', taxonomy: 'contracts' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const job = await waitForJob(app, start.body.id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.deepEqual([job.progress.done, job.progress.failed], [4, 0], JSON.stringify(job.failures));
    assert.equal(fake.stats.requests, 4, 'one request per document: fields ride along, no repair');
    const schema = fake.requests[0]?.schema as { properties: { fields: { required: string[]; additionalProperties: boolean } } };
    assert.deepEqual(schema.properties.fields.required, FIELDS.map((f) => f.name));
    assert.equal(schema.properties.fields.additionalProperties, false);
    assert.match(fake.requests[0]?.messages[0]?.content ?? '', /- contract_value \(a number[^)]*\): Total value in euros/);

    const list = await api<Listed>(app, 'GET', `/v1/folders/${enc('Contracts')}/documents?limit=100`);
    for (const d of list.body.items) {
      const doc = await api<{ classification: Classification | null }>(app, 'GET', `/v1/documents/${d.id}`);
      assert.ok(doc.body.classification, d.name);
      byName.set(d.name, doc.body.classification);
    }
    const lease = byName.get('lease.txt');
    assert.deepEqual(lease?.fields, { counterparty: 'Acme BV', contract_value: 1234.5, end_date: '2025-12-31', auto_renews: true, kind: 'Lease' });
    assert.ok(lease?.warnings.includes('field_value_converted'), lease?.warnings.join());
    assert.ok(!lease?.warnings.includes('field_value_dropped'));
    assert.deepEqual(byName.get('service.txt')?.fields, { counterparty: 'Beta Services', contract_value: 5000, end_date: '2024-06-30', auto_renews: false, kind: 'Service' });
    const garbage = byName.get('garbage.txt');
    assert.deepEqual(garbage?.fields, { counterparty: 'Gamma', contract_value: null, end_date: null, auto_renews: null, kind: null });
    assert.ok(garbage?.warnings.includes('field_value_dropped'), garbage?.warnings.join());
    assert.deepEqual(byName.get('note.txt')?.fields, { counterparty: null, contract_value: null, end_date: null, auto_renews: null, kind: null });
    assert.deepEqual(byName.get('note.txt')?.warnings, [], 'not found is an answer, not a slip');
  });

  it('a model answering garbage for a field (fieldValues) still classifies the document, with a warning', async () => {
    fake.set({ fieldValues: { contract_value: { nested: 'object' }, end_date: 'the 5th of never' } });
    try {
      const start = await api<JobBody>(app, 'POST', '/v1/classifications', { path: 'Contracts', taxonomy: 'contracts', force: true });
      assert.equal(start.status, 202, JSON.stringify(start.body));
      const job = await waitForJob(app, start.body.id, 60_000);
      assert.deepEqual([job.status, job.progress.done, job.progress.failed], ['completed', 4, 0], JSON.stringify(job.failures));
      const list = await api<Listed>(app, 'GET', `/v1/folders/${enc('Contracts')}/documents?limit=100`);
      const lease = list.body.items.find((d) => d.name === 'lease.txt');
      const doc = await api<{ classification: Classification }>(app, 'GET', `/v1/documents/${lease?.id}`);
      assert.equal(doc.body.classification.fields.contract_value, null);
      assert.equal(doc.body.classification.fields.end_date, null);
      assert.equal(doc.body.classification.fields.kind, 'Lease');
      assert.ok(doc.body.classification.warnings.includes('field_value_dropped'));
    } finally {
      fake.set({ fieldValues: {} });
    }
    // Back to the document's own values (the filters below read them).
    const again = await api<JobBody>(app, 'POST', '/v1/classifications', { path: 'Contracts', taxonomy: 'contracts', force: true });
    const job = await waitForJob(app, again.body.id, 60_000);
    assert.equal(job.status, 'completed');
  });

  it('filters listings by field: equality (enum without case, boolean), number and date ranges', async () => {
    assert.deepEqual((await listed('field.kind=lease')).names, ['lease.txt']);
    assert.deepEqual((await listed('field.auto_renews=false')).names, ['service.txt']);
    assert.deepEqual((await listed('field.counterparty=gamma')).names, ['garbage.txt']);
    assert.deepEqual((await listed('field.contract_value.gte=1000')).names, ['lease.txt', 'service.txt']);
    assert.deepEqual((await listed(`field.contract_value.lt=${encodeURIComponent('2.000,00')}`)).names, ['lease.txt']);
    assert.deepEqual((await listed('field.contract_value=1234.5')).names, ['lease.txt']);
    assert.deepEqual((await listed('field.end_date.gte=2025-01-01')).names, ['lease.txt']);
    assert.deepEqual((await listed('field.end_date.lt=01-01-2025&field.auto_renews=no')).names, ['service.txt']);
    assert.deepEqual((await listed('field.kind=Purchase')).names, []);
    for (const [query, code] of [
      ['field.nope=1', 'invalid_field'],
      ['field.counterparty.gte=a', 'invalid_field'],
      ['field.contract_value=lots', 'invalid_field'],
      ['field.kind.like=x', 'invalid_field'],
      ['field.bad-name=x', 'invalid_field'],
      ['bogus=1', 'bad_request'],
    ] as const) {
      const r = await listed(query);
      assert.deepEqual([r.status, r.code], [400, code], query);
    }
  });

  it('counts enum and boolean fields in search facets, and filters search by field', async () => {
    type Search = { total: number; items: { name: string }[]; facets: { fields: Record<string, { key: string; count: number }[]> } };
    // Body text is indexed by the workers when idle: the queries below may need it.
    await waitFor(async () => (await api<{ unindexed: number }>(app, 'GET', '/v1/search?limit=1')).body.unindexed, {
      what: 'the text to be indexed',
      timeoutMs: 30_000,
      intervalMs: 100,
      until: (n) => n === 0,
    });
    for (const q of ['', 'contract']) {
      const r = await api<Search>(app, 'GET', `/v1/search?path=Contracts&limit=100${q ? `&q=${q}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.facets.fields.kind, [{ key: 'Lease', count: 1 }, { key: 'Service', count: 1 }], q);
      assert.deepEqual(r.body.facets.fields.auto_renews, [{ key: 'false', count: 1 }, { key: 'true', count: 1 }], q);
      assert.equal(r.body.facets.fields.counterparty, undefined, 'free text is not a facet');
    }
    const filtered = await api<Search>(app, 'GET', '/v1/search?path=Contracts&field.kind=service');
    assert.equal(filtered.status, 200, JSON.stringify(filtered.body));
    assert.deepEqual(filtered.body.items.map((i) => i.name), ['service.txt']);
    assert.deepEqual(filtered.body.facets.fields.kind, [{ key: 'Service', count: 1 }]);
    const ranged = await api<Search>(app, 'GET', '/v1/search?path=Contracts&q=contract&field.contract_value.gt=1500');
    assert.deepEqual(ranged.body.items.map((i) => i.name), ['service.txt']);
    const bad = await api<ErrorBody>(app, 'GET', '/v1/search?field.unknown=1');
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'invalid_field']);
  });

  it('documents fields in OpenAPI: taxonomy fields, classification values, listing parameters kept', async () => {
    type OpenApi = {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
      paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
    };
    const r = await api<OpenApi>(app, 'GET', '/openapi.json');
    assert.equal(r.status, 200);
    assert.ok(r.body.components.schemas.Taxonomy?.properties?.fields, 'Taxonomy.fields');
    assert.ok(r.body.components.schemas.Classification?.properties?.fields, 'Classification.fields');
    for (const route of ['/v1/folders/{path}/documents', '/v1/search']) {
      const names = (r.body.paths[route]?.get?.parameters ?? []).map((p) => p.name);
      assert.ok(names.includes('tag') && names.includes('limit'), `${route}: ${names.join()}`);
    }
  });

  it('exports one column per field (CSV, XLSX) and a fields object (JSONL)', async () => {
    const target = app as Exclude<ApiTarget, string>;
    const csv = await target.inject({ method: 'GET', url: `/v1/folders/${enc('Contracts')}/export?format=csv` });
    assert.equal(csv.statusCode, 200);
    const lines = csv.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    const header = lines[0]?.split(',') ?? [];
    assert.deepEqual(header.slice(-5), FIELDS.map((f) => `field.${f.name}`));
    const leaseLine = lines.find((l) => l.startsWith('Contracts/lease.txt')) ?? '';
    assert.ok(leaseLine.endsWith(',Acme BV,1234.5,2025-12-31,true,Lease'), leaseLine);
    const garbageLine = lines.find((l) => l.startsWith('Contracts/garbage.txt')) ?? '';
    assert.ok(garbageLine.endsWith(',Gamma,,,,'), garbageLine);

    const jsonl = await target.inject({ method: 'GET', url: `/v1/folders/${enc('Contracts')}/export?format=jsonl` });
    const rows = jsonl.body.trimEnd().split('\n').map((l) => JSON.parse(l) as { path: string; fields: Record<string, unknown> });
    assert.deepEqual(rows.find((r) => r.path === 'Contracts/service.txt')?.fields, { counterparty: 'Beta Services', contract_value: 5000, end_date: '2024-06-30', auto_renews: false, kind: 'Service' });

    const xlsx = await target.inject({ method: 'GET', url: `/v1/folders/${enc('Contracts')}/export?format=xlsx` });
    const sheet = strFromU8(unzipSync(new Uint8Array(xlsx.rawPayload))['xl/worksheets/sheet1.xml'] ?? new Uint8Array());
    assert.ok(sheet.includes('<t xml:space="preserve">field.contract_value</t>'));
    assert.ok(/<v>1234.5<\/v>/.test(sheet), 'a number cell');
  });
});

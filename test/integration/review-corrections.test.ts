/**
 * Reviewer corrections through the whole service (real PostgreSQL, the fake OpenAI server): the
 * review queue of a folder (oldest result first, paged), corrections stored with who and when and
 * shown everywhere a result is read, roles and scopes, labels outside the taxonomy, a correction
 * that wins over a later automatic run, and `force` that overrides it.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type ClassifyRuntime, startClassifyRuntime } from '../support/classify-runtime.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { writeTree } from '../support/documents-root.ts';
import { api, type ApiTarget, enc, type JobBody, waitForJob } from '../support/http.ts';

const LABELS = ['Meeting Notes', 'Financial Reports', 'Risk Management', 'Miscellaneous'].map((name) => ({ name }));

// The fake tags by label words in the text, at 0.5 + 0.1 per hit: under the threshold of 0.75
// are "A short meeting." (0.6) and "Nothing to say here." (Miscellaneous, 0.5).
const FILES: Record<string, string> = {
  'Review/a.txt': 'A short meeting.',
  'Review/b.txt': 'Nothing to say here.',
  'Review/c.txt': 'Risk analysis: risk management of every risk.',
  'Other/x.txt': 'Hello there.',
};

interface Doc {
  id: string;
  path: string;
  tags: { label: string }[] | null;
  primaryCategory: string | null;
  classification: {
    model: string;
    tags: { label: string; confidence: number; needsReview: boolean }[];
    primaryCategory: string;
    needsReview: boolean;
    review: { keyId: string | null; name: string | null; at: string; accepted: boolean } | null;
  } | null;
}

interface Queue {
  folder: string;
  items: { id: string; path: string; classifiedAt: string; tags: { label: string }[] }[];
  nextCursor: string | null;
}

describe('reviewer corrections', () => {
  let fake: FakeOpenAI;
  let root: string;
  let service: ClassifyRuntime | undefined;
  let app: ApiTarget;
  const ids: Record<string, string> = {};
  const keys: Record<'viewer' | 'editor' | 'scoped', { id: string; key: string }> = {
    viewer: { id: '', key: '' },
    editor: { id: '', key: '' },
    scoped: { id: '', key: '' },
  };
  const as = (k: keyof typeof keys) => ({ authorization: `Bearer ${keys[k].key}` });

  const classify = async (body: Record<string, unknown>) => {
    const start = await api<JobBody>(app, 'POST', '/v1/classifications', { taxonomy: 'review-test', ...body });
    assert.ok(start.status === 202 || start.status === 200, JSON.stringify(start.body));
    const job = await waitForJob(app, start.body.id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    return job;
  };
  const doc = async (name: string) => (await api<Doc>(app, 'GET', `/v1/documents/${ids[name]}`)).body;
  const patch = (name: string, body: unknown, headers: Record<string, string> = as('editor')) =>
    api<Doc & { error?: { code: string } }>(app, 'PATCH', `/v1/documents/${ids[name]}/classification`, body, headers);

  before(async () => {
    root = await writeTree('docsight-review-', FILES);
    fake = await startFakeOpenAI({});
    service = await startClassifyRuntime(root, fake.url, { REVIEW_CONFIDENCE_THRESHOLD: '0.75' });
    app = service.app;
    assert.equal((await api(app, 'POST', '/v1/taxonomies', { name: 'review-test', labels: LABELS })).status, 201);
    const scan = await api<JobBody>(app, 'POST', '/v1/scans', { path: '.' });
    assert.equal((await waitForJob(app, scan.body.id)).status, 'completed');
    for (const folder of ['Review', 'Other']) {
      const list = await api<{ items: { id: string; name: string }[] }>(app, 'GET', `/v1/folders/${folder}/documents`);
      for (const d of list.body.items) ids[d.name] = d.id;
    }
    // b first, then a and c: b's result is the oldest in the queue.
    await classify({ documentIds: [ids['b.txt']] });
    await classify({ documentIds: [ids['a.txt'], ids['c.txt']] });
    await classify({ path: 'Other' });
    for (const [k, role, scopes] of [
      ['viewer', 'viewer', undefined],
      ['editor', 'editor', undefined],
      ['scoped', 'editor', ['Other']],
    ] as const) {
      const r = await api<{ id: string; key: string }>(app, 'POST', '/v1/keys', { name: `${k} key`, role, ...(scopes ? { scopes } : {}) });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      keys[k] = { id: r.body.id, key: r.body.key };
    }
  });

  after(async () => {
    await service?.stop();
    await fake?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('queues the folder\'s documents under the threshold, oldest result first, a page at a time', async () => {
    const first = await api<Queue>(app, 'GET', `/v1/folders/Review/review?limit=1`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.items.map((i) => i.path), ['Review/b.txt']);
    assert.ok(first.body.nextCursor);
    const second = await api<Queue>(app, 'GET', `/v1/folders/Review/review?limit=1&cursor=${enc(first.body.nextCursor ?? '')}`);
    assert.deepEqual(second.body.items.map((i) => i.path), ['Review/a.txt']);
    const third = await api<Queue>(app, 'GET', `/v1/folders/Review/review?limit=1&cursor=${enc(second.body.nextCursor ?? '')}`);
    assert.deepEqual([third.body.items.length, third.body.nextCursor], [0, null]);
    // The slash form of the path, and a viewer may read the queue.
    const all = await api<Queue>(app, 'GET', `/v1/folders/Review/review`, undefined, as('viewer'));
    assert.deepEqual(all.body.items.map((i) => i.path), ['Review/b.txt', 'Review/a.txt']);
    const insights = await api<{ classification: { needsReview: number; reviewed: number } }>(app, 'GET', '/v1/folders/Review/insights');
    assert.deepEqual([insights.body.classification.needsReview, insights.body.classification.reviewed], [2, 0]);
  });

  it('refuses a viewer (403), a key scoped elsewhere (404), and labels outside the taxonomy (400)', async () => {
    const viewer = await patch('a.txt', { accept: true }, as('viewer'));
    assert.equal(viewer.status, 403);
    const scoped = await patch('a.txt', { accept: true }, as('scoped'));
    assert.equal(scoped.status, 404);
    assert.equal(scoped.body.error?.code, 'not_found');
    const outside = await patch('a.txt', { add: ['Invented Label'] });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.error?.code, 'label_outside_taxonomy');
    const empty = await patch('a.txt', {});
    assert.equal(empty.status, 400);
    // Nothing was stored by the refused requests.
    assert.equal((await doc('a.txt')).classification?.review, null);
  });

  it('stores a correction with who and when, and shows it as the document\'s result everywhere', async () => {
    const r = await patch('a.txt', { remove: ['Meeting Notes'], add: ['financial reports'] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const c = r.body.classification;
    assert.ok(c);
    assert.equal(c.model, 'review');
    assert.deepEqual(c.tags.map((t) => t.label), ['Financial Reports'], 'the label as the taxonomy spells it');
    assert.equal(c.primaryCategory, 'Financial Reports', 'the removed primary category gives way to the remaining tag');
    assert.equal(c.needsReview, false);
    assert.equal(c.review?.keyId, keys.editor.id);
    assert.equal(c.review?.name, 'editor key');
    assert.equal(c.review?.accepted, false);
    assert.ok(Date.now() - Date.parse(c.review?.at ?? '') < 60_000);

    const accepted = await patch('b.txt', { accept: true });
    assert.equal(accepted.status, 200);
    assert.equal(accepted.body.classification?.review?.accepted, true);
    assert.deepEqual(accepted.body.classification?.tags.map((t) => t.label), ['Miscellaneous']);

    const list = await api<{ items: Doc[] }>(app, 'GET', '/v1/folders/Review/documents');
    const a = list.body.items.find((d) => d.path === 'Review/a.txt');
    assert.deepEqual([a?.primaryCategory, a?.tags?.map((t) => t.label)], ['Financial Reports', ['Financial Reports']]);
    const exported = await api<string>(app, 'GET', '/v1/folders/Review/export?format=jsonl');
    const rows = String(exported.body).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.match(JSON.stringify(rows.find((x) => x.path === 'Review/a.txt')), /Financial Reports/);

    const queue = await api<Queue>(app, 'GET', '/v1/folders/Review/review');
    assert.deepEqual(queue.body.items, []);
    const insights = await api<{ classification: { needsReview: number; reviewed: number; byCategory: { key: string; count: number }[] } }>(
      app,
      'GET',
      '/v1/folders/Review/insights',
    );
    assert.deepEqual([insights.body.classification.needsReview, insights.body.classification.reviewed], [0, 2]);
    assert.equal(insights.body.classification.byCategory.find((b) => b.key === 'Financial Reports')?.count, 1);
  });

  it('wins over a later automatic run of the same content and taxonomy; `force` overrides it', async () => {
    // A new taxonomy version: every document gets a new result, but a and b keep their corrections.
    const put = await api(app, 'PUT', '/v1/taxonomies/review-test', { labels: [...LABELS, { name: 'Project Documentation' }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const before = fake.stats.requests;
    await classify({ path: 'Review' });
    assert.equal(fake.stats.requests - before, 3, 'every document was classified again under the new version');
    const a = await doc('a.txt');
    assert.equal(a.classification?.model, 'review');
    assert.equal(a.primaryCategory, 'Financial Reports');
    assert.equal((await doc('b.txt')).classification?.model, 'review');
    assert.equal((await doc('c.txt')).classification?.model, 'gpt-4o-mini');

    await classify({ path: 'Review', force: true });
    const forced = await doc('a.txt');
    assert.equal(forced.classification?.model, 'gpt-4o-mini');
    assert.equal(forced.classification?.review, null);
    assert.equal(forced.primaryCategory, 'Meeting Notes');
    const insights = await api<{ classification: { reviewed: number; needsReview: number } }>(app, 'GET', '/v1/folders/Review/insights');
    assert.deepEqual([insights.body.classification.reviewed, insights.body.classification.needsReview], [0, 2]);
  });

  it('a scoped editor corrects inside its scope', async () => {
    const r = await patch('x.txt', { primaryCategory: 'Risk Management' }, as('scoped'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.classification?.tags.map((t) => t.label), ['Risk Management', 'Miscellaneous']);
    assert.equal(r.body.classification?.review?.name, 'scoped key');
  });
});

/**
 * Evaluation end to end (real PostgreSQL, the fake OpenAI server, whose answers are known: labels
 * whose words occur in the text, most hits first): gold labels imported (good and bad lines) and
 * from a reviewer's correction, a run that reuses what is classified and classifies the rest
 * through the queue, metrics equal to the ones computed by hand, and two runs compared (two
 * taxonomy versions; two models, the second asked on the same server, its results kept beside the
 * documents' own).
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Evaluation, EvaluationComparison, FolderInsights, LabelImportReport } from '../../src/contract.ts';
import { type ClassifyRuntime, finishedEvaluation, startClassifyRuntime } from '../support/classify-runtime.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { writeTree } from '../support/documents-root.ts';
import { api, type ApiTarget, type JobBody, waitForJob } from '../support/http.ts';
import { runClientCommand } from '../../src/cli/index.ts';

/** `docsight <args>` in process against the runtime's listening server: exit code and output. */
async function cli(server: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const [command, ...rest] = args;
  const code = await runClientCommand(command as 'eval', [...rest, '--server', server], {}, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const LABELS = ['Meeting Notes', 'Financial Reports', 'Risk Management', 'Miscellaneous'].map((name) => ({ name }));

// What the fake answers (tags, primary first):
//   meet  [Meeting Notes]                        fin   [Financial Reports]
//   risk  [Risk Management, Meeting Notes]       other [Miscellaneous]
//   note  [Meeting Notes]  (corrected by a reviewer: accepted)
const FILES: Record<string, string> = {
  'Eval/meet.txt': 'Meeting notes of the weekly meeting.',
  'Eval/fin.txt': 'Financial forecast and financial budget.',
  'Eval/risk.txt': 'Risk register: risk owners and meeting dates.',
  'Eval/other.txt': 'Plain words only.',
  'Eval/note.txt': 'A meeting.',
  'Outside/y.txt': 'Meeting.',
};

const GOLD = [
  { path: 'Eval/meet.txt', tags: ['Meeting Notes'], primaryCategory: 'Meeting Notes' },
  { path: 'Eval/fin.txt', tags: ['Financial Reports', 'Risk Management'], primaryCategory: 'Financial Reports' },
  { path: 'Eval/risk.txt', tags: ['Risk Management'], primaryCategory: 'Risk Management' },
  { path: 'Eval/other.txt', tags: ['Financial Reports'], primaryCategory: 'Financial Reports' },
];

const postLabels = (app: ApiTarget, body: string, taxonomy = 'eval-test') =>
  api<LabelImportReport & { error?: { code: string } }>(app, 'POST', `/v1/evaluations/labels?taxonomy=${taxonomy}`, body, { 'content-type': 'application/x-ndjson' });

describe('evaluation against gold labels', () => {
  let fake: FakeOpenAI;
  let root: string;
  let service: ClassifyRuntime | undefined;
  let app: ApiTarget;
  const ids: Record<string, string> = {};
  let first: Evaluation;

  const finished = (id: string) => finishedEvaluation(app, id);

  before(async () => {
    root = await writeTree('docsight-eval-', FILES);
    fake = await startFakeOpenAI({});
    service = await startClassifyRuntime(root, fake.url);
    app = service.app;
    assert.equal((await api(app, 'POST', '/v1/taxonomies', { name: 'eval-test', labels: LABELS })).status, 201);
    const scan = await api<JobBody>(app, 'POST', '/v1/scans', { path: '.' });
    assert.equal((await waitForJob(app, scan.body.id)).status, 'completed');
    const list = await api<{ items: { id: string; name: string }[] }>(app, 'GET', '/v1/folders/Eval/documents');
    for (const d of list.body.items) ids[d.name] = d.id;
    // note.txt is classified and reviewed before the evaluation: its correction is a gold label.
    const job = await api<JobBody>(app, 'POST', '/v1/classifications', { documentIds: [ids['note.txt']], taxonomy: 'eval-test' });
    assert.equal((await waitForJob(app, job.body.id)).status, 'completed');
    const review = await api(app, 'PATCH', `/v1/documents/${ids['note.txt']}/classification`, { accept: true });
    assert.equal(review.status, 200, JSON.stringify(review.body));
  });

  after(async () => {
    await service?.stop();
    await fake?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('imports the good lines of a labels file and reports each bad line', async () => {
    const lines = [
      ...GOLD.map((g) => JSON.stringify(g)),
      '{"path": "Eval/meet.txt", "tags": [',
      JSON.stringify({ path: 'Eval/fin.txt', tags: ['Invented'] }),
      JSON.stringify({ path: 'Eval/missing.txt', tags: ['Meeting Notes'] }),
      JSON.stringify({ path: '../etc/passwd', tags: ['Meeting Notes'] }),
      JSON.stringify({ path: 'Eval/fin.txt' }),
      '',
    ];
    const r = await postLabels(app, lines.join('\n'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.imported, 4);
    assert.deepEqual(
      r.body.errors.map((e) => [e.line, e.code]),
      [
        [5, 'invalid_json'],
        [6, 'label_outside_taxonomy'],
        [7, 'not_found'],
        [8, 'path_outside_root'],
        [9, 'invalid_line'],
      ],
    );
    const unknownTaxonomy = await postLabels(app, lines[0] ?? '', 'no-such-taxonomy');
    assert.equal(unknownTaxonomy.status, 404);
    const huge = await postLabels(app, `${'x'.repeat(9 * 1024 * 1024)}\n`);
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error?.code, 'payload_too_large');
  });

  it('runs: reuses what is classified, classifies the rest through the queue, and reports exact metrics', async () => {
    const before = fake.stats.requests;
    const start = await api<Evaluation>(app, 'POST', '/v1/evaluations', { path: 'Eval', taxonomy: 'eval-test' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    assert.equal(start.body.documents, 5);
    assert.deepEqual(start.body.goldSources, { imported: 4, reviews: 1 });
    assert.ok(start.body.jobId, 'the four unclassified documents are classified by a job');
    first = await finished(start.body.id);
    assert.equal(first.status, 'completed', JSON.stringify(first.error));
    assert.equal(fake.stats.requests - before, 4, 'note.txt was reused');
    const m = first.metrics;
    assert.ok(m);
    assert.deepEqual([m.documents, m.scored, m.unpredicted], [5, 5, 0]);
    assert.deepEqual(
      m.perLabel.map((l) => [l.label, l.tp, l.fp, l.fn, l.support, l.precision, l.recall, l.f1]),
      [
        ['Financial Reports', 1, 0, 1, 2, 1, 0.5, 0.666667],
        ['Meeting Notes', 2, 1, 0, 2, 0.666667, 1, 0.8],
        ['Risk Management', 1, 0, 1, 2, 1, 0.5, 0.666667],
        ['Miscellaneous', 0, 1, 0, 0, 0, 0, 0],
      ],
    );
    assert.deepEqual(m.micro, { precision: 0.666667, recall: 0.666667, f1: 0.666667 });
    assert.deepEqual(m.macro, { precision: 0.666667, recall: 0.5, f1: 0.533333 });
    assert.equal(m.primaryAccuracy, 0.8);
    assert.deepEqual(m.confusion, {
      labels: ['Financial Reports', 'Meeting Notes', 'Miscellaneous', 'Risk Management'],
      counts: [
        [1, 0, 1, 0],
        [0, 2, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 1],
      ],
    });
    assert.ok(m.costUsd.total > 0);
    assert.equal(m.costUsd.perDocument, Math.round((m.costUsd.total / 5) * 1e6) / 1e6);
    assert.ok(m.latencyMs.mean !== null && m.latencyMs.mean >= 0);
    // The reviewer's correction is still note.txt's result: the run classified around it.
    const note = await api<{ classification: { model: string } }>(app, 'GET', `/v1/documents/${ids['note.txt']}`);
    assert.equal(note.body.classification.model, 'review');
  });

  it('keeps runs, and compares two taxonomy versions side by side', async () => {
    // Version 2 adds a label the fake finds in meet.txt ("weekly"): one more false positive.
    const put = await api(app, 'PUT', '/v1/taxonomies/eval-test', { labels: [...LABELS, { name: 'Weekly Updates' }] });
    assert.equal(put.status, 200);
    const start = await api<Evaluation>(app, 'POST', '/v1/evaluations', { path: 'Eval', taxonomy: 'eval-test' });
    assert.equal(start.status, 202);
    const second = await finished(start.body.id);
    assert.equal(second.taxonomy.version, 2);
    assert.deepEqual(second.metrics?.micro, { precision: 0.571429, recall: 0.666667, f1: 0.615385 });

    const list = await api<{ items: Evaluation[] }>(app, 'GET', '/v1/evaluations');
    assert.deepEqual(list.body.items.map((e) => e.id), [second.id, first.id]);

    const cmp = await api<EvaluationComparison>(app, 'GET', `/v1/evaluations/compare?a=${first.id}&b=${second.id}`);
    assert.equal(cmp.status, 200, JSON.stringify(cmp.body));
    const weekly = cmp.body.delta.perLabel.find((l) => l.label === 'Weekly Updates');
    assert.equal(weekly?.a, null);
    assert.equal(weekly?.b?.fp, 1);
    assert.equal(cmp.body.delta.perLabel.find((l) => l.label === 'Meeting Notes')?.f1, 0);
    assert.deepEqual(cmp.body.delta.micro, { precision: -0.095238, recall: 0, f1: -0.051282 });
    assert.equal(cmp.body.delta.primaryAccuracy, 0);
  });

  it('the CLI imports labels, shows a run and prints two runs side by side', async () => {
    const fastify = app as unknown as { server: { address(): { port: number } } };
    const server = `http://127.0.0.1:${fastify.server.address().port}`;
    const file = path.join(root, 'labels.jsonl');
    await writeFile(file, `${JSON.stringify(GOLD[0])}\n{"path": "Eval/nope.txt", "tags": ["Meeting Notes"]}\n`);
    const imported = await cli(server, ['eval', '--labels', file, '--taxonomy', 'eval-test']);
    assert.equal(imported.code, 1, 'a refused line is a failure');
    assert.match(imported.out, /Imported 1 gold label/);
    assert.match(imported.out, /2\s+not_found/);

    const list = (await api<{ items: Evaluation[] }>(app, 'GET', '/v1/evaluations')).body.items;
    const [b, a] = list;
    assert.ok(a && b);
    const shown = await cli(server, ['eval', 'show', a.id]);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /micro P \/ R \/ F1\s+66\.7% \/ 66\.7% \/ 66\.7%/);
    assert.match(shown.out, /Meeting Notes\s+2\s+3\s+66\.7%\s+100\.0%\s+80\.0%/);

    const compared = await cli(server, ['eval', 'compare', a.id, b.id]);
    assert.equal(compared.code, 0, compared.err);
    assert.match(compared.out, /Weekly Updates\s+0\s+–\s+0\.0%\s+0\.0/);
    assert.match(compared.out, /\(micro\)\s+66\.7%\s+61\.5%\s+-5\.1\s+-9\.5\s+0\.0/);
    const usage = await cli(server, ['eval', 'compare', a.id]);
    assert.equal(usage.code, 2);
  });

  it('two models over the same labelled documents: two kept runs with their own results, compared, documents unchanged', async () => {
    // The weaker model tags every document "Miscellaneous": no gold label agrees.
    fake.set({ modelLabels: { 'weak-model': ['Miscellaneous'] } });
    const insightsBefore = (await api<FolderInsights>(app, 'GET', '/v1/folders/Eval/insights')).body.classification;
    const asked = () => fake.requests.filter((r) => r.body.model === 'weak-model').length;

    const startWeak = await api<Evaluation>(app, 'POST', '/v1/evaluations', { path: 'Eval', taxonomy: 'eval-test', model: 'weak-model' });
    assert.equal(startWeak.status, 202, JSON.stringify(startWeak.body));
    assert.ok(startWeak.body.jobId, "no result of this model yet: the run classifies with it");
    const weak = await finished(startWeak.body.id);
    assert.equal(weak.status, 'completed', JSON.stringify(weak.error));
    assert.equal(weak.model, 'weak-model');
    assert.equal(asked(), 5, 'every labelled document was sent to the weak model, named in the request');
    assert.deepEqual([weak.metrics?.scored, weak.metrics?.unpredicted], [5, 0]);
    assert.deepEqual(weak.metrics?.micro, { precision: 0, recall: 0, f1: 0 });
    assert.equal(weak.metrics?.primaryAccuracy, 0);
    assert.equal(weak.metrics?.perLabel.find((l) => l.label === 'Miscellaneous')?.fp, 5);

    // The workers' own model: its results are reused as they were (not the weak model's).
    const startOwn = await api<Evaluation>(app, 'POST', '/v1/evaluations', { path: 'Eval', taxonomy: 'eval-test' });
    assert.equal(startOwn.status, 202);
    assert.equal(startOwn.body.jobId, null, 'all reused');
    const own = await finished(startOwn.body.id);
    assert.equal(own.model, 'gpt-4o-mini');
    assert.deepEqual(own.metrics?.micro, { precision: 0.571429, recall: 0.666667, f1: 0.615385 });

    // A second run of the weak model reuses its own kept results.
    const again = await api<Evaluation>(app, 'POST', '/v1/evaluations', { path: 'Eval', taxonomy: 'eval-test', model: 'weak-model' });
    assert.equal(again.body.jobId, null);
    assert.deepEqual((await finished(again.body.id)).metrics?.micro, weak.metrics?.micro);
    assert.equal(asked(), 5);

    const cmp = await api<EvaluationComparison>(app, 'GET', `/v1/evaluations/compare?a=${own.id}&b=${weak.id}`);
    assert.equal(cmp.status, 200, JSON.stringify(cmp.body));
    assert.deepEqual([cmp.body.a.model, cmp.body.b.model], ['gpt-4o-mini', 'weak-model']);
    assert.deepEqual(cmp.body.delta.micro, { precision: -0.571429, recall: -0.666667, f1: -0.615385 });
    assert.equal(cmp.body.delta.primaryAccuracy, -0.8);

    // What documents and insights show is still the workers' model's result (or the correction).
    const meet = await api<{ classification: { model: string }; classificationHistory: { model: string }[] }>(app, 'GET', `/v1/documents/${ids['meet.txt']}`);
    assert.equal(meet.body.classification.model, 'gpt-4o-mini');
    assert.ok(meet.body.classificationHistory.some((c) => c.model === 'weak-model'), 'the weak model result is kept in the history');
    const note = await api<{ classification: { model: string } }>(app, 'GET', `/v1/documents/${ids['note.txt']}`);
    assert.equal(note.body.classification.model, 'review');
    const insightsAfter = (await api<FolderInsights>(app, 'GET', '/v1/folders/Eval/insights')).body.classification;
    assert.deepEqual(
      { byTag: insightsAfter.byTag, byCategory: insightsAfter.byCategory, classified: insightsAfter.classified, reviewed: insightsAfter.reviewed, needsReview: insightsAfter.needsReview },
      { byTag: insightsBefore.byTag, byCategory: insightsBefore.byCategory, classified: insightsBefore.classified, reviewed: insightsBefore.reviewed, needsReview: insightsBefore.needsReview },
    );
    fake.set({ modelLabels: {} });
  });

  it('documents the routes in OpenAPI', async () => {
    const spec = await api<{ paths: Record<string, Record<string, unknown>> }>(app, 'GET', '/openapi.json');
    for (const [route, method] of [
      ['/v1/evaluations/labels', 'post'],
      ['/v1/evaluations', 'post'],
      ['/v1/evaluations/compare', 'get'],
      ['/v1/evaluations/{id}', 'get'],
      ['/v1/documents/{id}/classification', 'patch'],
      ['/v1/folders/{path}/review', 'get'],
    ] as const) {
      assert.ok(spec.body.paths[route]?.[method], `${method} ${route}`);
    }
  });

  it('roles and scopes: a viewer cannot start a run; a key scoped elsewhere sees none of it', async () => {
    const viewer = await api<{ key: string }>(app, 'POST', '/v1/keys', { name: 'viewer', role: 'viewer' });
    const scoped = await api<{ key: string }>(app, 'POST', '/v1/keys', { name: 'outside', role: 'editor', scopes: ['Outside'] });
    const asViewer = { authorization: `Bearer ${viewer.body.key}` };
    const asScoped = { authorization: `Bearer ${scoped.body.key}` };
    assert.equal((await api(app, 'POST', '/v1/evaluations', { path: 'Eval', taxonomy: 'eval-test' }, asViewer)).status, 403);
    assert.equal((await api(app, 'GET', `/v1/evaluations/${first.id}`, undefined, asScoped)).status, 404);
    assert.deepEqual((await api<{ items: unknown[] }>(app, 'GET', '/v1/evaluations', undefined, asScoped)).body.items, []);
    const labels = await api<LabelImportReport>(
      app,
      'POST',
      '/v1/evaluations/labels?taxonomy=eval-test',
      JSON.stringify({ path: 'Eval/meet.txt', tags: ['Meeting Notes'] }),
      { 'content-type': 'application/x-ndjson', ...asScoped },
    );
    assert.deepEqual([labels.body.imported, labels.body.errors[0]?.code], [0, 'not_found']);
    const none = await api<{ error: { code: string } }>(app, 'POST', '/v1/evaluations', { path: 'Outside', taxonomy: 'eval-test' }, asScoped);
    assert.equal(none.status, 400, 'no gold labels there');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClassifier } from '../../src/classify/classifier.ts';
import { ProviderError } from '../../src/classify/errors.ts';
import type { CompletionRequest, LlmProvider, Taxonomy } from '../../src/classify/types.ts';

type Obj = Record<string, unknown>;
const labelEnum = (r: CompletionRequest): unknown => (r.output.schema.properties as Obj | undefined)?.primaryCategory;

/** A provider that answers with the first label of the schema it was sent, and keeps the requests. */
function recordingProvider(): LlmProvider & { requests: CompletionRequest[] } {
  const requests: CompletionRequest[] = [];
  return {
    name: 'stub',
    model: 'stub-model',
    requests,
    complete(request) {
      requests.push(request);
      const labels = (labelEnum(request) as { enum?: string[] } | undefined)?.enum ?? [];
      const label = labels[0];
      if (!label) return Promise.reject(new ProviderError('invalid_output', 'no labels in the schema'));
      const content = JSON.stringify({ tags: [{ label, confidence: 0.9 }], primaryCategory: label, summary: 'A short summary.', summaryLanguage: 'en' });
      return Promise.resolve({ content, truncated: false, model: 'stub-model' });
    },
  };
}

const taxonomy = (version: number, labels: string[]): Taxonomy => ({ id: 'tx', version, name: 'Mine', labels: labels.map((name) => ({ name })) });
const doc = (t: Taxonomy) => ({ text: 'Minutes of the weekly meeting.', fileName: 'a.docx', taxonomy: t, summaryLanguage: 'en' });

describe('answer schemas per taxonomy version', () => {
  it('sends the labels of the version asked for: a new version is not served the old schema', async () => {
    const provider = recordingProvider();
    const classifier = createClassifier({ provider, maxInputTokens: 12_000 });
    await classifier.classify(doc(taxonomy(1, ['Alpha', 'Beta'])));
    await classifier.classify(doc(taxonomy(1, ['Alpha', 'Beta'])));
    const r2 = await classifier.classify(doc(taxonomy(2, ['Gamma', 'Alpha'])));
    const enums = provider.requests.map((r) => (labelEnum(r) as { enum: string[] }).enum);
    assert.deepEqual(enums, [
      ['Alpha', 'Beta'],
      ['Alpha', 'Beta'],
      ['Gamma', 'Alpha'],
    ]);
    assert.equal(r2.primaryCategory, 'Gamma');
  });

  it('validates answers against the version asked for', async () => {
    // v1 allows "Beta"; v2 does not. An answer of "Beta" under v2 must be refused (after its repair).
    const provider = recordingProvider();
    const answerBeta: LlmProvider = {
      ...provider,
      complete: (request) => {
        provider.requests.push(request);
        const content = JSON.stringify({ tags: [{ label: 'Beta', confidence: 0.9 }], primaryCategory: 'Beta', summary: 'S.', summaryLanguage: 'en' });
        return Promise.resolve({ content, truncated: false, model: 'stub-model' });
      },
    };
    const classifier = createClassifier({ provider: answerBeta, maxInputTokens: 12_000 });
    const ok = await classifier.classify(doc(taxonomy(1, ['Alpha', 'Beta'])));
    assert.equal(ok.primaryCategory, 'Beta');
    await assert.rejects(classifier.classify(doc(taxonomy(2, ['Alpha', 'Gamma']))), (e: unknown) => e instanceof ProviderError && e.code === 'invalid_output');
  });

  it('rebuilds when the same id and version come with other labels', async () => {
    const provider = recordingProvider();
    const classifier = createClassifier({ provider, maxInputTokens: 12_000 });
    await classifier.classify(doc(taxonomy(7, ['Alpha'])));
    await classifier.classify(doc(taxonomy(7, ['Delta'])));
    assert.deepEqual(
      provider.requests.map((r) => (labelEnum(r) as { enum: string[] }).enum),
      [['Alpha'], ['Delta']],
    );
  });
});

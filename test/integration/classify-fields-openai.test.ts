/**
 * Custom fields through the classification library, the real openai SDK and the fake server: a
 * long document (map-reduce) carries a field found in one part through to the final answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClassifier, createOpenAIProvider, type Taxonomy } from '../../src/classify/index.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.ts';

const taxonomy: Taxonomy = {
  id: 'tax-f',
  version: 1,
  name: 'contracts',
  labels: [{ name: 'Contracts' }, { name: 'Technical Documentation' }, { name: 'Miscellaneous' }],
  fields: [
    { name: 'contract_value', type: 'number' },
    { name: 'end_date', type: 'date' },
    { name: 'kind', type: 'enum', values: ['Lease', 'Service'] },
  ],
};

describe('custom fields in a long document (map-reduce)', () => {
  let fake: FakeOpenAI;
  before(async () => {
    fake = await startFakeOpenAI();
  });
  after(async () => {
    await fake?.close();
  });

  it('a value found in one part reaches the result, normalised', async () => {
    const sections = Array.from({ length: 60 }, (_, i) => `Section ${i}: the technical documentation describes component ${i}. `.repeat(4));
    sections.splice(40, 0, 'contract_value: € 12.500,00\nend_date: 1 March 2026\nkind: service');
    const classifier = createClassifier({
      provider: createOpenAIProvider({ baseURL: fake.url, apiKey: 'test-key', model: 'gpt-4o-mini', timeoutMs: 5000, maxRetries: 0 }),
      maxInputTokens: 2500,
      chunkOverlapTokens: 50,
    });
    const result = await classifier.classify({ text: sections.join('\n\n'), fileName: 'long.txt', taxonomy });
    assert.equal(result.strategy, 'map-reduce');
    assert.ok(result.chunks > 2);
    assert.deepEqual(result.fields, { contract_value: 12500, end_date: '2026-03-01', kind: 'Service' });
    // The map step normalised the part's raw values, so the reduce step saw typed ones.
    const reduce = fake.requests.at(-1)?.messages.find((m) => m.role === 'user')?.content ?? '';
    assert.match(reduce, /field values: contract_value=12500; end_date="2026-03-01"; kind="Service"/);
    assert.ok(result.warnings.includes('field_value_converted'));
    assert.equal(result.usage.requests, fake.stats.requests, 'no repair request');
  });
});

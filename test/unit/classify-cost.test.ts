import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateCost, findPrice, priceTable } from '../../src/classify/cost.ts';

describe('estimateCost', () => {
  it('prices known models per million tokens', () => {
    assert.equal(estimateCost('gpt-4o-mini', 1_000_000, 1_000_000), 0.75);
    assert.equal(estimateCost('gpt-4o', 2_000_000, 0), 5);
    assert.ok(Math.abs(estimateCost('gpt-4.1-nano', 10_000, 2_000) - 0.0018) < 1e-12);
    assert.ok(findPrice('gpt-4.1-mini'));
  });

  it('prices dated snapshots as their family, longest name first', () => {
    assert.equal(findPrice('gpt-4o-mini-2024-07-18'), findPrice('gpt-4o-mini'));
    assert.equal(findPrice('gpt-4o-2024-08-06'), findPrice('gpt-4o'));
  });

  it('costs nothing for unknown and local models', () => {
    assert.equal(estimateCost('llama3.1:8b', 1_000_000, 1_000_000), 0);
    assert.equal(estimateCost('gpt-4oo', 1_000_000, 0), 0);
  });

  it('takes the caller\'s prices', () => {
    const prices = priceTable({ 'my-azure-deployment': { inputPerMillion: 1, outputPerMillion: 2 }, 'gpt-4o-mini': { inputPerMillion: 0, outputPerMillion: 0 } });
    assert.equal(estimateCost('my-azure-deployment', 1_000_000, 1_000_000, prices), 3);
    assert.equal(estimateCost('gpt-4o-mini', 1_000_000, 1_000_000, prices), 0);
    assert.equal(estimateCost('gpt-4o', 1_000_000, 0, prices), 2.5);
  });
});

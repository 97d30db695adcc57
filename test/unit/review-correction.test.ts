/** How a correction changes a result, and labels matched to the taxonomy: pure rules of reviews.service.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../src/domain/errors.ts';
import { applyCorrection, canonicalLabels } from '../../src/services/reviews.service.ts';

const current = { tags: ['A', 'B'], primaryCategory: 'A' };

describe('a correction of a result', () => {
  it('replaces the tags, then adds, then removes', () => {
    assert.deepEqual(applyCorrection(current, { tags: ['C'], add: ['D', 'C'], remove: ['D'] }), { tags: ['C'], primaryCategory: 'C' });
  });

  it('a removed primary category gives way to the first remaining tag', () => {
    assert.deepEqual(applyCorrection(current, { remove: ['A'] }), { tags: ['B'], primaryCategory: 'B' });
  });

  it('a primary category not among the tags joins them, first', () => {
    assert.deepEqual(applyCorrection(current, { primaryCategory: 'C' }), { tags: ['C', 'A', 'B'], primaryCategory: 'C' });
  });

  it('no change keeps the result as it is (an accept)', () => {
    assert.deepEqual(applyCorrection(current, {}), current);
  });
});

describe('labels of a correction or an import', () => {
  const taxonomy = [{ name: 'Meeting Notes' }, { name: 'Risk Management' }];

  it('are the taxonomy\'s spelling, whatever the case and spacing, once each', () => {
    assert.deepEqual(canonicalLabels(['meeting  notes', ' RISK management', 'Meeting Notes'], taxonomy), ['Meeting Notes', 'Risk Management']);
  });

  it('outside the taxonomy: one coded error naming each', () => {
    assert.throws(
      () => canonicalLabels(['Meeting Notes', 'Invented', 'Other'], taxonomy),
      (err: unknown) => err instanceof AppError && err.code === 'label_outside_taxonomy' && JSON.stringify(err.details) === '{"labels":["Invented","Other"]}',
    );
  });
});

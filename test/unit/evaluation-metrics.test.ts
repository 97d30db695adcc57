/**
 * Evaluation metrics against cases computed by hand, including a label labelled but never
 * predicted (D), a label predicted but never labelled (C) and a document without a prediction;
 * custom fields scored by exact match over the scored documents whose gold label gives values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareEvaluations, computeEvaluation, type EvaluationItem } from '../../src/domain/evaluation-metrics.ts';

const ITEMS: EvaluationItem[] = [
  { gold: { tags: ['A', 'B'], primaryCategory: 'A' }, predicted: { tags: ['A', 'C'], primaryCategory: 'A', costUsd: 0.01, latencyMs: 100 } },
  { gold: { tags: ['B'], primaryCategory: 'B' }, predicted: { tags: ['A', 'B'], primaryCategory: 'A', costUsd: 0.02, latencyMs: 300 } },
  { gold: { tags: ['D'], primaryCategory: 'D' }, predicted: { tags: ['C'], primaryCategory: 'C', costUsd: 0.03, latencyMs: null } },
  { gold: { tags: ['A'], primaryCategory: 'A' }, predicted: null },
];

describe('evaluation metrics', () => {
  const m = computeEvaluation(ITEMS);

  it('per label: precision, recall, F1, support, with 0 where a denominator is 0', () => {
    assert.deepEqual(
      m.perLabel.map((l) => [l.label, l.tp, l.fp, l.fn, l.support, l.predicted, l.precision, l.recall, l.f1]),
      [
        ['B', 1, 0, 1, 2, 1, 1, 0.5, 0.666667],
        ['A', 1, 1, 0, 1, 2, 0.5, 1, 0.666667],
        ['D', 0, 0, 1, 1, 0, 0, 0, 0], // labelled, never predicted
        ['C', 0, 2, 0, 0, 2, 0, 0, 0], // predicted, never labelled
      ],
    );
  });

  it('micro sums the counts first; macro averages the labels', () => {
    assert.deepEqual(m.micro, { precision: 0.4, recall: 0.5, f1: 0.444444 });
    assert.deepEqual(m.macro, { precision: 0.375, recall: 0.375, f1: 0.333333 });
  });

  it('documents without a prediction are counted, not scored', () => {
    assert.deepEqual([m.documents, m.scored, m.unpredicted], [4, 3, 1]);
  });

  it('primary category accuracy and the confusion matrix (gold rows, predicted columns)', () => {
    assert.equal(m.primaryAccuracy, 0.333333);
    assert.equal(m.primaryCompared, 3);
    assert.deepEqual(m.confusion, {
      labels: ['A', 'B', 'C', 'D'],
      counts: [
        [1, 0, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 1, 0],
      ],
    });
  });

  it('cost and latency per document', () => {
    assert.deepEqual(m.costUsd, { total: 0.06, perDocument: 0.02 });
    assert.deepEqual(m.latencyMs, { mean: 200, p50: 100, p95: 300 });
  });

  it('no documents: zeros, and no accuracy to report', () => {
    const e = computeEvaluation([]);
    assert.deepEqual(e.perLabel, []);
    assert.deepEqual(e.micro, { precision: 0, recall: 0, f1: 0 });
    assert.deepEqual(e.macro, { precision: 0, recall: 0, f1: 0 });
    assert.equal(e.primaryAccuracy, null);
    assert.deepEqual(e.costUsd, { total: 0, perDocument: null });
    assert.deepEqual(e.latencyMs, { mean: null, p50: null, p95: null });
  });

  it('a perfect run: every measure 1; no gold primary category: no accuracy', () => {
    const e = computeEvaluation([
      { gold: { tags: ['A', 'B'] }, predicted: { tags: ['B', 'A'], primaryCategory: 'A', costUsd: 0, latencyMs: 5 } },
      { gold: { tags: ['C'] }, predicted: { tags: ['C'], primaryCategory: 'C', costUsd: 0, latencyMs: 5 } },
    ]);
    assert.deepEqual(e.micro, { precision: 1, recall: 1, f1: 1 });
    assert.deepEqual(e.macro, { precision: 1, recall: 1, f1: 1 });
    assert.equal(e.primaryAccuracy, null);
    assert.deepEqual(e.confusion, { labels: [], counts: [] });
  });

  it('compares two runs label by label (b − a), a label missing on one side as 0', () => {
    const b = computeEvaluation([
      { gold: { tags: ['A', 'B'], primaryCategory: 'A' }, predicted: { tags: ['A', 'B'], primaryCategory: 'A', costUsd: 0.01, latencyMs: 50 } },
      { gold: { tags: ['B'], primaryCategory: 'B' }, predicted: { tags: ['B'], primaryCategory: 'B', costUsd: 0.01, latencyMs: 50 } },
      { gold: { tags: ['D'], primaryCategory: 'D' }, predicted: { tags: ['D'], primaryCategory: 'D', costUsd: 0.01, latencyMs: 50 } },
    ]);
    const c = compareEvaluations(m, b);
    assert.deepEqual(
      c.perLabel.map((l) => [l.label, l.precision, l.recall, l.f1, l.support]),
      [
        ['A', 0.5, 0, 0.333333, 0],
        ['B', 0, 0.5, 0.333333, 0],
        ['C', 0, 0, 0, 0], // only in a
        ['D', 1, 1, 1, 0],
      ],
    );
    assert.equal(c.perLabel.find((l) => l.label === 'C')?.b, null);
    assert.deepEqual(c.micro, { precision: 0.6, recall: 0.5, f1: 0.555556 });
    assert.equal(c.primaryAccuracy, 0.666667);
    assert.equal(c.costPerDocumentUsd, -0.01);
    assert.equal(c.latencyMeanMs, -150);
  });

  it('custom fields: exact match per field over scored documents with gold values; a gold null is a value', () => {
    const p = (fields: Record<string, string | number | boolean | null>) => ({ tags: ['A'], primaryCategory: 'A', fields, costUsd: 0, latencyMs: null });
    const e = computeEvaluation([
      { gold: { tags: ['A'], fields: { vendor: 'Acme  BV', total: 100, due: '2025-01-31' } }, predicted: p({ vendor: 'acme bv', total: 100.00000001, due: '2025-01-30' }) },
      { gold: { tags: ['A'], fields: { vendor: 'Beta', total: null } }, predicted: p({ vendor: 'Gamma', total: null, due: '2025-02-01' }) },
      // No prediction: not scored, so its fields are not counted either.
      { gold: { tags: ['A'], fields: { vendor: 'Delta', paid: true } }, predicted: null },
      // No gold fields: the document counts for its tags only.
      { gold: { tags: ['A'] }, predicted: p({ vendor: 'Epsilon' }) },
      // A field missing from the prediction counts as null.
      { gold: { tags: ['A'], fields: { due: null, total: 7 } }, predicted: p({}) },
    ]);
    assert.deepEqual(e.fields, [
      { field: 'due', compared: 2, correct: 1, accuracy: 0.5 },
      { field: 'total', compared: 3, correct: 2, accuracy: 0.666667 },
      { field: 'vendor', compared: 2, correct: 1, accuracy: 0.5 },
    ]);
    assert.deepEqual(computeEvaluation([]).fields, []);

    const better = computeEvaluation([{ gold: { tags: ['A'], fields: { vendor: 'Beta', paid: false } }, predicted: p({ vendor: 'Beta', paid: true }) }]);
    assert.deepEqual(
      compareEvaluations(e, better).fields.map((f) => [f.field, f.a?.accuracy ?? null, f.b?.accuracy ?? null, f.accuracy]),
      [
        ['due', 0.5, null, null],
        ['paid', null, 0, null],
        ['total', 0.666667, null, null],
        ['vendor', 0.5, 1, 0.5],
      ],
    );
  });
});

/**
 * Exact-match accuracy per custom field, for evaluation against gold labels. Pure: the evaluation
 * service hands it the gold and predicted values of the same documents.
 *
 * A field is scored on every document whose gold record names it (a gold `null` says "the document
 * has no such value", and a prediction of null is then right). A document missing from `predicted`,
 * or a field missing from its record, counts as predicted null. Values match when equal after the
 * field rule of domain/fields.ts: strings and enum values compared trimmed, with runs of spaces
 * as one and without case; numbers equal to within a millionth of their size (float rounding);
 * dates and booleans exactly.
 */
import type { FieldValue } from './fields.ts';

export type FieldRecord = Readonly<Record<string, FieldValue | undefined>>;

export interface FieldAccuracy {
  field: string;
  /** Documents whose gold record names this field. */
  compared: number;
  correct: number;
  /** correct / compared; null when nothing was compared. */
  accuracy: number | null;
}

export function fieldValuesMatch(gold: FieldValue | undefined, predicted: FieldValue | undefined): boolean {
  const g = gold ?? null;
  const p = predicted ?? null;
  if (g === null || p === null) return g === p;
  if (typeof g === 'number' && typeof p === 'number') return Math.abs(g - p) <= 1e-6 * Math.max(1, Math.abs(g), Math.abs(p));
  if (typeof g === 'string' && typeof p === 'string') return textKey(g) === textKey(p);
  return g === p;
}

const textKey = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * Accuracy per field over the documents of `gold` (keyed by document id or path), in the order
 * fields first appear in `gold`.
 */
export function fieldAccuracy(
  gold: ReadonlyMap<string, FieldRecord> | Readonly<Record<string, FieldRecord>>,
  predicted: ReadonlyMap<string, FieldRecord> | Readonly<Record<string, FieldRecord>>,
): FieldAccuracy[] {
  const goldEntries = gold instanceof Map ? [...gold.entries()] : Object.entries(gold);
  const predictedOf = (doc: string): FieldRecord | undefined =>
    predicted instanceof Map ? predicted.get(doc) : Object.hasOwn(predicted, doc) ? (predicted as Record<string, FieldRecord>)[doc] : undefined;
  const totals = new Map<string, { compared: number; correct: number }>();
  for (const [doc, record] of goldEntries) {
    const guess: FieldRecord = predictedOf(doc) ?? {};
    for (const field of Object.keys(record)) {
      const value = record[field];
      if (value === undefined) continue;
      const t = totals.get(field) ?? { compared: 0, correct: 0 };
      t.compared += 1;
      if (fieldValuesMatch(value, guess[field])) t.correct += 1;
      totals.set(field, t);
    }
  }
  return [...totals].map(([field, t]) => ({ field, ...t, accuracy: t.compared === 0 ? null : t.correct / t.compared }));
}

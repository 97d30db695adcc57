/**
 * Tagging quality against gold labels: a pure computation (no I/O), so it is tested against
 * hand-computed cases.
 *
 * Rules where a denominator is 0 (docs/evaluation.md):
 * - precision = tp / (tp + fp); a label never predicted has precision 0.
 * - recall = tp / (tp + fn); a label never in the gold labels (predicted only) has recall 0.
 * - F1 = 2PR / (P + R); 0 when P + R = 0.
 * - Only labels that occur in the gold labels or the predictions get a row and count in the macro
 *   averages: a label neither labelled nor predicted says nothing about the model.
 * - Micro averages sum tp, fp and fn over every row first, by the same rules.
 * - Documents without a prediction (failed or not classified) are not scored; they are counted
 *   in `unpredicted`.
 * - Custom fields: exact-match accuracy per field (domain/field-accuracy.ts) over the scored
 *   documents whose gold label gives values; a field the gold label does not name is not scored.
 */
import { type FieldAccuracy, type FieldRecord, fieldAccuracy } from './field-accuracy.ts';

export interface GoldLabel {
  tags: readonly string[];
  /** Absent: the gold set says nothing about this document's primary category. */
  primaryCategory?: string | null;
  /** Gold custom field values by name (null: "no such value"); absent or null: none given. */
  fields?: FieldRecord | null;
}

export interface Prediction {
  tags: readonly string[];
  primaryCategory: string;
  /** The model's custom field values; a field missing counts as null. */
  fields?: FieldRecord;
  costUsd: number;
  /** null: not measured. */
  latencyMs: number | null;
}

export interface EvaluationItem {
  gold: GoldLabel;
  predicted: Prediction | null;
}

export interface LabelMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Documents that carry the label in the gold set. */
  support: number;
  /** Documents the model gave the label. */
  predicted: number;
  tp: number;
  fp: number;
  fn: number;
}

export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

export interface ConfusionMatrix {
  /** Row and column order: gold categories on rows, predicted on columns. */
  labels: string[];
  counts: number[][];
}

export interface EvaluationMetrics {
  documents: number;
  scored: number;
  unpredicted: number;
  perLabel: LabelMetrics[];
  micro: Averages;
  macro: Averages;
  /** Share of scored documents with a gold primary category whose prediction matches it; null: none to compare. */
  primaryAccuracy: number | null;
  primaryCompared: number;
  confusion: ConfusionMatrix;
  costUsd: { total: number; perDocument: number | null };
  latencyMs: { mean: number | null; p50: number | null; p95: number | null };
  /** Exact-match accuracy per custom field, by name (gold records come back from jsonb, whose key order is its own). */
  fields: FieldAccuracy[];
}

const ratio = (num: number, den: number) => (den === 0 ? 0 : num / den);
const f1Of = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));
const round = (x: number) => Math.round(x * 1e6) / 1e6;

function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? null;
}

export function computeEvaluation(items: readonly EvaluationItem[]): EvaluationMetrics {
  const counts = new Map<string, { tp: number; fp: number; fn: number; support: number; predicted: number }>();
  const row = (label: string) => {
    let c = counts.get(label);
    if (!c) counts.set(label, (c = { tp: 0, fp: 0, fn: 0, support: 0, predicted: 0 }));
    return c;
  };
  let scored = 0;
  let compared = 0;
  let correct = 0;
  let cost = 0;
  const latencies: number[] = [];
  const confusion = new Map<string, Map<string, number>>();
  const categories = new Set<string>();
  // Keyed by position: fieldAccuracy pairs gold and predicted records by key.
  const goldFields = new Map<string, FieldRecord>();
  const predictedFields = new Map<string, FieldRecord>();

  for (const [i, item] of items.entries()) {
    if (!item.predicted) continue;
    scored++;
    if (item.gold.fields) {
      goldFields.set(String(i), item.gold.fields);
      predictedFields.set(String(i), item.predicted.fields ?? {});
    }
    const gold = new Set(item.gold.tags);
    const predicted = new Set(item.predicted.tags);
    for (const l of gold) {
      const c = row(l);
      c.support++;
      if (predicted.has(l)) c.tp++;
      else c.fn++;
    }
    for (const l of predicted) {
      const c = row(l);
      c.predicted++;
      if (!gold.has(l)) c.fp++;
    }
    cost += item.predicted.costUsd;
    if (item.predicted.latencyMs !== null) latencies.push(item.predicted.latencyMs);
    const g = item.gold.primaryCategory;
    if (g) {
      compared++;
      const p = item.predicted.primaryCategory;
      if (p === g) correct++;
      categories.add(g).add(p);
      const r = confusion.get(g) ?? new Map<string, number>();
      r.set(p, (r.get(p) ?? 0) + 1);
      confusion.set(g, r);
    }
  }

  const perLabel: LabelMetrics[] = [...counts.entries()]
    .map(([label, c]) => {
      const precision = ratio(c.tp, c.tp + c.fp);
      const recall = ratio(c.tp, c.tp + c.fn);
      return { label, precision: round(precision), recall: round(recall), f1: round(f1Of(precision, recall)), support: c.support, predicted: c.predicted, tp: c.tp, fp: c.fp, fn: c.fn };
    })
    .sort((a, z) => z.support - a.support || a.label.localeCompare(z.label));

  const sum = perLabel.reduce((s, l) => ({ tp: s.tp + l.tp, fp: s.fp + l.fp, fn: s.fn + l.fn }), { tp: 0, fp: 0, fn: 0 });
  const microP = ratio(sum.tp, sum.tp + sum.fp);
  const microR = ratio(sum.tp, sum.tp + sum.fn);
  // Macro averages the unrounded per-label values, so rounding happens once.
  const raw = [...counts.values()].map((c) => {
    const p = ratio(c.tp, c.tp + c.fp);
    const r = ratio(c.tp, c.tp + c.fn);
    return { p, r, f: f1Of(p, r) };
  });
  const mean = (xs: number[]) => ratio(xs.reduce((a, b) => a + b, 0), xs.length);
  const labels = [...categories].sort((a, z) => a.localeCompare(z));
  latencies.sort((a, z) => a - z);

  return {
    documents: items.length,
    scored,
    unpredicted: items.length - scored,
    perLabel,
    micro: { precision: round(microP), recall: round(microR), f1: round(f1Of(microP, microR)) },
    macro: { precision: round(mean(raw.map((x) => x.p))), recall: round(mean(raw.map((x) => x.r))), f1: round(mean(raw.map((x) => x.f))) },
    primaryAccuracy: compared === 0 ? null : round(correct / compared),
    primaryCompared: compared,
    confusion: { labels, counts: labels.map((g) => labels.map((p) => confusion.get(g)?.get(p) ?? 0)) },
    costUsd: { total: round(cost), perDocument: scored === 0 ? null : round(cost / scored) },
    latencyMs: {
      mean: latencies.length === 0 ? null : Math.round(mean(latencies)),
      p50: percentile(latencies, 0.5),
      p95: percentile(latencies, 0.95),
    },
    fields: fieldAccuracy(goldFields, predictedFields)
      .map((f) => ({ ...f, accuracy: f.accuracy === null ? null : round(f.accuracy) }))
      .sort((x, y) => x.field.localeCompare(y.field)),
  };
}

export interface LabelDelta {
  label: string;
  a: LabelMetrics | null;
  b: LabelMetrics | null;
  /** b − a; a side without the label counts as 0. */
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface FieldDelta {
  field: string;
  a: FieldAccuracy | null;
  b: FieldAccuracy | null;
  /** b − a; null when either side did not score the field. */
  accuracy: number | null;
}

export interface EvaluationComparison {
  perLabel: LabelDelta[];
  fields: FieldDelta[];
  micro: Averages;
  macro: Averages;
  /** null when either side has no accuracy. */
  primaryAccuracy: number | null;
  costPerDocumentUsd: number | null;
  latencyMeanMs: number | null;
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : round(b - a));

/** Two runs side by side: every label of either, with b − a. */
export function compareEvaluations(a: EvaluationMetrics, b: EvaluationMetrics): EvaluationComparison {
  const byA = new Map(a.perLabel.map((l) => [l.label, l]));
  const byB = new Map(b.perLabel.map((l) => [l.label, l]));
  const labels = [...new Set([...byA.keys(), ...byB.keys()])].sort((x, y) => x.localeCompare(y));
  const avg = (x: Averages, y: Averages): Averages => ({ precision: round(y.precision - x.precision), recall: round(y.recall - x.recall), f1: round(y.f1 - x.f1) });
  return {
    perLabel: labels.map((label) => {
      const la = byA.get(label) ?? null;
      const lb = byB.get(label) ?? null;
      const v = (l: LabelMetrics | null, k: 'precision' | 'recall' | 'f1' | 'support') => (l ? l[k] : 0);
      return {
        label,
        a: la,
        b: lb,
        precision: round(v(lb, 'precision') - v(la, 'precision')),
        recall: round(v(lb, 'recall') - v(la, 'recall')),
        f1: round(v(lb, 'f1') - v(la, 'f1')),
        support: v(lb, 'support') - v(la, 'support'),
      };
    }),
    fields: fieldDeltas(a.fields, b.fields),
    micro: avg(a.micro, b.micro),
    macro: avg(a.macro, b.macro),
    primaryAccuracy: diff(a.primaryAccuracy, b.primaryAccuracy),
    costPerDocumentUsd: diff(a.costUsd.perDocument, b.costUsd.perDocument),
    latencyMeanMs: diff(a.latencyMs.mean, b.latencyMs.mean),
  };
}

/** Every field either run scored, by name. */
function fieldDeltas(a: readonly FieldAccuracy[], b: readonly FieldAccuracy[]): FieldDelta[] {
  const byA = new Map(a.map((f) => [f.field, f]));
  const byB = new Map(b.map((f) => [f.field, f]));
  const names = [...new Set([...byA.keys(), ...byB.keys()])].sort((x, y) => x.localeCompare(y));
  return names.map((field) => {
    const fa = byA.get(field) ?? null;
    const fb = byB.get(field) ?? null;
    return { field, a: fa, b: fb, accuracy: diff(fa?.accuracy ?? null, fb?.accuracy ?? null) };
  });
}

/**
 * Normalising a parsed answer before it is validated: what a model got wrong in form but not in
 * substance is set right and recorded as a warning, so the answer is kept without a repair request.
 * Smaller open models (Ollama, llama.cpp) follow the JSON schema yet break the prompt's other rules;
 * paying for a second request to fix what a rule can fix would double the bill and still lose
 * documents when the repair repeats the slip.
 *
 * Set right (one warning code each):
 * - a label spelled with other case or spacing ("financial  reports ") becomes the taxonomy's
 *   label, when exactly one label matches;
 * - confidences on a 0..100 scale (some above 1, none above 100, none between 0 and 1) are divided
 *   by 100; any other confidence outside 0..1 is clamped to it;
 * - a label tagged twice keeps its highest confidence;
 * - a primary category missing from the tags joins them, with the highest confidence among the
 *   tags: the model's stated primary category is kept, not replaced by its best tag;
 * - a summary language that is not a language code ("English") is dropped (left empty), and the
 *   result falls back to the requested or detected language;
 * - a custom field's value in another form than its type is converted where one reading is clear
 *   ("€ 1.234,50" to 1234.5, "31-12-2024" to "2024-12-31", "yes" to true, an enum value in other
 *   case); one that cannot be read (or a missing field, or no fields object at all) becomes null
 *   with `field_value_dropped`, and fields the taxonomy does not define are left out. A field never
 *   costs the document: the rule is domain/fields.ts.
 *
 * Left to validation (and so to one repair request, then `invalid_output`): anything that is not
 * JSON or not an object, no tags at all, labels that map to no taxonomy label, missing fields or
 * fields of another type, extra fields.
 */
import { type FieldValue, normaliseFieldValue } from '../domain/fields.ts';
import { CLASSIFICATION_WARNINGS, type ClassificationWarning, type Taxonomy } from './types.ts';

export interface NormalisedAnswer {
  value: unknown;
  /** In the order of CLASSIFICATION_WARNINGS, each at most once; empty for a clean answer. */
  warnings: ClassificationWarning[];
}

/** ISO 639-1/639-3 with optional subtags ("nl", "eng", "pt-BR", "zh-Hant"); "und" included. */
const LANGUAGE_CODE = /^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/i;

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const labelKey = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();
const isConfidence = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Taxonomy labels by their case- and spacing-free key; a key two labels share maps to neither. */
function labelIndex(taxonomy: Taxonomy): Map<string, string | null> {
  const byKey = new Map<string, string | null>();
  for (const { name } of taxonomy.labels) {
    const key = labelKey(name);
    byKey.set(key, byKey.has(key) ? null : name);
  }
  return byKey;
}

export function normaliseAnswer(parsed: unknown, taxonomy: Taxonomy): NormalisedAnswer {
  if (!isObject(parsed)) return { value: parsed, warnings: [] };
  const found = new Set<ClassificationWarning>();
  const byKey = labelIndex(taxonomy);
  const exact = new Set(taxonomy.labels.map((l) => l.name));
  const canon = (v: unknown): unknown => {
    if (typeof v !== 'string' || exact.has(v)) return v;
    const name = byKey.get(labelKey(v));
    if (!name) return v;
    found.add('label_spelling_corrected');
    return name;
  };

  const answer: Obj = { ...parsed };
  if (Array.isArray(answer.tags)) {
    let tags: unknown[] = answer.tags.map((t: unknown) => (isObject(t) ? { ...t, label: canon(t.label) } : t));
    tags = normaliseConfidences(tags, found);
    tags = mergeDuplicates(tags, found);
    answer.tags = tags;
  }
  if ('primaryCategory' in answer) {
    answer.primaryCategory = canon(answer.primaryCategory);
    const primary = answer.primaryCategory;
    const tags = answer.tags;
    // With no tags at all there is nothing to trust the primary category against: that answer is repaired.
    if (typeof primary === 'string' && exact.has(primary) && Array.isArray(tags) && tags.length > 0) {
      const tagged = tags.some((t) => isObject(t) && t.label === primary);
      if (!tagged) {
        const confidences = tags.flatMap((t) => (isObject(t) && isConfidence(t.confidence) ? [t.confidence] : []));
        answer.tags = [...tags, { label: primary, confidence: confidences.length > 0 ? Math.max(...confidences) : 1 }];
        found.add('primary_category_added_to_tags');
      }
    }
  }
  if (typeof answer.summaryLanguage === 'string') {
    const language = answer.summaryLanguage.trim();
    if (language !== '' && !LANGUAGE_CODE.test(language)) {
      answer.summaryLanguage = '';
      found.add('summary_language_dropped');
    }
  }
  const fields = taxonomy.fields ?? [];
  if (fields.length > 0) {
    const given = isObject(answer.fields) ? answer.fields : {};
    if (!isObject(answer.fields)) found.add('field_value_dropped');
    const out: Record<string, FieldValue> = {};
    for (const field of fields) {
      const { value, outcome } = normaliseFieldValue(field, Object.hasOwn(given, field.name) ? given[field.name] : undefined);
      out[field.name] = value;
      if (outcome === 'converted') found.add('field_value_converted');
      if (outcome === 'dropped') found.add('field_value_dropped');
    }
    answer.fields = out;
  }
  return { value: answer, warnings: CLASSIFICATION_WARNINGS.filter((w) => found.has(w)) };
}

/** A 0..100 answer is rescaled as a whole (its order kept); stray values are clamped one by one. */
function normaliseConfidences(tags: unknown[], found: Set<ClassificationWarning>): unknown[] {
  const values = tags.flatMap((t) => (isObject(t) && isConfidence(t.confidence) ? [t.confidence] : []));
  const percent = values.some((c) => c > 1) && values.every((c) => c === 0 || (c >= 1 && c <= 100));
  if (percent) found.add('confidence_rescaled');
  return tags.map((t) => {
    if (!isObject(t) || !isConfidence(t.confidence)) return t;
    const c = percent ? t.confidence / 100 : t.confidence;
    if (c < 0 || c > 1) found.add('confidence_clamped');
    return { ...t, confidence: Math.min(1, Math.max(0, c)) };
  });
}

/** One tag per label, where the first of them stood, with the highest confidence given. */
function mergeDuplicates(tags: unknown[], found: Set<ClassificationWarning>): unknown[] {
  const kept: unknown[] = [];
  const byLabel = new Map<string, number>();
  for (const t of tags) {
    if (!isObject(t) || typeof t.label !== 'string') {
      kept.push(t);
      continue;
    }
    const at = byLabel.get(t.label);
    if (at === undefined) {
      byLabel.set(t.label, kept.length);
      kept.push(t);
      continue;
    }
    found.add('duplicate_labels_merged');
    const prev = kept[at] as Obj;
    if (isConfidence(t.confidence) && (!isConfidence(prev.confidence) || t.confidence > prev.confidence)) kept[at] = t;
  }
  return kept;
}

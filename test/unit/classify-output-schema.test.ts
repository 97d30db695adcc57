import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TAXONOMY_LABELS } from '../../src/classify/default-taxonomy.ts';
import { finalAnswerSchema, partialAnswerSchema, toOutputSchema, validateAnswer } from '../../src/classify/output-schema.ts';
import type { Taxonomy } from '../../src/classify/types.ts';

const taxonomy: Taxonomy = { id: 't1', version: 3, name: 'default', labels: [...DEFAULT_TAXONOMY_LABELS] };
const names = DEFAULT_TAXONOMY_LABELS.map((l) => l.name);

type Obj = Record<string, unknown>;
const prop = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], o);

describe('output schema', () => {
  it('has the 15 default labels', () => {
    assert.equal(names.length, 15);
    assert.ok(names.includes('Research & Development'));
    for (const l of DEFAULT_TAXONOMY_LABELS) assert.ok(l.description && l.description.length > 10);
  });

  it('constrains tag labels and primaryCategory to the taxonomy, in the strict shape', () => {
    const { name, schema } = toOutputSchema('document_classification', finalAnswerSchema(taxonomy));
    assert.equal(name, 'document_classification');
    assert.equal(schema.$schema, undefined);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required, ['tags', 'primaryCategory', 'summary', 'summaryLanguage']);
    assert.deepEqual(prop(schema, 'properties', 'tags', 'items', 'properties', 'label', 'enum'), names);
    assert.deepEqual(prop(schema, 'properties', 'primaryCategory', 'enum'), names);
    assert.equal(prop(schema, 'properties', 'tags', 'items', 'additionalProperties'), false);
    assert.equal(prop(schema, 'properties', 'tags', 'items', 'properties', 'confidence', 'maximum'), 1);
  });

  it('the partial schema is strict too', () => {
    const { schema } = toOutputSchema('partial', partialAnswerSchema(taxonomy));
    assert.deepEqual(schema.required, ['tags', 'notes', 'language']);
    assert.equal(schema.additionalProperties, false);
  });

  const valid = { tags: [{ label: 'Meeting Notes', confidence: 0.9 }], primaryCategory: 'Meeting Notes', summary: 'Notulen.', summaryLanguage: 'nl' };

  it('accepts a valid answer', () => {
    const v = validateAnswer(JSON.stringify(valid), finalAnswerSchema(taxonomy), taxonomy);
    assert.ok(v.ok);
  });

  it('rejects a tag outside the taxonomy, naming the problem', () => {
    const bad = { ...valid, tags: [{ label: 'Cooking', confidence: 0.9 }], primaryCategory: 'Cooking' };
    const v = validateAnswer(JSON.stringify(bad), finalAnswerSchema(taxonomy), taxonomy);
    assert.equal(v.ok, false);
    if (!v.ok) assert.match(v.problem, /tags/);
  });

  it('keeps a primaryCategory that is not among the tags by adding it, with a warning', () => {
    const v = validateAnswer(JSON.stringify({ ...valid, primaryCategory: 'Compliance' }), finalAnswerSchema(taxonomy), taxonomy);
    assert.ok(v.ok);
    if (v.ok) {
      assert.deepEqual(v.value.tags.map((t) => t.label), ['Meeting Notes', 'Compliance']);
      assert.deepEqual(v.warnings, ['primary_category_added_to_tags']);
    }
  });

  it('clamps confidence outside 0..1 with a warning; rejects no tags, extra keys and non-JSON', () => {
    const schema = finalAnswerSchema(taxonomy);
    const clamped = validateAnswer(JSON.stringify({ ...valid, tags: [{ label: 'Meeting Notes', confidence: 300 }] }), schema, taxonomy);
    assert.ok(clamped.ok);
    if (clamped.ok) {
      assert.equal(clamped.value.tags[0]?.confidence, 1);
      assert.deepEqual(clamped.warnings, ['confidence_clamped']);
    }
    const noTags = validateAnswer(JSON.stringify({ ...valid, tags: [] }), schema, taxonomy);
    assert.equal(noTags.ok, false);
    if (!noTags.ok) assert.match(noTags.problem, /tags/);
    assert.equal(validateAnswer(JSON.stringify({ ...valid, run: 'rm -rf /' }), schema, taxonomy).ok, false);
    const v = validateAnswer('{"tags": [', schema, taxonomy);
    assert.equal(v.ok, false);
    if (!v.ok) assert.match(v.problem, /not valid JSON/);
  });

  it('forgives label case and code fences', () => {
    const sloppy = { ...valid, tags: [{ label: ' meeting notes', confidence: 0.9 }], primaryCategory: 'MEETING NOTES' };
    const v = validateAnswer('```json\n' + JSON.stringify(sloppy) + '\n```', finalAnswerSchema(taxonomy), taxonomy);
    assert.ok(v.ok);
    if (v.ok) {
      assert.equal(v.value.primaryCategory, 'Meeting Notes');
      assert.deepEqual(v.warnings, ['label_spelling_corrected']);
    }
  });

  it('a clean answer passes unchanged, without warnings', () => {
    const v = validateAnswer(JSON.stringify(valid), finalAnswerSchema(taxonomy), taxonomy);
    assert.ok(v.ok);
    if (v.ok) {
      assert.deepEqual(v.value, valid);
      assert.deepEqual(v.warnings, []);
    }
  });

  it('the JSON schema sent to the model stays strict: confidences 0..1', () => {
    const { schema } = toOutputSchema('document_classification', finalAnswerSchema(taxonomy));
    assert.equal(prop(schema, 'properties', 'tags', 'items', 'properties', 'confidence', 'minimum'), 0);
  });
});

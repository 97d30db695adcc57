/** The normaliser on hand-written answers: each rule alone, the unusable answers it leaves alone, and a clean answer. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseAnswer } from '../../src/classify/normalise-answer.ts';
import type { Taxonomy } from '../../src/classify/types.ts';

const taxonomy: Taxonomy = {
  id: 't1',
  version: 1,
  name: 'test',
  labels: [{ name: 'Financial Reports' }, { name: 'Meeting Notes' }, { name: 'Contracts' }, { name: 'Miscellaneous' }],
};

const t = (label: string, confidence: number) => ({ label, confidence });

const clean = {
  tags: [t('Financial Reports', 0.9), t('Meeting Notes', 0.4)],
  primaryCategory: 'Financial Reports',
  summary: 'Quarterly figures.',
  summaryLanguage: 'en',
};

const run = (answer: unknown) => normaliseAnswer(structuredClone(answer), taxonomy);

describe('normalising a model answer', () => {
  it('leaves a clean answer unchanged, without warnings', () => {
    const { value, warnings } = run(clean);
    assert.deepEqual(value, clean);
    assert.deepEqual(warnings, []);
  });

  it('does not modify its argument', () => {
    const answer = structuredClone({ ...clean, primaryCategory: 'Contracts' });
    const copy = structuredClone(answer);
    normaliseAnswer(answer, taxonomy);
    assert.deepEqual(answer, copy);
  });

  it('adds a primary category missing from the tags, with the highest confidence among them', () => {
    const { value, warnings } = run({ ...clean, primaryCategory: 'Contracts' });
    assert.deepEqual(value, {
      ...clean,
      primaryCategory: 'Contracts',
      tags: [...clean.tags, { label: 'Contracts', confidence: 0.9 }],
    });
    assert.deepEqual(warnings, ['primary_category_added_to_tags']);
  });

  it('merges a label tagged twice, keeping its highest confidence where it first stood', () => {
    const { value, warnings } = run({
      ...clean,
      tags: [t('Meeting Notes', 0.3), t('Financial Reports', 0.9), t('Meeting Notes', 0.6)],
    });
    assert.deepEqual((value as typeof clean).tags, [t('Meeting Notes', 0.6), t('Financial Reports', 0.9)]);
    assert.deepEqual(warnings, ['duplicate_labels_merged']);
  });

  it('merges labels that differ only in case and spacing, after mapping them to the taxonomy', () => {
    const { value, warnings } = run({
      ...clean,
      tags: [t('Financial Reports', 0.7), t(' financial   REPORTS ', 0.8)],
    });
    assert.deepEqual((value as typeof clean).tags, [{ label: 'Financial Reports', confidence: 0.8 }]);
    assert.deepEqual(warnings, ['label_spelling_corrected', 'duplicate_labels_merged']);
  });

  it('maps case and spacing slips to the taxonomy label, in tags and primary category', () => {
    const { value, warnings } = run({ ...clean, tags: [{ label: 'financial reports ', confidence: 0.9 }], primaryCategory: 'FINANCIAL  REPORTS' });
    assert.deepEqual(value, { ...clean, tags: [{ label: 'Financial Reports', confidence: 0.9 }], primaryCategory: 'Financial Reports' });
    assert.deepEqual(warnings, ['label_spelling_corrected']);
  });

  it('does not map a label that two taxonomy labels share once case and spacing are ignored', () => {
    const ambiguous: Taxonomy = { ...taxonomy, labels: [{ name: 'Tax  Returns' }, { name: 'Tax Returns' }] };
    const { value, warnings } = normaliseAnswer({ ...clean, tags: [{ label: 'tax returns', confidence: 0.9 }], primaryCategory: 'tax returns' }, ambiguous);
    assert.equal((value as typeof clean).primaryCategory, 'tax returns');
    assert.deepEqual(warnings, []);
  });

  it('divides confidences on a 0..100 scale by 100, zero included', () => {
    const { value, warnings } = run({
      ...clean,
      tags: [t('Financial Reports', 85), t('Meeting Notes', 1), t('Contracts', 0)],
    });
    assert.deepEqual((value as typeof clean).tags.map((tag) => tag.confidence), [0.85, 0.01, 0]);
    assert.deepEqual(warnings, ['confidence_rescaled']);
  });

  it('clamps stray confidences instead when the answer is not on a 0..100 scale', () => {
    const { value, warnings } = run({
      ...clean,
      tags: [t('Financial Reports', 1.2), t('Meeting Notes', 0.5), t('Contracts', -0.1)],
    });
    assert.deepEqual((value as typeof clean).tags.map((tag) => tag.confidence), [1, 0.5, 0]);
    assert.deepEqual(warnings, ['confidence_clamped']);
  });

  it('clamps confidences above 100', () => {
    const { value, warnings } = run({ ...clean, tags: [{ label: 'Financial Reports', confidence: 250 }] });
    assert.equal((value as typeof clean).tags[0]?.confidence, 1);
    assert.deepEqual(warnings, ['confidence_clamped']);
  });

  it('drops a summary language that is not a language code, and keeps codes with subtags', () => {
    const dropped = run({ ...clean, summaryLanguage: 'English' });
    assert.equal((dropped.value as typeof clean).summaryLanguage, '');
    assert.deepEqual(dropped.warnings, ['summary_language_dropped']);
    for (const code of ['nl', 'eng', 'pt-BR', 'zh-Hant', 'und', '']) {
      const kept = run({ ...clean, summaryLanguage: code });
      assert.equal((kept.value as typeof clean).summaryLanguage, code);
      assert.deepEqual(kept.warnings, []);
    }
  });

  it('normalises a partial answer\'s tags and leaves its language note alone', () => {
    const partial = { tags: [{ label: 'contracts', confidence: 70 }, { label: 'Contracts', confidence: 20 }], notes: 'Clauses.', language: 'English' };
    const { value, warnings } = run(partial);
    assert.deepEqual(value, { tags: [{ label: 'Contracts', confidence: 0.7 }], notes: 'Clauses.', language: 'English' });
    assert.deepEqual(warnings, ['label_spelling_corrected', 'confidence_rescaled', 'duplicate_labels_merged']);
  });

  it('all rules at once, warnings in their fixed order', () => {
    const { value, warnings } = run({
      tags: [t('Meeting Notes', 60), t(' meeting notes', 30)],
      primaryCategory: 'Contracts',
      summary: 'Minutes.',
      summaryLanguage: 'Nederlands',
    });
    assert.deepEqual(value, {
      tags: [t('Meeting Notes', 0.6), t('Contracts', 0.6)],
      primaryCategory: 'Contracts',
      summary: 'Minutes.',
      summaryLanguage: '',
    });
    assert.deepEqual(warnings, ['label_spelling_corrected', 'confidence_rescaled', 'duplicate_labels_merged', 'primary_category_added_to_tags', 'summary_language_dropped']);
  });

  it('leaves unusable answers for validation to reject: no tags, labels outside the taxonomy, not an object', () => {
    const noTags = { ...clean, tags: [] };
    assert.deepEqual(run(noTags), { value: noTags, warnings: [] });
    const invented = { ...clean, tags: [{ label: 'Cooking', confidence: 0.9 }], primaryCategory: 'Cooking' };
    assert.deepEqual(run(invented), { value: invented, warnings: [] });
    // An invented primary category is not added to the tags: it maps to no label.
    const inventedPrimary = { ...clean, primaryCategory: 'Cooking' };
    assert.deepEqual(run(inventedPrimary), { value: inventedPrimary, warnings: [] });
    assert.deepEqual(run([1, 2]), { value: [1, 2], warnings: [] });
    assert.deepEqual(run('text'), { value: 'text', warnings: [] });
  });
});

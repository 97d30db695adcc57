/** A classification result as the store takes it, for tests that write results without a model. */
import type { NewClassification } from '../../src/store/classifications.repository.ts';

/** One tag ('Meeting Notes', 0.9) under taxonomy version 1, model 'm', prompt 'p1'; `patch` changes any part. */
export function storedResult(owner: { documentId: string; taxonomyId: string; jobId: string }, patch: Partial<NewClassification> = {}): NewClassification {
  return {
    contentSha256: 'sha',
    taxonomyVersion: 1,
    model: 'm',
    promptVersion: 'p1',
    summaryLanguage: 'en',
    tags: [{ label: 'Meeting Notes', confidence: 0.9, needsReview: false }],
    primaryCategory: 'Meeting Notes',
    summary: 's',
    language: 'en',
    strategy: 'single',
    chunks: 1,
    inputTokens: 1,
    outputTokens: 1,
    costUsd: 0,
    needsReview: false,
    ...owner,
    ...patch,
  };
}

/** A taxonomy's custom fields, one of each type (docs/api.md, "Custom fields"). */
export const CONTRACT_FIELDS = [
  { name: 'counterparty', type: 'string' },
  { name: 'contract_value', type: 'number' },
  { name: 'end_date', type: 'date' },
  { name: 'signed', type: 'boolean' },
  { name: 'kind', type: 'enum', values: ['Lease', 'Service'] },
];

/** A document the fake OpenAI server answers CONTRACT_FIELDS of: Acme BV, 1200, 2025-12-31, false, Lease. */
export const CONTRACT_TEXT = 'Contract.\ncounterparty: Acme BV\ncontract_value: 1200\nend_date: 2025-12-31\nsigned: false\nkind: Lease';

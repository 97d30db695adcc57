/**
 * The classification library's vocabulary. Nothing here knows about the database, the queue or
 * configuration: every setting reaches the library as a parameter.
 */
import type { ProviderError } from './errors.ts';
import type { FieldDefinition, FieldValue } from '../domain/fields.ts';

export type { FieldDefinition, FieldValue };

/** One label of a taxonomy. The description goes into the prompt, so it steers the model. */
export interface TaxonomyLabel {
  name: string;
  description?: string;
}

/** A versioned set of labels. Results record `id` and `version`, so an edit never rewrites history. */
export interface Taxonomy {
  id: string;
  version: number;
  name: string;
  labels: TaxonomyLabel[];
  /** Custom fields extracted in the same request (domain/fields.ts); absent or empty: none. */
  fields?: FieldDefinition[];
}

export interface ClassifyInput {
  /** Extracted document text. Untrusted: it is only ever data inside the prompt. */
  text: string;
  title?: string;
  fileName: string;
  /** The document's language as detected at extraction (ISO 639-1 or 639-3), if known. */
  documentLanguage?: string;
  taxonomy: Taxonomy;
  /** Language of the summary (e.g. "nl"); absent: the document's own language. */
  summaryLanguage?: string;
  /** Upper bound on the summary's length; absent: the classifier's default. */
  summaryMaxWords?: number;
  /**
   * Another model of the same provider (server, key) to ask, e.g. one an evaluation compares
   * (the requests' `model`); absent: the provider's own. Prices and the result name this model.
   */
  model?: string;
}

export interface TagScore {
  /** Always one of the taxonomy's label names (validated). */
  label: string;
  /** 0..1 */
  confidence: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Logical requests sent (map, reduce and repair requests each count; SDK-level retries do not). */
  requests: number;
}

export type ClassificationStrategy = 'single' | 'map-reduce';

/**
 * What was set right in the model's answers instead of sending a repair request (see
 * normalise-answer.ts): the result is kept, and says how far the model strayed.
 */
export const CLASSIFICATION_WARNINGS = [
  'label_spelling_corrected',
  'confidence_rescaled',
  'confidence_clamped',
  'duplicate_labels_merged',
  'primary_category_added_to_tags',
  'summary_language_dropped',
  /** A custom field's value was given in another form and converted ("€ 1.234,50" to 1234.5, a date to yyyy-mm-dd). */
  'field_value_converted',
  /** A custom field's value could not be read as its type (or was missing): it is stored as null. */
  'field_value_dropped',
] as const;

export type ClassificationWarning = (typeof CLASSIFICATION_WARNINGS)[number];

export interface ClassificationResult {
  /** Sorted by confidence, highest first; labels unique. */
  tags: TagScore[];
  /** One of the taxonomy's labels; always also present in `tags`. */
  primaryCategory: string;
  summary: string;
  /** The requested language, or the language code the model reported for the document. */
  summaryLanguage: string;
  strategy: ClassificationStrategy;
  chunks: number;
  usage: Usage;
  /** Estimated from the price table; 0 for unknown or local models. */
  costUsd: number;
  model: string;
  promptVersion: string;
  /** What was normalised in the model's answers (every request of the document); empty when nothing was. */
  warnings: ClassificationWarning[];
  /** One value per field of the taxonomy (null: not found or unusable); empty without fields. */
  fields: Record<string, FieldValue>;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A JSON schema for structured output, in the shape `response_format.json_schema` expects. */
export interface OutputSchema {
  name: string;
  schema: Record<string, unknown>;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  output: OutputSchema;
  /** Upper bound on generated tokens for this call. */
  maxOutputTokens: number;
  /** The model to ask; absent: the provider's own. */
  model?: string;
}

export interface CompletionResponse {
  /** The raw assistant text: expected to be JSON, but not trusted until validated. */
  content: string;
  /** True when generation stopped at the output limit (the JSON is then likely cut off). */
  truncated: boolean;
  /** As reported by the server; absent when it reports none (the classifier then counts itself). */
  usage?: { inputTokens: number; outputTokens: number };
  /** The model that actually answered (a server may resolve an alias to a dated snapshot). */
  model: string;
}

/**
 * The one thing a provider does: a single structured chat call. Prompt building, chunking,
 * validation and repair are shared code above it, so a second provider cannot drift in behaviour.
 * Implementations throw `ProviderError` (errors.ts) for every failure.
 */
export interface LlmProvider {
  readonly name: string;
  readonly model: string;
  complete(request: CompletionRequest, opts?: CompleteOptions): Promise<CompletionResponse>;
  /** Present when the provider offers the Batch API. */
  readonly batch?: BatchApi;
}

export interface CompleteOptions {
  signal?: AbortSignal;
  /**
   * Awaited before each retry the provider makes by itself (after its backoff, before the
   * request leaves), so a shared rate limit books every request the provider counts, not only
   * the first. Rejecting (e.g. cancelled while waiting) ends the call with that error.
   */
  beforeRetry?: (signal?: AbortSignal) => Promise<void>;
}

/** One request of a Batch API batch: its answer comes back under `customId`. */
export interface BatchRequestLine {
  customId: string;
  request: CompletionRequest;
}

/**
 * A batch as the provider reports it. `ended`: it will change no more (completed, expired,
 * cancelled or failed); the answers it has are in `outputFileId`, the lines that failed in
 * `errorFileId`, and any line in neither was never answered.
 */
export interface BatchState {
  id: string;
  status: string;
  ended: boolean;
  outputFileId?: string;
  errorFileId?: string;
  /** Why the whole batch failed, when it did (e.g. the input file was refused). */
  error?: string;
}

/** Per custom id: the answer, or the error that line ended with. */
export type BatchResults = Map<string, CompletionResponse | ProviderError>;

/**
 * OpenAI's Batch API (JSONL upload to /v1/files, /v1/batches): the same requests as `complete`,
 * answered within the completion window at a lower price. Methods throw `ProviderError`.
 */
export interface BatchApi {
  submit(lines: readonly BatchRequestLine[], opts?: { signal?: AbortSignal }): Promise<{ id: string; inputFileId: string }>;
  retrieve(id: string): Promise<BatchState>;
  /** The answers of an ended batch, by custom id (lines it never answered are absent). */
  results(state: BatchState): Promise<BatchResults>;
  cancel(id: string): Promise<BatchState>;
}

/**
 * The words docsight uses everywhere, defined once: the store's check constraints, the API's
 * schemas, the CLI and the dashboard all import them from here. Constants and types only, with no
 * imports: this file is bundled into the browser too.
 */

/** What a folder-level job does. */
export const JOB_KINDS = ['scan', 'classify'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Where a folder-level job is in its life. */
/**
 * How a classification sends its requests: `direct` (one chat request per document), `batch`
 * (OpenAI's Batch API: answered within 24 h at the batch price), or `auto` (the Batch API for a
 * job of at least LLM_BATCH_API_MIN_DOCUMENTS documents when the provider offers it, else direct).
 */
export const CLASSIFICATION_MODES = ['auto', 'direct', 'batch'] as const;
export type ClassificationMode = (typeof CLASSIFICATION_MODES)[number];

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The statuses of a job that has ended: kept as history until JOB_RETENTION_DAYS. */
export const FINAL_JOB_STATUSES = ['completed', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];

/** The statuses of a job that has not ended: it can still be cancelled, and a request for the same work joins it. */
export const ACTIVE_JOB_STATUSES = ['queued', 'running'] as const satisfies readonly JobStatus[];
export type ActiveJobStatus = (typeof ACTIVE_JOB_STATUSES)[number];

export function isActiveJobStatus(status: string): status is ActiveJobStatus {
  return (ACTIVE_JOB_STATUSES as readonly string[]).includes(status);
}

/** Where a document is in extraction. */
export const DOCUMENT_STATUSES = ['pending', 'extracted', 'unsupported', 'failed'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/** Where a document came from: a file on disk, or a document inside another one. */
export const DOCUMENT_ORIGINS = ['file', 'attachment', 'archive-entry'] as const;
export type DocumentOrigin = (typeof DOCUMENT_ORIGINS)[number];

/** The `origin` filter of document listings: an origin, or `embedded` (attachments and archive entries). */
export const DOCUMENT_ORIGIN_FILTERS = [...DOCUMENT_ORIGINS, 'embedded'] as const;
export type DocumentOriginFilter = (typeof DOCUMENT_ORIGIN_FILTERS)[number];

/** Where a document's text came from. */
export const TEXT_SOURCES = ['text-layer', 'ocr', 'mixed'] as const;
export type TextSource = (typeof TEXT_SOURCES)[number];

/** Where a document that needs OCR is in that stage (null on the row: it needs none). */
export const OCR_STATUSES = ['pending', 'done', 'failed', 'skipped'] as const;
export type OcrStatus = (typeof OCR_STATUSES)[number];

/**
 * The `ocr` filter of document listings: an OCR status, `low-confidence` (read, with its mean word
 * confidence under OCR_LOW_CONFIDENCE) or `any` (every document that needed OCR).
 */
export const OCR_FILTERS = [...OCR_STATUSES, 'low-confidence', 'any'] as const;
export type OcrFilter = (typeof OCR_FILTERS)[number];

/**
 * Kinds of personal data extraction detects (src/pii/): Dutch citizen service numbers, IBANs,
 * payment card numbers, e-mail addresses, phone numbers, dates of birth next to a birth keyword.
 */
export const PII_KINDS = ['bsn', 'iban', 'card', 'email', 'phone', 'birthdate'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** The `sensitive` filter of listings and search: a kind, or `any` (a document with any kind). */
export const SENSITIVE_FILTERS = [...PII_KINDS, 'any'] as const;
export type SensitiveFilter = (typeof SENSITIVE_FILTERS)[number];

/** Why one page or image fails OCR (the OCR library's codes, src/ocr/types.ts). */
export const OCR_PAGE_FAILURE_CODES = [
  'image_too_large',
  'corrupt',
  'unsupported',
  'timeout',
  'cancelled',
  'ocr_language_missing',
  'ocr_engine_failed',
] as const;

/**
 * Why OCR of a document failed or was skipped: a page's code, `ocr_failed` (anything else), or
 * `ocr_off` (OCR=off, or OCR_FOLDERS leaves it out).
 */
export const OCR_FAILURE_CODES = [...OCR_PAGE_FAILURE_CODES, 'ocr_failed', 'ocr_off'] as const;
export type OcrFailureCode = (typeof OCR_FAILURE_CODES)[number];

/**
 * What a scan found a document to have done since the previous state: appeared, changed content
 * (another sha256), moved (same content at another path: same document id), or disappeared.
 */
export const CHANGE_KINDS = ['added', 'changed', 'moved', 'deleted'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** The types a taxonomy's custom field may have (docs/api.md, "Custom fields"). */
export const FIELD_TYPES = ['string', 'number', 'date', 'boolean', 'enum'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Comparisons of a `field.<name>.<op>=` filter in listings and search; equality is `field.<name>=`. */
export const FIELD_FILTER_OPS = ['gte', 'gt', 'lte', 'lt'] as const;
export type FieldFilterOp = (typeof FIELD_FILTER_OPS)[number];

/** An API key's role; each includes the ones before it. */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Codes of errors a request can meet (services throw them; the API maps each to one HTTP status in
 * api/plugins/errors.ts).
 */
export const REQUEST_ERROR_CODES = [
  'bad_request',
  'path_outside_root',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'unavailable',
  'provider_not_configured',
  /** A label (tag or primary category) that is not in the taxonomy: 400. */
  'label_outside_taxonomy',
  /** A correction of a document with no result to correct, or no content yet: 409. */
  'not_classified',
  /** A taxonomy's field definition or a `field.` filter that cannot be used. */
  'invalid_field',
  'secrets_key_missing',
  'url_not_allowed',
  'internal',
] as const;
export type RequestErrorCode = (typeof REQUEST_ERROR_CODES)[number];

/** Why a whole folder-level job failed (stored on the job as error.code). */
export const JOB_ERROR_CODES = [
  'cancelled',
  'folder_unavailable',
  'scan_failed',
  'classify_failed',
  'provider_not_configured',
  'taxonomy_gone',
  'queue_unavailable',
  'invalid_payload',
  'source_unreachable',
  'source_denied',
  'source_throttled',
  'internal',
] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

/** Why one document failed extraction (stored on the document and in the job's failures). */
export const EXTRACTION_FAILURE_CODES = ['too_large', 'zip_bomb', 'encrypted', 'corrupt', 'timeout', 'unsupported', 'internal', 'too_deep'] as const;
export type ExtractionFailureCode = (typeof EXTRACTION_FAILURE_CODES)[number];

/** Why one document failed classification (in the job's failures). */
export const CLASSIFICATION_FAILURE_CODES = [
  'rate_limited',
  'timeout',
  'unavailable',
  'auth',
  'bad_request',
  'invalid_output',
  'context_length',
  'cancelled',
  'empty_document',
  'invalid_taxonomy',
  'invalid_input',
  'budget_too_small',
  'document_too_long',
  'rate_limiter_unavailable',
  'no_text',
  'budget_exceeded',
  'internal',
] as const;
export type ClassificationFailureCode = (typeof CLASSIFICATION_FAILURE_CODES)[number];

/**
 * Job failures that another attempt cannot cure: the queue gives up on the first one instead of
 * retrying JOB_ATTEMPTS times. Anything not listed (a lost connection, a timeout, an outage) is
 * retried with backoff.
 */
export const PERMANENT_JOB_ERROR_CODES = [
  'provider_not_configured',
  'taxonomy_gone',
  'invalid_payload',
  'folder_unavailable',
  // The S3 client has already retried these with its own backoff; the next scan (or watch) tries afresh.
  'source_unreachable',
  'source_denied',
] as const satisfies readonly JobErrorCode[];

export function isPermanentJobError(code: string): boolean {
  return (PERMANENT_JOB_ERROR_CODES as readonly string[]).includes(code);
}

/** Kinds of document sources besides the documents root (DOCS_ROOT), which is always there. */
export const SOURCE_KINDS = ['s3'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/**
 * A source's name: the first segment of every folder path inside it, so a lowercase slug that is
 * safe in URLs, shells and S3-style paths: 2 to 63 characters, letters, digits and single '-'.
 */
export const SOURCE_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,62}$/;

/** Words a source may not be named: they mean something else in paths, the CLI or the dashboard. */
export const RESERVED_SOURCE_NAMES = ['local', 'default', 'root', 'docs', 'api', 'v1', 'sources', 'all', 'none', 'null', 'undefined'] as const;

/**
 * The model name (and prompt version, strategy) of a classification row that carries a reviewer's
 * correction (migration 0018): never a real model, so reuse by model never mistakes it for one.
 */
export const REVIEW_MODEL = 'review';

/** States of an evaluation run: running until its classification job ends, then its metrics. */
export const EVALUATION_STATUSES = ['running', 'completed', 'failed'] as const;
export type EvaluationStatus = (typeof EVALUATION_STATUSES)[number];

/** Why a gold label line was refused at import. */
export const LABEL_LINE_ERROR_CODES = [
  'invalid_json',
  'invalid_line',
  'path_outside_root',
  'not_found',
  'label_outside_taxonomy',
  /** A `fields` key the taxonomy does not define. */
  'unknown_field',
  /** A field value that cannot be read as the field's type (domain/fields.ts). */
  'invalid_field_value',
] as const;
export type LabelLineErrorCode = (typeof LABEL_LINE_ERROR_CODES)[number];

/** What a webhook can subscribe to (docs/webhooks.md describes each payload). */
export const WEBHOOK_EVENTS = ['job.completed', 'job.failed', 'documents.changed', 'classification.needs_review'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Where one event's delivery to one webhook is: still being tried, delivered (2xx), or given up. */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

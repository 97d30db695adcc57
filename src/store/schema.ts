/** Kysely table types. Mirrors the migrations in ./migrations (the only place that changes the schema). */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type {
  ChangeKind,
  DocumentOrigin,
  DocumentStatus,
  FieldType,
  JobKind,
  JobStatus,
  OcrStatus,
  PiiKind,
  Role,
  SourceKind,
  TextSource,
  WebhookDeliveryStatus,
  WebhookEvent,
} from '../domain/vocabulary.ts';
import type { FieldDefinition, FieldValue } from '../domain/fields.ts';
import type { PiiSummary } from '../contract.ts';

export type { DocumentStatus, JobKind, JobStatus, Role };

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface DocumentsTable {
  id: Generated<string>;
  path: string;
  folder: string;
  name: string;
  extension: string;
  size: ColumnType<string, number | string, number | string>;
  mtime: Timestamp;
  sha256: string | null;
  mime_type: string | null;
  format: string | null;
  status: Generated<DocumentStatus>;
  error_code: string | null;
  error_message: string | null;
  title: string | null;
  author: string | null;
  doc_created: Timestamp | null;
  doc_modified: Timestamp | null;
  language: string | null;
  page_count: number | null;
  word_count: number | null;
  metadata: JSONColumnType<Record<string, unknown>, string | undefined, string>;
  text: string | null;
  text_truncated: Generated<boolean>;
  extraction_count: Generated<number>;
  first_seen_at: Generated<Date>;
  last_seen_at: Generated<Date>;
  extracted_at: Timestamp | null;
  deleted_at: Timestamp | null;
  updated_at: Generated<Date>;
  classification_id: string | null;
  parent_id: string | null;
  file_id: string | null;
  embedded_at: number[] | null;
  origin: Generated<DocumentOrigin>;
  text_source: TextSource | null;
  ocr_status: OcrStatus | null;
  ocr_job_id: string | null;
  ocr_pages: number | null;
  ocr_confidence: number | null;
  ocr_languages: string[] | null;
  ocr_low_confidence: boolean | null;
  ocr_error_code: string | null;
  ocr_error_message: string | null;
  /** MinHash signature of the text (migration 0013), its 32-bit values as int4; null: too short or not extracted since. */
  minhash: number[] | null;
  /** Its 20 LSH band hashes (migration 0021), generated from `minhash` by PostgreSQL (int8, read as strings). */
  lsh: ColumnType<string[] | null, never, never>;
  /** Personal data found (migration 0012): counts and masked samples per kind; null: none or not looked for. */
  pii: ColumnType<PiiSummary | null, string | null | undefined, string | null>;
  /** The kinds in `pii`, for the `sensitive` filters (GIN-indexed). */
  pii_kinds: ColumnType<PiiKind[], PiiKind[] | undefined, PiiKind[]>;
  /** The object's ETag at its last extraction (migration 0015); null for files of the documents root. */
  etag: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Bucket sources (migration 0015); credentials only as ciphertext. */
export interface SourcesTable {
  name: string;
  kind: SourceKind;
  bucket: string;
  prefix: Generated<string>;
  endpoint: string | null;
  region: string | null;
  force_path_style: Generated<boolean>;
  access_key_id_enc: string | null;
  secret_access_key_enc: string | null;
  watch_interval_seconds: number | null;
  watched_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}

export interface OcrResultsTable {
  sha256: string;
  languages: string;
  engine: string;
  text: string;
  text_source: TextSource;
  pages: number;
  confidence: number | null;
  created_at: Generated<Date>;
}

export interface FoldersTable {
  path: string;
  parent_path: string | null;
  last_scan_job_id: string | null;
  last_scanned_at: Timestamp | null;
  first_seen_at: Generated<Date>;
}

export interface JobsTable {
  id: Generated<string>;
  kind: JobKind;
  status: Generated<JobStatus>;
  parent_id: string | null;
  folder_path: string | null;
  params: JSONColumnType<Record<string, unknown>, string | undefined, string>;
  dedupe_key: string | null;
  total: Generated<number>;
  done: Generated<number>;
  failed: Generated<number>;
  skipped: Generated<number>;
  discovery_done: Generated<boolean>;
  stats: JSONColumnType<Record<string, unknown>, string | undefined, string>;
  error_code: string | null;
  error_message: string | null;
  request_id: string | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  updated_at: Generated<Date>;
  input_tokens: Generated<number>;
  output_tokens: Generated<number>;
  cost_usd: ColumnType<number, never, number | string>;
  created_by: string | null;
  ocr_documents: Generated<number>;
  ocr_documents_done: Generated<number>;
  ocr_pages_total: Generated<number>;
  ocr_pages_done: Generated<number>;
  ocr_started_at: Timestamp | null;
}

export interface JobBatchesTable {
  job_id: string;
  batch_no: number;
  total: number;
  done: Generated<number>;
  failed: Generated<number>;
  skipped: Generated<number>;
  created_at: Generated<Date>;
  completed_at: Timestamp | null;
}

/** The batch of a classification job each document was planned in (migration 0025): once per job. */
export interface ClassifyPlannedTable {
  job_id: string;
  document_id: string;
  batch_no: number;
  skipped: Generated<boolean>;
}

export interface LlmBatchesTable {
  job_id: string;
  batch_no: number;
  provider_batch_id: string;
  input_file_id: string;
  status: string;
  document_ids: string[];
  polls: Generated<number>;
  submitted_at: CreatedAt;
  updated_at: Generated<Date>;
  ended_at: Timestamp | null;
}

export interface JobFailuresTable {
  job_id: string;
  document_id: string;
  path: string;
  code: string;
  message: string;
  created_at: Generated<Date>;
}

export interface TaxonomiesTable {
  id: Generated<string>;
  name: string;
  description: string | null;
  current_version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}

export interface TaxonomyVersionsTable {
  taxonomy_id: string;
  version: number;
  labels: JSONColumnType<{ name: string; description?: string }[], string, string>;
  /** Custom field definitions (migration 0019). */
  fields: ColumnType<FieldDefinition[], string | undefined, string>;
  created_at: CreatedAt;
}

export interface ClassificationsTable {
  id: Generated<string>;
  document_id: string;
  content_sha256: string;
  taxonomy_id: string;
  taxonomy_version: number;
  model: string;
  prompt_version: string;
  summary_language: string;
  tags: JSONColumnType<{ label: string; confidence: number; needsReview: boolean }[], string, string>;
  primary_category: string;
  summary: string;
  language: string | null;
  strategy: string;
  chunks: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: ColumnType<number, number | string | undefined, number | string>;
  needs_review: Generated<boolean>;
  /** Codes of what was normalised in the model's answers (migration 0011). */
  warnings: ColumnType<string[], string[] | undefined, string[]>;
  /** Custom field values, normalised (migration 0019); typed copies in classification_fields. */
  fields: ColumnType<Record<string, FieldValue>, string | undefined, string>;
  job_id: string | null;
  created_at: CreatedAt;
  /** Wall time of the document's requests (migration 0018); null: stored before, or a review. */
  latency_ms: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A reviewer's correction of a document's result for one content and taxonomy (migration 0018). */
export interface ClassificationReviewsTable {
  id: Generated<string>;
  document_id: string;
  path: string;
  content_sha256: string;
  taxonomy_id: string;
  taxonomy_version: number;
  tags: JSONColumnType<string[], string, string>;
  primary_category: string;
  /** The field values a reviewer set (migration 0023); null: none. */
  fields: ColumnType<Record<string, FieldValue> | null, string | null | undefined, string | null>;
  accepted: boolean;
  base_classification_id: string | null;
  classification_id: string;
  reviewed_by: string | null;
  reviewer_name: string | null;
  reviewed_at: Generated<Date>;
}

/** Imported gold labels (migration 0018). */
export interface EvaluationLabelsTable {
  taxonomy_id: string;
  path: string;
  tags: JSONColumnType<string[], string, string>;
  primary_category: string | null;
  /** Gold custom field values {name: value|null} (migration 0023); null: none given. */
  fields: ColumnType<Record<string, FieldValue> | null, string | null | undefined, string | null>;
  imported_by: string | null;
  imported_at: Generated<Date>;
}

/** An evaluation run (migration 0018); `metrics` once computed. */
export interface EvaluationsTable {
  id: Generated<string>;
  path: string;
  taxonomy_id: string;
  taxonomy_name: string;
  taxonomy_version: number;
  model: string;
  prompt_version: string;
  status: Generated<string>;
  job_id: string | null;
  documents: Generated<number>;
  gold: JSONColumnType<object, string, string>;
  metrics: JSONColumnType<object | null, string | null | undefined, string | null>;
  error_code: string | null;
  error_message: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  finished_at: Timestamp | null;
}

/** One non-null custom field value of a classification, typed (kept by a trigger, migration 0019). */
export interface ClassificationFieldsTable {
  classification_id: string;
  name: string;
  type: FieldType;
  text_value: string;
  number_value: string | null;
  date_value: Date | null;
  bool_value: boolean | null;
}

export interface ApiKeysTable {
  id: Generated<string>;
  name: string;
  prefix: string;
  key_hash: string;
  role: Role;
  scopes: ColumnType<string[], string[] | undefined, string[]>;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditEventsTable {
  id: Generated<string>;
  at: Generated<Date>;
  key_id: string | null;
  action: string;
  target: string | null;
  status: number | null;
  ip: string | null;
  request_id: string | null;
}

/** Webhook subscriptions (migration 0017); `secret` is sealed (services/secrets.ts). */
export interface WebhooksTable {
  id: Generated<string>;
  url: string;
  events: ColumnType<WebhookEvent[], WebhookEvent[], WebhookEvent[]>;
  folder_path: string | null;
  secret: string;
  enabled: Generated<boolean>;
  consecutive_failures: Generated<number>;
  disabled_at: Timestamp | null;
  disabled_reason: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}

export interface WebhookEventsTable {
  id: Generated<string>;
  type: WebhookEvent;
  folder_path: string | null;
  data: JSONColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  webhook_id: string;
  event_id: string;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  leased_until: Timestamp | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: CreatedAt;
  finished_at: Timestamp | null;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  webhook_id: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  created_at: CreatedAt;
}

/** Jobs that reached a final status, written by a trigger (migration 0017), read by the webhook deliverer. */
export interface JobEndingsTable {
  id: Generated<string>;
  job_id: string;
  status: JobStatus;
  created_at: CreatedAt;
}

/** What a scan found a document to have done (migration 0016). */
export interface DocumentChangesTable {
  id: ColumnType<string, never, never>;
  at: Generated<Date>;
  job_id: string | null;
  document_id: string;
  kind: ChangeKind;
  folder: string;
  path: string;
  old_folder: string | null;
  old_path: string | null;
  old_sha256: string | null;
  new_sha256: string | null;
}

/** A folder of the local root kept in sync by filesystem events (migration 0016). */
export interface WatchesTable {
  id: Generated<string>;
  folder: string;
  auto_classify: Generated<boolean>;
  created_by: string | null;
  created_at: CreatedAt;
  last_checked_at: Timestamp | null;
}

export interface Database {
  documents: DocumentsTable;
  folders: FoldersTable;
  jobs: JobsTable;
  job_batches: JobBatchesTable;
  job_failures: JobFailuresTable;
  llm_batches: LlmBatchesTable;
  classify_planned: ClassifyPlannedTable;
  taxonomies: TaxonomiesTable;
  taxonomy_versions: TaxonomyVersionsTable;
  classifications: ClassificationsTable;
  classification_reviews: ClassificationReviewsTable;
  evaluation_labels: EvaluationLabelsTable;
  evaluations: EvaluationsTable;
  classification_fields: ClassificationFieldsTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  ocr_results: OcrResultsTable;
  sources: SourcesTable;
  webhooks: WebhooksTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  job_endings: JobEndingsTable;
  document_changes: DocumentChangesTable;
  watches: WatchesTable;
}

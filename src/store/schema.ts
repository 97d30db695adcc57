/** Kysely table types. Mirrors the migrations in ./migrations (the only place that changes the schema). */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { DocumentOrigin, DocumentStatus, FieldType, JobKind, JobStatus, OcrStatus, PiiKind, Role, TextSource } from '../domain/vocabulary.ts';
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
  /** Personal data found (migration 0012): counts and masked samples per kind; null: none or not looked for. */
  pii: ColumnType<PiiSummary | null, string | null | undefined, string | null>;
  /** The kinds in `pii`, for the `sensitive` filters (GIN-indexed). */
  pii_kinds: ColumnType<PiiKind[], PiiKind[] | undefined, PiiKind[]>;
}

/** LSH bands of a document's MinHash signature (migration 0013): equal (band, hash) makes two documents candidates. */
export interface DocumentBandsTable {
  document_id: string;
  band: number;
  hash: ColumnType<string, string | number, string | number>;
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

export interface Database {
  documents: DocumentsTable;
  document_bands: DocumentBandsTable;
  folders: FoldersTable;
  jobs: JobsTable;
  job_batches: JobBatchesTable;
  job_failures: JobFailuresTable;
  taxonomies: TaxonomiesTable;
  taxonomy_versions: TaxonomyVersionsTable;
  classifications: ClassificationsTable;
  classification_fields: ClassificationFieldsTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  ocr_results: OcrResultsTable;
}

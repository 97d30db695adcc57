/**
 * Shapes of the docsight API (v1) as its clients read them: the CLI and the dashboard import these
 * types from here, one definition for both builds (see /openapi.json for the full contract).
 * Types and small pure helpers only: this file is bundled into the browser.
 */

import {
  type ChangeKind,
  type DocumentOrigin,
  type DocumentStatus,
  type FieldType,
  isActiveJobStatus,
  type JobKind,
  type JobStatus,
  type PiiKind,
  type OcrStatus,
  type Role,
  type SourceKind,
  type SensitiveFilter,
  type TextSource,
  type WebhookDeliveryStatus,
  type WebhookEvent,
} from './domain/vocabulary.ts';
import type { VersionHint } from './domain/versions.ts';

export type { VersionHint };

export type { ChangeKind, DocumentOrigin, DocumentStatus, JobKind, JobStatus, OcrStatus, Role, TextSource, WebhookDeliveryStatus, WebhookEvent };

export interface Progress {
  total: number;
  done: number;
  failed: number;
  skipped: number;
  percent: number;
}

/** A scan's OCR stage: documents and pages read so far, and at what pace. */
export interface OcrProgress {
  documents: number;
  documentsDone: number;
  pagesTotal: number;
  pagesDone: number;
  pagesPerSecond: number | null;
  etaSeconds: number | null;
}

export interface Job {
  id: string;
  kind: JobKind;
  status: JobStatus;
  folder: string | null;
  params: Record<string, unknown>;
  progress: Progress;
  /** Documents finished per second since the job started. */
  rate: number | null;
  /** Estimated seconds left at the current rate (null until known). */
  etaSeconds: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: { code: string; message: string } | null;
  stats: Record<string, unknown>;
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  /** null when the job has no OCR work. */
  ocr: OcrProgress | null;
  failures?: { documentId: string; path: string; code: string; message: string }[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Bucket {
  key: string | null;
  count: number;
  size: number;
}

export interface FolderInsights {
  folder: string;
  lastScannedAt: string | null;
  documentCount: number;
  totalSize: number;
  oldestModified: string | null;
  newestModified: string | null;
  byStatus: Bucket[];
  byFormat: Bucket[];
  byExtension: Bucket[];
  byAuthor: Bucket[];
  byYear: Bucket[];
  byLanguage: Bucket[];
  failuresByCode: Bucket[];
  subfolders: Bucket[];
  classification: ClassificationAggregates;
  /** Where the documents come from: files on disk, or inside them (e-mail attachments, archive entries). */
  contents: ContentsAggregates;
  /** Scanned documents and what OCR made of them. */
  ocr: OcrAggregates;
  /** Documents not modified for more than the retention period (STALE_AFTER_YEARS). */
  stale: StaleAggregates;
  /** Documents in which extraction found personal data, per kind (PII_DETECTION). */
  personalData: PersonalDataAggregates;
}

export interface PersonalDataAggregates {
  /** Documents with personal data of any kind. */
  documents: number;
  /** Distinct values found, summed over those documents. */
  findings: number;
  /** Per kind: documents holding it and its distinct values summed over them; kinds found only. */
  byKind: { kind: PiiKind; documents: number; findings: number }[];
}

/** One value of personal data as it is shown: masked, with where it was. */
export interface PiiSample {
  /** The value masked (`NL91 **** **** **** 00`, `*****1111`); never the value itself. */
  masked: string;
  /** `body`, `page N` (a document with pages), or the extracted part it was in (`headers`, `footers`, `footnotes`, `comments`, `notes`, ...). */
  part: string;
}

/** Personal data found in one document: per kind, distinct values and at most three masked samples. */
export type PiiSummary = Partial<Record<PiiKind, { count: number; samples: PiiSample[] }>>;

export interface StaleAggregates {
  afterYears: number;
  documents: number;
  bytes: number;
}

export interface DuplicatesSummary {
  groups: number;
  /** Groups whose members are all byte-identical. */
  exactGroups: number;
  /** Groups of versions and near copies (estimated similarity at or over DUPLICATE_SIMILARITY). */
  nearGroups: number;
  /** Files in any group. */
  documents: number;
  /** Per group, the sizes of every member beyond its largest one, summed. */
  wastedBytes: number;
}

/** One file of a duplicate group. */
export interface DuplicateGroupMember {
  id: string;
  path: string;
  name: string;
  size: number;
  /** The document's own modified date, else the file's: what the members are ordered by. */
  modified: string;
  sha256: string;
  /** Estimated similarity to the group's newest member (1: the same bytes). */
  similarity: number;
  /** Another member of the group has the same bytes. */
  exactCopy: boolean;
  /** Version words in the file name: `v2`, `final` (final, definitief), `draft` (concept), `copy` (kopie, copy, (1)). */
  versionHints: VersionHint[];
}

export interface DuplicateGroup {
  /** Stable for the same contents: the lowest sha256 in the group. */
  key: string;
  /** `exact`: every member holds the same bytes; `near`: versions and near copies. */
  kind: 'exact' | 'near';
  /** The lowest estimated similarity between members matched to each other (1 for exact groups). */
  similarity: number;
  size: number;
  wastedBytes: number;
  /** Oldest first, by modified date. */
  members: DuplicateGroupMember[];
}

export interface DuplicatesPage extends Page<DuplicateGroup> {
  folder: string;
  /** The similarity a near group's members pass (DUPLICATE_SIMILARITY). */
  threshold: number;
  summary: DuplicatesSummary;
}

/** A document like another one: the same bytes, or an estimated similarity at or over the threshold. */
export interface SimilarDocument {
  id: string;
  path: string;
  name: string;
  size: number;
  modified: string;
  similarity: number;
  /** The same bytes (an exact copy). */
  identical: boolean;
  versionHints: VersionHint[];
}

export interface ContentsAggregates {
  files: number;
  attachments: number;
  archiveEntries: number;
}

export interface OcrAggregates {
  /** Documents with text from OCR (text source `ocr` or `mixed`). */
  scannedDocuments: number;
  pagesRead: number;
  /** Scanned documents whose mean word confidence is under OCR_LOW_CONFIDENCE. */
  lowConfidence: number;
  pending: number;
  failed: number;
  /** Documents with pages without text that OCR did not read (OCR off, or limited to other folders). */
  skipped: number;
}

export interface ClassificationAggregates {
  /** Extracted documents with a current classification. */
  classified: number;
  /** Extracted documents (the ones that can be classified). */
  classifiable: number;
  /** classified / classifiable, 0..1. */
  coverage: number;
  /** Documents whose latest result has a tag under the review threshold (pending review). */
  needsReview: number;
  /** Documents whose current result is a reviewer's correction. */
  reviewed: number;
  byTag: Bucket[];
  byCategory: Bucket[];
  /** Estimated spend on every classification of these documents, ever (USD). */
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
}

export interface Tag {
  label: string;
  confidence: number;
  needsReview: boolean;
}

export interface DocumentItem {
  id: string;
  path: string;
  name: string;
  folder: string;
  extension: string;
  size: number;
  mtime: string;
  sha256: string | null;
  mimeType: string | null;
  format: string | null;
  status: DocumentStatus;
  error: { code: string; message: string | null } | null;
  title: string | null;
  author: string | null;
  created: string | null;
  modified: string | null;
  language: string | null;
  pageCount: number | null;
  wordCount: number | null;
  metadata: Record<string, unknown>;
  tags: Tag[] | null;
  primaryCategory: string | null;
  origin: DocumentOrigin;
  /** The e-mail or archive the document was found in (null: a file on disk). */
  parent: { id: string; path: string } | null;
  textSource: TextSource | null;
  /** null: the document needed no OCR. */
  ocr: DocumentOcr | null;
}

/** What OCR made of one document. */
export interface DocumentOcr {
  status: OcrStatus;
  pages: number | null;
  /** Mean word confidence, 0-100. */
  confidence: number | null;
  languages: string[];
  lowConfidence: boolean;
  error: { code: string; message: string | null } | null;
}

/** A document found inside another (an attachment, an archive entry). */
export interface ChildDocument {
  id: string;
  name: string;
  path: string;
  origin: DocumentOrigin;
  status: DocumentStatus;
  format: string | null;
  size: number;
}

export interface Classification {
  id: string;
  taxonomyId: string;
  taxonomyVersion: number;
  model: string;
  promptVersion: string;
  summaryLanguage: string;
  tags: Tag[];
  primaryCategory: string;
  summary: string;
  language: string | null;
  strategy: string;
  chunks: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  needsReview: boolean;
  /** What was normalised in the model's answers instead of a repair request; empty for a clean answer. */
  warnings: string[];
  /** Custom field values by name (the taxonomy version's fields); empty without fields. */
  fields: Record<string, FieldValue>;
  jobId: string | null;
  createdAt: string;
  /** Wall time of the document's requests, ms (null: not measured, or a review). */
  latencyMs: number | null;
  /** Set when this result is a reviewer's correction (model `review`). */
  review: ClassificationReview | null;
}

export interface ClassificationReview {
  /** The API key that reviewed (null: auth open). */
  keyId: string | null;
  name: string | null;
  at: string;
  /** The automatic result was accepted unchanged. */
  accepted: boolean;
}

/** PATCH /v1/documents/{id}/classification: at least one of these. */
export interface ClassificationCorrection {
  /** The full set of tags (replaces them). */
  tags?: string[];
  add?: string[];
  remove?: string[];
  primaryCategory?: string;
  /** Custom field values the reviewer sets ({name: value|null}, read as the model's answers); the others stay. */
  fields?: Record<string, string | number | boolean | null>;
  /** Accept the current result as it is (with no other field), or together with the changes. */
  accept?: boolean;
}

/** One document of a folder's review queue (GET /v1/folders/{path}/review). */
export interface ReviewQueueItem {
  id: string;
  path: string;
  name: string;
  classificationId: string;
  taxonomyId: string;
  taxonomyVersion: number;
  model: string;
  tags: Tag[];
  primaryCategory: string;
  summary: string;
  /** The result's custom field values by name (null: not found), for the reviewer to correct. */
  fields: Record<string, FieldValue>;
  classifiedAt: string;
}

export interface ReviewQueuePage {
  folder: string;
  items: ReviewQueueItem[];
  nextCursor: string | null;
}

export interface LabelImportError {
  line: number;
  code: string;
  message: string;
}

/** What POST /v1/evaluations/labels answers. */
export interface LabelImportReport {
  taxonomy: { id: string; name: string; version: number };
  imported: number;
  errors: LabelImportError[];
}

export interface EvaluationAverages {
  precision: number;
  recall: number;
  f1: number;
}

export interface EvaluationLabelMetrics extends EvaluationAverages {
  label: string;
  support: number;
  predicted: number;
  tp: number;
  fp: number;
  fn: number;
}

export interface EvaluationMetrics {
  documents: number;
  scored: number;
  unpredicted: number;
  perLabel: EvaluationLabelMetrics[];
  micro: EvaluationAverages;
  macro: EvaluationAverages;
  primaryAccuracy: number | null;
  primaryCompared: number;
  confusion: { labels: string[]; counts: number[][] };
  costUsd: { total: number; perDocument: number | null };
  latencyMs: { mean: number | null; p50: number | null; p95: number | null };
  /** Exact-match accuracy per custom field over the scored documents whose gold label gives values. */
  fields: EvaluationFieldAccuracy[];
}

export interface EvaluationFieldAccuracy {
  field: string;
  compared: number;
  correct: number;
  /** correct / compared; null when nothing was compared. */
  accuracy: number | null;
}

export interface EvaluationFieldDelta {
  field: string;
  a: EvaluationFieldAccuracy | null;
  b: EvaluationFieldAccuracy | null;
  /** b − a; null when either run did not score the field. */
  accuracy: number | null;
}

export interface Evaluation {
  id: string;
  path: string;
  taxonomy: { id: string; name: string; version: number };
  model: string;
  promptVersion: string;
  status: 'running' | 'completed' | 'failed';
  /** The classification job of the documents that had no result to reuse (null: all reused). */
  jobId: string | null;
  /** Labelled documents in the run. */
  documents: number;
  /** Where the gold labels came from: imported, or reviewer corrections. */
  goldSources: { imported: number; reviews: number };
  metrics: EvaluationMetrics | null;
  error: { code: string; message: string } | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface EvaluationLabelDelta {
  label: string;
  a: EvaluationLabelMetrics | null;
  b: EvaluationLabelMetrics | null;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvaluationComparison {
  a: Evaluation;
  b: Evaluation;
  /** b − a. */
  delta: {
    perLabel: EvaluationLabelDelta[];
    fields: EvaluationFieldDelta[];
    micro: EvaluationAverages;
    macro: EvaluationAverages;
    primaryAccuracy: number | null;
    costPerDocumentUsd: number | null;
    latencyMeanMs: number | null;
  };
}

export interface DocumentDetail extends DocumentItem {
  textLength: number;
  textPreview: string | null;
  textTruncated: boolean;
  extractionCount: number;
  firstSeenAt: string;
  lastSeenAt: string;
  extractedAt: string | null;
  deletedAt: string | null;
  classification: Classification | null;
  classificationHistory: Classification[];
  /** Documents found directly inside this one, in their order there. */
  children: ChildDocument[];
  /** Personal data extraction found in it, masked (null: none found, or detection off). */
  personalData: PiiSummary | null;
  /** Other documents with the same bytes the caller may see (classified once: they share the result). */
  sameContent: { total: number; items: { id: string; path: string }[] };
}

export interface TaxonomyLabel {
  name: string;
  description?: string;
}

/** A custom field a taxonomy asks the model to extract (docs/api.md, "Custom fields"). */
export interface TaxonomyField {
  name: string;
  type: FieldType;
  description?: string;
  /** The allowed values of an enum field. */
  values?: string[];
}

/** A custom field's value: text (string, enum), number, yyyy-mm-dd (date), boolean; null: not found. */
export type FieldValue = string | number | boolean | null;

export interface Taxonomy {
  id: string;
  name: string;
  description: string | null;
  version: number;
  currentVersion: number;
  labels: TaxonomyLabel[];
  fields: TaxonomyField[];
  createdAt: string;
  updatedAt: string;
}

export interface ClassificationEstimate {
  dryRun: true;
  documents: number;
  estimatedInputTokens: number;
  estimatedOutputTokens: number;
  estimatedCostUsd: number;
  model: string;
  taxonomy: { id: string; name: string; version: number };
  /** The folder was never scanned: documents found by the scan are not in this estimate. */
  folderNotScanned: boolean;
  /** How the requests would go: `batch` (the Batch API, priced at its factor) or `direct`. */
  mode: 'direct' | 'batch';
}

/** GET /v1/me: the caller's role and folder scopes (none: every folder). */
export interface Me {
  keyId: string | null;
  role: Role;
  scopes: string[];
  authRequired: boolean;
}

/** GET /v1/sources: a bucket source, never with its credentials. */
export interface Source {
  name: string;
  kind: SourceKind;
  bucket: string;
  /** Key prefix ('' or ending in '/'). */
  prefix: string;
  endpoint: string | null;
  region: string | null;
  forcePathStyle: boolean;
  /** `stored`: encrypted credentials of its own; `environment`: the process's (AWS default chain). */
  credentials: 'stored' | 'environment';
  watchIntervalSeconds: number | null;
  watchedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Health {
  status: 'ok';
  version: string;
  mode: { database: 'embedded' | 'external'; queue: 'postgres' | 'bullmq' };
  auth: 'required' | 'open';
}

/** Has the job ended (completed, failed or cancelled)? Every status that is not active is final. */
/** A webhook subscription (its signing secret is only in the answer that created it). */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  /** Only events about this folder or inside it; null: every folder. */
  folder: string | null;
  enabled: boolean;
  /** Events given up in a row; WEBHOOK_DISABLE_AFTER of them disable the webhook. */
  consecutiveFailures: number;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The answer to creating a webhook: the only time its signing secret is shown. */
export interface CreatedWebhook extends Webhook {
  secret: string;
}

/** One attempt to deliver one event to a webhook. */
export interface WebhookAttempt {
  id: string;
  eventId: string;
  event: WebhookEvent;
  attempt: number;
  /** The receiver's HTTP status; null: no answer (refused, unreachable, cut off). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: string;
  /** Where the event's delivery stands now. */
  deliveryStatus: WebhookDeliveryStatus;
}

/** One thing a scan found a document to have done (GET /v1/folders/{path}/changes). */
export interface Change {
  id: string;
  at: string;
  kind: ChangeKind;
  documentId: string;
  /** Where the document is (null: outside what the caller may see). */
  path: string | null;
  /** Where it was, for a move (null otherwise, or outside what the caller may see). */
  oldPath: string | null;
  oldSha256: string | null;
  newSha256: string | null;
  /** The scan that found it. */
  jobId: string | null;
}

export interface ChangesPage extends Page<Change> {
  folder: string;
}

/** A folder's changes on one UTC day (GET /v1/folders/{path}/changes-by-day). */
export interface ChangeDay {
  day: string;
  added: number;
  changed: number;
  moved: number;
  deleted: number;
}

export interface ChangeDays {
  folder: string;
  since: string;
  days: ChangeDay[];
}

/** A folder of the local root kept in sync by filesystem events. */
export interface Watch {
  id: string;
  folder: string;
  /** New and changed documents are classified after each scan the watch starts. */
  autoClassify: boolean;
  createdAt: string;
  /** When the watch last scanned its folder in full (null: not yet). */
  lastCheckedAt: string | null;
}

export const isFinal = (s: JobStatus): boolean => !isActiveJobStatus(s);

/** A facet's count: documents among the matches with this key (null: the field is empty). */
export interface FacetBucket {
  key: string | null;
  count: number;
}

/** GET /v1/search: one page of hits with the facets of every match. */
export interface SearchResult {
  interpreted: string | null;
  total: number;
  totalExact: boolean;
  approximate: boolean;
  rankedWithin: number | null;
  unindexed: number;
  items: {
    id: string;
    path: string;
    name: string;
    title: string | null;
    author: string | null;
    type: string | null;
    language: string | null;
    status: DocumentStatus;
    modified: string;
    tags: { label: string; confidence: number; needsReview: boolean }[] | null;
    primaryCategory: string | null;
    score: number;
    snippet: { text: string; match: boolean }[];
  }[];
  facets: {
    tag: FacetBucket[];
    type: FacetBucket[];
    author: FacetBucket[];
    year: FacetBucket[];
    /** Matches with personal data per kind, and under `any` of any kind (total minus `any`: none found). */
    sensitive: { key: SensitiveFilter; count: number }[];
    /** Counts by value of each enum and boolean custom field, by field name. */
    fields: Record<string, FacetBucket[]>;
  };
  nextCursor: string | null;
}

/** Response and shared request schemas (zod): the single source of validation and OpenAPI. */
import { z } from 'zod';
import { DOCUMENT_ORIGINS, DOCUMENT_STATUSES, JOB_KINDS, JOB_STATUSES, OCR_STATUSES, PII_KINDS, TEXT_SOURCES } from '../domain/vocabulary.ts';
import type { InsightsService } from '../services/insights.service.ts';
import { isFieldFilterKey } from '../services/field-filters.ts';

/** What the insights service answers with, as the mappers below read it. */
type ListedDocument = Awaited<ReturnType<InsightsService['listDocuments']>>['items'][number];
type FoundDocument = Awaited<ReturnType<InsightsService['getDocument']>>;
type StoredDocument = FoundDocument['doc'];
type StoredClassification = FoundDocument['history'][number];
type StoredChild = FoundDocument['children'][number];

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .meta({ id: 'Error' });

export const JobSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(JOB_KINDS),
    status: z.enum(JOB_STATUSES),
    folder: z.string().nullable(),
    params: z.record(z.string(), z.unknown()),
    progress: z.object({
      total: z.number().int(),
      done: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
      percent: z.number(),
    }),
    rate: z.number().nullable().describe('Documents finished per second since the job started'),
    etaSeconds: z.number().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    stats: z.record(z.string(), z.unknown()),
    usage: z
      .object({ inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number() })
      .describe('LLM tokens and estimated cost (classification jobs)'),
    ocr: z
      .object({
        documents: z.number().int(),
        documentsDone: z.number().int(),
        pagesTotal: z.number().int(),
        pagesDone: z.number().int(),
        pagesPerSecond: z.number().nullable(),
        etaSeconds: z.number().nullable(),
      })
      .nullable()
      .describe('OCR of scanned pages and images, after extraction (null: the job has none)'),
    failures: z
      .array(z.object({ documentId: z.string(), path: z.string(), code: z.string(), message: z.string() }))
      .optional(),
  })
  .meta({ id: 'Job' });

export const BucketSchema = z.object({ key: z.string().nullable(), count: z.number().int(), size: z.number() });

export const DuplicatesSummarySchema = z
  .object({
    groups: z.number().int(),
    exactGroups: z.number().int().describe('Groups whose members are all byte-identical'),
    nearGroups: z.number().int().describe('Groups of versions and near copies (estimated similarity at or over DUPLICATE_SIMILARITY)'),
    documents: z.number().int(),
    wastedBytes: z.number().describe('Per group, the sizes of every member beyond its largest one, summed'),
  })
  .meta({ id: 'DuplicatesSummary' });

export const InsightsSchema = z
  .object({
    folder: z.string(),
    lastScannedAt: z.string().nullable(),
    documentCount: z.number().int().describe('Documents in the folder and all its subfolders'),
    totalSize: z.number(),
    oldestModified: z.string().nullable(),
    newestModified: z.string().nullable(),
    byStatus: z.array(BucketSchema),
    byFormat: z.array(BucketSchema),
    byExtension: z.array(BucketSchema),
    byAuthor: z.array(BucketSchema),
    byYear: z.array(BucketSchema),
    byLanguage: z.array(BucketSchema),
    failuresByCode: z.array(BucketSchema),
    subfolders: z.array(BucketSchema),
    classification: z.object({
      classified: z.number().int(),
      classifiable: z.number().int(),
      coverage: z.number(),
      needsReview: z.number().int().describe('Documents whose current result has a tag under REVIEW_CONFIDENCE_THRESHOLD: the review queue'),
      reviewed: z.number().int().describe("Documents whose current result is a reviewer's correction"),
      byTag: z.array(BucketSchema),
      byCategory: z.array(BucketSchema),
      costUsd: z.number(),
      inputTokens: z.number(),
      outputTokens: z.number(),
    }),
    contents: z
      .object({ files: z.number().int(), attachments: z.number().int(), archiveEntries: z.number().int() })
      .describe('Files on disk, and documents inside them (e-mail attachments, archive entries)'),
    ocr: z
      .object({
        scannedDocuments: z.number().int(),
        pagesRead: z.number().int(),
        lowConfidence: z.number().int(),
        pending: z.number().int(),
        failed: z.number().int(),
        skipped: z.number().int(),
      })
      .describe('Documents read by OCR, pages read, low-confidence text, and OCR still pending, failed or skipped'),
    stale: z
      .object({ afterYears: z.number().int(), documents: z.number().int(), bytes: z.number() })
      .describe('Documents not modified (their own modified date, else the file\'s) for more than `afterYears` years (STALE_AFTER_YEARS), and their bytes'),
    personalData: z
      .object({
        documents: z.number().int(),
        findings: z.number().int(),
        byKind: z.array(z.object({ kind: z.enum(PII_KINDS), documents: z.number().int(), findings: z.number().int() })),
      })
      .describe('Documents in which extraction found personal data (PII_DETECTION), and the distinct values found in them; per kind, most documents first'),
  })
  .meta({ id: 'FolderInsights' });

const PiiSampleSchema = z.object({ masked: z.string(), part: z.string().describe('`body`, `page N`, or the extracted part it was in: `headers`, `footers`, `footnotes`, `comments`, `notes`, ...') });

export const PiiSummarySchema = z
  .partialRecord(z.enum(PII_KINDS), z.object({ count: z.number().int(), samples: z.array(PiiSampleSchema) }))
  .meta({ id: 'PersonalData' });

/** A result's custom field values by name (text, number, yyyy-mm-dd or boolean; null: not found), as stored. */
export const FieldValuesSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

export const ClassificationSchema = z
  .object({
    id: z.uuid(),
    taxonomyId: z.uuid(),
    taxonomyVersion: z.number().int(),
    model: z.string(),
    promptVersion: z.string(),
    summaryLanguage: z.string(),
    tags: z.array(z.object({ label: z.string(), confidence: z.number(), needsReview: z.boolean() })),
    primaryCategory: z.string(),
    summary: z.string(),
    language: z.string().nullable(),
    strategy: z.string(),
    chunks: z.number().int(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    costUsd: z.number(),
    needsReview: z.boolean(),
    warnings: z
      .array(z.string())
      .describe(
        "What was set right in the model's answers instead of a repair request: label_spelling_corrected, confidence_rescaled, confidence_clamped, duplicate_labels_merged, primary_category_added_to_tags, summary_language_dropped, field_value_converted, field_value_dropped; empty for a clean answer",
      ),
    fields: FieldValuesSchema.describe("Custom field values by name, as the taxonomy version defines them: text, number, yyyy-mm-dd or boolean; null when not found or unusable"),
    jobId: z.string().nullable(),
    createdAt: z.string(),
    latencyMs: z.number().int().nullable().describe("Wall time of the document's requests, ms (null: not measured, or a review)"),
    review: z
      .object({ keyId: z.string().nullable(), name: z.string().nullable(), at: z.string(), accepted: z.boolean() })
      .nullable()
      .describe("Set when this result is a reviewer's correction (model `review`): who (API key id and name; null when auth is open) and when; `accepted`: the automatic result was accepted unchanged"),
  })
  .meta({ id: 'Classification' });

const documentFields = {
  id: z.uuid(),
  path: z.string(),
  name: z.string(),
  folder: z.string(),
  extension: z.string(),
  size: z.number(),
  mtime: z.string(),
  sha256: z.string().nullable(),
  mimeType: z.string().nullable(),
  format: z.string().nullable(),
  status: z.enum(DOCUMENT_STATUSES),
  error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
  title: z.string().nullable(),
  author: z.string().nullable(),
  created: z.string().nullable(),
  modified: z.string().nullable(),
  language: z.string().nullable(),
  pageCount: z.number().nullable(),
  wordCount: z.number().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  tags: z
    .array(z.object({ label: z.string(), confidence: z.number(), needsReview: z.boolean() }))
    .nullable()
    .describe('Tags of the latest classification (null: not classified)'),
  primaryCategory: z.string().nullable(),
  origin: z
    .enum(DOCUMENT_ORIGINS)
    .describe('Where the document is: a file on disk, an e-mail attachment, or an entry of an archive'),
  parent: z
    .object({ id: z.uuid(), path: z.string() })
    .nullable()
    .describe('The e-mail or archive the document was found in (null: a file on disk). A path inside one is `<parent path>#<n>/<name>`'),
  textSource: z
    .enum(TEXT_SOURCES)
    .nullable()
    .describe('Where the text came from: the text layer, OCR of scanned pages or images, or both (mixed); null: no text yet'),
  ocr: z
    .object({
      status: z.enum(OCR_STATUSES).describe('pending: waiting for the OCR stage; skipped: OCR is off or limited to other folders'),
      pages: z.number().int().nullable().describe('Pages read by OCR'),
      confidence: z.number().nullable().describe('Mean word confidence of the OCR text, 0-100'),
      languages: z.array(z.string()).describe('Tesseract languages used, e.g. ["eng", "nld"]'),
      lowConfidence: z.boolean().describe('Mean confidence under OCR_LOW_CONFIDENCE: the text may be unreliable'),
      error: z
        .object({ code: z.string(), message: z.string().nullable() })
        .nullable()
        .describe('Why OCR failed or was skipped (codes: OCR failure codes)'),
    })
    .meta({ id: 'DocumentOcr' })
    .nullable()
    .describe('What OCR made of the document (null: every page had a text layer, or there is nothing OCR can read)'),
};

export const ChildDocumentSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    path: z.string(),
    origin: z.enum(DOCUMENT_ORIGINS),
    status: z.enum(DOCUMENT_STATUSES),
    format: z.string().nullable(),
    size: z.number(),
  })
  .meta({ id: 'ChildDocument' });

export const DocumentItemSchema = z.object(documentFields).meta({ id: 'DocumentSummary' });

export const DocumentDetailSchema = z
  .object({
    ...documentFields,
    textLength: z.number().int(),
    textPreview: z.string().nullable(),
    textTruncated: z.boolean(),
    extractionCount: z.number().int(),
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
    extractedAt: z.string().nullable(),
    deletedAt: z.string().nullable(),
    classification: ClassificationSchema.nullable().describe('The latest classification'),
    classificationHistory: z.array(ClassificationSchema).describe('Every classification, newest first (up to 20)'),
    children: z
      .array(ChildDocumentSchema)
      .describe('Documents found directly inside this one (e-mail attachments, archive entries), in their order there'),
    personalData: PiiSummarySchema.nullable().describe(
      'Personal data found in it, per kind: distinct values and at most three masked samples with their part or page (never a clear value); null: none found, or detection off',
    ),
    sameContent: z
      .object({
        total: z.number().int().describe('Other documents with the same bytes that the caller may see (counted among at most 1,000)'),
        items: z.array(z.object({ id: z.uuid(), path: z.string() })).describe('The first 20 by path'),
      })
      .describe('Exact copies: a classification is made once per content and shared by its copies'),
  })
  .meta({ id: 'Document' });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function documentItem(
  d: ListedDocument | StoredDocument,
  latest: { tags: ListedDocument['tags']; primaryCategory: string | null } = 'tags' in d ? d : { tags: null, primaryCategory: null },
): z.infer<typeof DocumentItemSchema> {
  return {
    id: d.id,
    path: d.path,
    name: d.name,
    folder: d.folder,
    extension: d.extension,
    size: d.size,
    mtime: d.mtime.toISOString(),
    sha256: d.sha256,
    mimeType: d.mimeType,
    format: d.format,
    status: d.status,
    error: d.errorCode ? { code: d.errorCode, message: d.errorMessage } : null,
    title: d.title,
    author: d.author,
    created: iso(d.docCreated),
    modified: iso(d.docModified),
    language: d.language,
    pageCount: d.pageCount,
    wordCount: d.wordCount,
    metadata: d.metadata,
    tags: latest.tags,
    primaryCategory: latest.primaryCategory,
    origin: d.origin,
    parent: d.parent,
    textSource: d.textSource,
    ocr: d.ocr,
  };
}

export function classificationView(c: StoredClassification): z.infer<typeof ClassificationSchema> {
  return { ...c, createdAt: c.createdAt.toISOString(), review: c.review ? { ...c.review, at: c.review.at.toISOString() } : null };
}

export function documentDetail(
  d: StoredDocument,
  history: StoredClassification[],
  children: StoredChild[],
  sameContent: z.infer<typeof DocumentDetailSchema>['sameContent'],
): z.infer<typeof DocumentDetailSchema> {
  const latest = history.find((c) => c.id === d.classificationId) ?? null;
  return {
    ...documentItem(d, latest ?? { tags: null, primaryCategory: null }),
    textLength: d.textLength,
    textPreview: d.textPreview,
    textTruncated: d.textTruncated,
    extractionCount: d.extractionCount,
    firstSeenAt: d.firstSeenAt.toISOString(),
    lastSeenAt: d.lastSeenAt.toISOString(),
    extractedAt: iso(d.extractedAt),
    deletedAt: iso(d.deletedAt),
    classification: latest ? classificationView(latest) : null,
    classificationHistory: history.map(classificationView),
    children,
    personalData: d.personalData,
    sameContent,
  };
}

/** The `{path}` parameter: a folder relative to the documents root; '.' is the root. */
export const FolderPathParam = z
  .string()
  .max(4096)
  .describe('Folder relative to the documents root ("." for the root). URL-encode it; "/" may be written as-is or as %2F.');

/**
 * Wildcard routes take folder paths with literal slashes and an action at the end:
 * "Company A/Project 1/insights" → folder "Company A/Project 1", action "insights".
 */
export function splitAction(raw: string): { folder: string; action: string } {
  const cut = raw.lastIndexOf('/');
  return cut < 0 ? { folder: '', action: raw } : { folder: raw.slice(0, cut), action: raw.slice(cut + 1) };
}

/**
 * A query schema that also lets `field.<name>[.<op>]` keys through (custom field filters, read by
 * services/field-filters.ts), and refuses any other unknown key as a strict object does.
 */
export function withFieldFilters<T extends z.ZodRawShape>(shape: T) {
  return z
    .object(shape)
    .catchall(z.string().max(500))
    .superRefine((q, ctx) => {
      for (const key of Object.keys(q)) {
        if (!Object.hasOwn(shape, key) && !isFieldFilterKey(key)) ctx.addIssue({ code: 'custom', message: `Unrecognized key: "${key}"`, path: [key] });
      }
    })
    .describe('Custom field filters: `field.<name>=value`, and for number and date fields `field.<name>.gte|gt|lte|lt=value` (docs/api.md, "Custom fields")');
}

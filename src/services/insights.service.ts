/** Folder insights and document listings: read models over what the pipeline stored. */
import { z } from 'zod';
import { type FieldFilterInput, resolveFieldFilters } from './field-filters.ts';
import { assertFolderVisible, canSee, type Principal } from '../domain/access.ts';
import { notFound } from '../domain/errors.ts';
import { normalizeRelativePath } from '../domain/paths.ts';
import type { ClassificationsRepository, ClassificationView } from '../store/classifications.repository.ts';
import type { ChildDocument, DocumentsRepository, DocumentDetail } from '../store/documents.repository.ts';
import type { FoldersRepository } from '../store/folders.repository.ts';
import type { DocumentListItem, DocumentSort, FolderAggregates, FolderSummary, InsightsRepository } from '../store/insights.repository.ts';
import type { ContentsAggregates, OcrAggregates, PersonalDataAggregates, StaleAggregates } from '../contract.ts';
import { staleCutoff } from '../domain/retention.ts';
import type { DocumentOriginFilter, FieldType, OcrFilter, SensitiveFilter, TextSource } from '../domain/vocabulary.ts';
import type { DocumentStatus } from '../store/schema.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { FolderResolver } from './source-registry.ts';
import type { ReviewsRepository } from '../store/reviews.repository.ts';

export interface FolderInsights extends FolderAggregates {
  folder: string;
  /** When this folder was last walked to the end (null: never scanned). */
  lastScannedAt: string | null;
  contents: ContentsAggregates;
  ocr: OcrAggregates;
  stale: StaleAggregates;
  personalData: PersonalDataAggregates;
}

export interface ListDocumentsInput {
  path: string;
  sort: DocumentSort;
  order: 'asc' | 'desc';
  limit: number;
  cursor?: string;
  status?: DocumentStatus;
  format?: string;
  extension?: string;
  author?: string;
  tag?: string;
  modifiedFrom?: Date;
  modifiedTo?: Date;
  origin?: DocumentOriginFilter;
  ocr?: OcrFilter;
  textSource?: TextSource;
  /** Only documents older than STALE_AFTER_YEARS (true) or not (false). */
  stale?: boolean;
  sensitive?: SensitiveFilter;
  /** `field.<name>[.<op>]=value` filters (services/field-filters.ts), all of which must hold. */
  fields?: FieldFilterInput[];
}

const ListCursor = z.tuple([z.union([z.string(), z.number(), z.null()]), z.uuid()]);

export interface InsightsServiceDeps {
  insights: InsightsRepository;
  folders: FoldersRepository;
  documents: DocumentsRepository;
  classifications: ClassificationsRepository;
  /** Resolves a folder path: a bucket source's, or the documents root's (on disk). */
  sources: FolderResolver;
  /** Documents whose current result is a reviewer's (absent: insights report none). */
  reviews?: Pick<ReviewsRepository, 'reviewedCount'>;
  /** STALE_AFTER_YEARS. */
  staleAfterYears: number;
  /** The types a custom field has in the taxonomies (for `field.` filters); absent: no field is known. */
  fieldTypes?: (name: string) => Promise<FieldType[]>;
  /** Duplicate groups of a folder the caller may read (absent: insights report none). */
  /** The clock stale cutoffs are taken from (tests set it). */
  now?: () => Date;
}

/**
 * Under load the same folder is asked for many times a second. Requests that arrive while a
 * computation for the same folder is running share it (folder aggregates read the folder's
 * summary rows, migrations 0007 and 0008, still a query per wave however many dashboards poll);
 * nothing stale is served (a request arriving after a computation finished starts a new one).
 */
function sharedInFlight<T>() {
  const running = new Map<string, Promise<T>>();
  return (key: string, compute: () => Promise<T>): Promise<T> => {
    const hit = running.get(key);
    if (hit) return hit;
    const value = compute().finally(() => running.delete(key));
    running.set(key, value);
    return value;
  };
}

/** Copies of a document's content read, and listed, on its page. */
const SAME_CONTENT_READ = 1000;
const SAME_CONTENT_LISTED = 20;

/** Other documents with the same bytes that the caller may see: a count (of at most 1,000 read) and the first by path. */
export interface SameContent {
  total: number;
  items: { id: string; path: string }[];
}

export function createInsightsService(deps: InsightsServiceDeps) {
  const summaries = sharedInFlight<FolderSummary>();
  const cutoff = () => staleCutoff(deps.now?.() ?? new Date(), deps.staleAfterYears);
  const reviewedIn = async (rel: string): Promise<number> => (deps.reviews ? deps.reviews.reviewedCount(rel) : 0);
  const stale = async (rel: string): Promise<StaleAggregates> => ({
    afterYears: deps.staleAfterYears,
    ...(await deps.insights.staleDocuments(rel, cutoff())),
  });
  /**
   * A folder is known when a scan recorded it, or when it exists on disk (not scanned yet: its
   * insights are empty). Anything else is 404; escaping paths are refused first.
   */
  async function knownFolder(input: string, access: Principal): Promise<{ rel: string; lastScannedAt: Date | null }> {
    const rel = normalizeRelativePath(input);
    assertFolderVisible(access, rel);
    const row = await deps.folders.find(rel);
    if (row) return { rel, lastScannedAt: row.lastScannedAt };
    const onDisk = await deps.sources.resolveFolder(rel);
    return { rel: onDisk.rel, lastScannedAt: null };
  }

  /** A page of the documents inside `rel` (a known folder's), filtered and sorted as asked. */
  async function listIn(rel: string, q: Omit<ListDocumentsInput, 'path'>): Promise<{ items: DocumentListItem[]; nextCursor: string | null }> {
    const after = q.cursor ? decodeCursor(q.cursor, ListCursor) : undefined;
    const fields = q.fields?.length ? await resolveFieldFilters(q.fields, deps.fieldTypes ?? (async () => [])) : undefined;
    const page = await deps.insights.listDocuments({
      folder: rel,
      sort: q.sort,
      order: q.order,
      limit: q.limit,
      after: after ? { value: after[0], id: after[1] } : undefined,
      status: q.status,
      format: q.format,
      extension: q.extension,
      author: q.author,
      tag: q.tag,
      modifiedFrom: q.modifiedFrom,
      modifiedTo: q.modifiedTo,
      origin: q.origin,
      ocr: q.ocr,
      textSource: q.textSource,
      stale: q.stale === undefined ? undefined : { cutoff: cutoff(), is: q.stale },
      sensitive: q.sensitive,
      fields,
    });
    return { items: page.items, nextCursor: page.last ? encodeCursor([page.last.value, page.last.id]) : null };
  }

  return {
    knownFolder,

    /** As knownFolder, but the folder row comes with the aggregates (one query when scanned). */
    async folderInsights(path: string, access: Principal): Promise<FolderInsights> {
      const rel = normalizeRelativePath(path);
      assertFolderVisible(access, rel);
      const summary = await summaries(rel, () => deps.insights.folderSummary(rel));
      if (summary.recorded) {
        const [extra, staleOf, personalData, reviewed] = await Promise.all([
          deps.insights.contentsAndOcr(rel, summary.aggregates.documentCount),
          stale(rel),
          deps.insights.personalData(rel),
          reviewedIn(rel),
        ]);
        const aggregates = { ...summary.aggregates, classification: { ...summary.aggregates.classification, reviewed } };
        return { folder: rel, lastScannedAt: summary.recorded.lastScannedAt?.toISOString() ?? null, ...aggregates, ...extra, stale: staleOf, personalData };
      }
      const onDisk = await deps.sources.resolveFolder(rel);
      const agg: FolderAggregates = onDisk.rel === rel ? summary.aggregates : await deps.insights.folderAggregates(onDisk.rel);
      const [extra, staleOf, personalData, reviewed] = await Promise.all([
        deps.insights.contentsAndOcr(onDisk.rel, agg.documentCount),
        stale(onDisk.rel),
        deps.insights.personalData(onDisk.rel),
        reviewedIn(onDisk.rel),
      ]);
      return { folder: onDisk.rel, lastScannedAt: null, ...agg, classification: { ...agg.classification, reviewed }, ...extra, stale: staleOf, personalData };
    },

    /**
     * Documents inside a known folder (as knownFolder), and whether a scan walked it. The folder's
     * row comes with the count (one statement when a scan recorded the folder).
     */
    async countDocuments(path: string, access: Principal): Promise<{ folder: string; count: number; scanned: boolean }> {
      const rel = normalizeRelativePath(path);
      assertFolderVisible(access, rel);
      const { count, recorded } = await deps.insights.countWithFolder(rel);
      if (recorded) return { folder: rel, count, scanned: recorded.lastScannedAt !== null };
      const onDisk = await deps.sources.resolveFolder(rel);
      return { folder: onDisk.rel, count: onDisk.rel === rel ? count : await deps.insights.countDocuments(onDisk.rel), scanned: false };
    },

    /**
     * The original design's get_folder_files_metadata: the `limit` most recently modified
     * documents of a known folder, or none when no scan walked it (scanned: false, nothing listed).
     */
    async newestDocuments(path: string, limit: number, access: Principal): Promise<{ folder: string; scanned: boolean; items: DocumentListItem[] }> {
      const folder = await knownFolder(path, access);
      if (folder.lastScannedAt === null) return { folder: folder.rel, scanned: false, items: [] };
      const page = await listIn(folder.rel, { sort: 'mtime', order: 'desc', limit });
      return { folder: folder.rel, scanned: true, items: page.items };
    },

    /** A page of documents of a known folder (as knownFolder); scanned: a scan walked it. */
    async listDocuments(
      q: ListDocumentsInput,
      access: Principal,
    ): Promise<{ folder: string; scanned: boolean; items: DocumentListItem[]; nextCursor: string | null }> {
      const folder = await knownFolder(q.path, access);
      return { folder: folder.rel, scanned: folder.lastScannedAt !== null, ...(await listIn(folder.rel, q)) };
    },

    /**
     * One document with its classifications and the documents found inside it. A document inside
     * a file is visible exactly when that file is (its path starts with the file's, but a scope
     * could be a real folder named like '<file>#1').
     */
    async getDocument(id: string, access: Principal): Promise<{ doc: DocumentDetail; history: ClassificationView[]; children: ChildDocument[]; sameContent: SameContent }> {
      const doc = await deps.documents.findById(id);
      if (!doc || !canSee(access, doc.filePath)) throw notFound(`Document not found: ${id}`);
      const [history, children, copies] = await Promise.all([
        deps.classifications.forDocument(id),
        deps.documents.children(id),
        deps.documents.sameContent(id, SAME_CONTENT_READ),
      ]);
      // Copies the caller may not see are neither listed nor counted.
      const visible = copies.filter((c) => canSee(access, c.filePath));
      const sameContent = { total: visible.length, items: visible.slice(0, SAME_CONTENT_LISTED).map((c) => ({ id: c.id, path: c.path })) };
      return { doc, history, children, sameContent };
    },
  };
}

export type InsightsService = ReturnType<typeof createInsightsService>;

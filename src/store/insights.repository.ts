/**
 * Read models over documents inside a folder (recursive). "Inside" is always the byte range of
 * domain/paths.ts on the "C"-collated path index, never LIKE.
 */
import { type SelectQueryBuilder, sql } from 'kysely';
import type { Bucket, ClassificationAggregates, ContentsAggregates, OcrAggregates, PersonalDataAggregates } from '../contract.ts';
import { descendantRange } from '../domain/paths.ts';
import type { Db } from './database.ts';
import { type FieldFilter, fieldFiltersSql } from './field-filters.ts';
import { DOCUMENT_COLUMNS, type DocumentFields, toDocumentFields } from './documents.repository.ts';
import type { DocumentOriginFilter, OcrFilter, PiiKind, SensitiveFilter, TextSource } from '../domain/vocabulary.ts';
import type { Database, DocumentStatus } from './schema.ts';

export interface FolderAggregates {
  documentCount: number;
  totalSize: number;
  oldestModified: Date | null;
  newestModified: Date | null;
  byStatus: Bucket[];
  byFormat: Bucket[];
  byExtension: Bucket[];
  byAuthor: Bucket[];
  byYear: Bucket[];
  byLanguage: Bucket[];
  failuresByCode: Bucket[];
  subfolders: Bucket[];
  classification: ClassificationAggregates;
}

/** A folder's aggregates and its folder row, read together. */
export interface FolderSummary {
  /** The folder's row, when a scan recorded it (lastScannedAt null: not walked to the end yet). */
  recorded: { lastScannedAt: Date | null } | null;
  aggregates: FolderAggregates;
}

export type DocumentSort = 'path' | 'name' | 'size' | 'mtime' | 'modified' | 'title';

export interface DocumentListQuery {
  folder: string;
  sort: DocumentSort;
  order: 'asc' | 'desc';
  limit: number;
  /** Keyset position: the sort value and id of the last row of the previous page. */
  after?: { value: string | number | null; id: string };
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
  /** Only documents last modified before `cutoff` (is: true) or not (is: false). */
  stale?: { cutoff: Date; is: boolean };
  /** Only documents with personal data of this kind (`any`: of any kind). */
  sensitive?: SensitiveFilter;
  /** Custom field filters on the latest classification, all of which must hold. */
  fields?: FieldFilter[];
}

export interface DocumentListItem extends DocumentFields {
  /** From the latest classification, when there is one. */
  tags: { label: string; confidence: number; needsReview: boolean }[] | null;
  primaryCategory: string | null;
}

/** Sort expressions never null, so keyset comparisons stay total. */
const SORT_SQL: Record<DocumentSort, string> = {
  path: 'path',
  name: 'name',
  size: 'size',
  mtime: 'mtime',
  modified: 'coalesce(doc_modified, mtime)',
  title: "coalesce(title, '')",
};

type DocsQuery = SelectQueryBuilder<Database, 'documents', object>;

function inFolder<Q extends DocsQuery>(q: Q, folder: string): Q {
  const range = descendantRange(folder);
  let out = q.where('deleted_at', 'is', null) as Q;
  if (range) out = out.where('path', '>=', range.lower).where('path', '<', range.upper) as Q;
  return out;
}

/** The empty aggregates of a folder with no documents. */
function emptyAggregates(): FolderAggregates {
  return {
    documentCount: 0,
    totalSize: 0,
    oldestModified: null,
    newestModified: null,
    byStatus: [],
    byFormat: [],
    byExtension: [],
    byAuthor: [],
    byYear: [],
    byLanguage: [],
    failuresByCode: [],
    subfolders: [],
    classification: { classified: 0, classifiable: 0, coverage: 0, needsReview: 0, reviewed: 0, byTag: [], byCategory: [], costUsd: 0, inputTokens: 0, outputTokens: 0 },
  };
}

interface SummaryRow {
  dim: string;
  key: string | null;
  n: string;
  size: string;
  cost: string;
  i: string;
  o: string;
  oldest: Date | null;
  newest: Date | null;
}

/** Summary rows (dimension, value, sums) → the aggregates the API returns, in its orders. */
function toAggregates(folder: string, rows: SummaryRow[]): FolderAggregates {
  const out = emptyAggregates();
  const c = out.classification;
  const bucket = (r: SummaryRow): Bucket => ({ key: r.key, count: Number(r.n), size: Number(r.size) });
  const lists: Record<string, Bucket[]> = {
    status: out.byStatus,
    format: out.byFormat,
    extension: out.byExtension,
    author: out.byAuthor,
    year: out.byYear,
    language: out.byLanguage,
    error: out.failuresByCode,
  };
  let cost = 0;
  for (const r of rows) {
    switch (r.dim) {
      case 'total':
        out.documentCount = Number(r.n);
        out.totalSize = Number(r.size);
        out.oldestModified = r.oldest;
        out.newestModified = r.newest;
        break;
      case 'subfolder':
        out.subfolders.push({ key: folder === '' ? r.key : `${folder}/${r.key ?? ''}`, count: Number(r.n), size: Number(r.size) });
        break;
      case 'classified':
        c.classified = Number(r.n);
        break;
      case 'review':
        c.needsReview = Number(r.n);
        break;
      case 'tag':
        c.byTag.push({ key: r.key, count: Number(r.n), size: 0 });
        break;
      case 'category':
        c.byCategory.push({ key: r.key, count: Number(r.n), size: 0 });
        break;
      case 'folder':
        break;
      case 'cost':
        cost = Number(r.cost);
        c.inputTokens = Number(r.i);
        c.outputTokens = Number(r.o);
        break;
      default:
        lists[r.dim]?.push(bucket(r));
    }
  }
  c.costUsd = cost;
  c.classifiable = out.byStatus.find((b) => b.key === 'extracted')?.count ?? 0;
  c.coverage = c.classifiable > 0 ? Math.round((c.classified / c.classifiable) * 1000) / 1000 : 0;
  const byCount = (a: Bucket, z: Bucket) => z.count - a.count || String(a.key).localeCompare(String(z.key));
  for (const list of [out.byStatus, out.byFormat, out.byExtension, out.byAuthor, out.byLanguage, out.failuresByCode]) {
    list.sort(byCount);
  }
  out.byYear.sort((a, z) => String(a.key).localeCompare(String(z.key)));
  return out;
}

/** Summary rows (alias t) of `folder` and of every folder inside it: the byte range on "C". */
function scopeOf(folder: string, t: string) {
  const range = descendantRange(folder);
  const col = sql.ref(`${t}.folder`);
  return range ? sql<boolean>`(${col} = ${folder} or (${col} >= ${range.lower} and ${col} < ${range.upper}))` : sql<boolean>`true`;
}

/** Dimensions read by their own queries (stale documents, personal data), not by folderSummary. */
const OWN_READERS = ['modified_month', 'pii'];

/** The summary rows (folder, key, n, size) of one dimension inside `folder`: base rows and deltas. */
function dimRows(folder: string, dim: string) {
  return sql<{ folder: string; key: string | null; n: string; size: string }>`(
    select b.folder, b.key, b.n, b.size from folder_stats b where b.dim = ${dim} and ${scopeOf(folder, 'b')}
    union all
    select d.folder, d.key, d.n, d.size from folder_stat_deltas d where d.dim = ${dim} and ${scopeOf(folder, 'd')}
  )`;
}

/** The live documents inside `folder` (recursive): a scalar subquery over the summary rows' totals. */
function totalOf(folder: string) {
  return sql<string | null>`(select sum(x.n) from ${dimRows(folder, 'total')} x)`;
}

export function createInsightsRepository(db: Db) {
  /**
   * Aggregates of every live document inside `folder` (recursive), from the per-folder summary
   * rows of migrations 0007 (base rows plus the deltas not folded in yet) and 0008 (oldest and
   * newest per folder; folders marked as changed since the last compaction are recomputed from
   * the index) of the folder and of every folder inside it: a few rows per folder, however many
   * documents they hold. With the folder's row (null: no scan recorded it), in the same
   * statement, so a request costs one round trip.
   */
  async function folderSummary(folder: string): Promise<FolderSummary> {
    const scope = (t: string) => scopeOf(folder, t);
    const stats = sql`(
      select b.folder, b.dim, b.key, b.n, b.size, b.cost, b.input_tokens, b.output_tokens
      from folder_stats b where ${scope('b')} and b.dim not in (${sql.join(OWN_READERS)})
      union all
      select d.folder, d.dim, d.key, d.n, d.size, d.cost, d.input_tokens, d.output_tokens
      from folder_stat_deltas d where ${scope('d')} and d.dim not in (${sql.join(OWN_READERS)})
    )`;
    // Characters (code points), as substr counts them.
    const offset = folder === '' ? 1 : [...folder].length + 2;
    // One statement (one snapshot), so totals, breakdowns, subfolders, bounds and the folder row
    // agree. A folder's stored bounds are exact unless a mark of it is visible (migration 0008).
    const rows = await sql<SummaryRow>`
      with s as materialized ${stats},
      f as (
        select s.folder, sum(s.n) as n, sum(s.size) as size,
               case when s.folder = ${folder}::text then null
                    else split_part(substr(s.folder, ${offset}::int), '/', 1) end as key
        from s where s.dim = 'total'
        group by s.folder having sum(s.n) > 0
      ),
      sub as (
        select f.key, grouping(f.key) as g, sum(f.n) as n, sum(f.size) as size
        from f group by grouping sets ((f.key), ())
      ),
      marked as (
        select distinct m.folder from folder_bound_marks m where ${scope('m')}
      ),
      bounds as (
        select b.oldest, b.newest from folder_bounds b
        where ${scope('b')} and not exists (select 1 from marked where marked.folder = b.folder)
        union all
        select x.oldest, x.newest
        from marked cross join lateral (
          select min(coalesce(d.doc_modified, d.mtime)) as oldest, max(coalesce(d.doc_modified, d.mtime)) as newest
          from documents d where d.folder = marked.folder and d.deleted_at is null
        ) x
      ),
      buckets as (
        select s.dim, s.key, sum(s.n) as n, sum(s.size) as size, sum(s.cost) as cost,
               sum(s.input_tokens) as i, sum(s.output_tokens) as o
        from s where s.dim <> 'total'
        group by s.dim, s.key
        having sum(s.n) <> 0
      )
      select b.dim, b.key::text as key, b.n::text as n, b.size::text as size, b.cost::text as cost,
             b.i::text as i, b.o::text as o, null::timestamptz as oldest, null::timestamptz as newest,
             row_number() over (partition by b.dim order by b.n desc, b.key) as rank
      from buckets b
      union all
      select case when su.g = 1 then 'total' else 'subfolder' end, su.key::text, su.n::text, su.size::text,
             '0', '0', '0',
             case when su.g = 1 then (select min(oldest) from bounds) end,
             case when su.g = 1 then (select max(newest) from bounds) end,
             row_number() over (partition by su.g order by su.key)
      from sub su where su.g = 1 or su.key is not null
      union all
      -- The folder's own row; "oldest" carries when it was last scanned.
      select 'folder', null, '1', '0', '0', '0', '0', fo.last_scanned_at, null, 1
      from folders fo where fo.path = ${folder}
      order by 1, 10`.execute(db);
    const row = rows.rows.find((r) => r.dim === 'folder');
    return {
      recorded: row ? { lastScannedAt: row.oldest } : null,
      aggregates: toAggregates(folder, rows.rows),
    };
  }

  /**
   * Documents inside files and OCR counts of the live documents inside `folder`, from the
   * partial indexes of migration 0010 (both are a minority of documents), and the total.
   */
  async function contentsAndOcr(folder: string, total: number): Promise<{ contents: ContentsAggregates; ocr: OcrAggregates }> {
    const range = descendantRange(folder);
    const within = range ? sql`and d.path >= ${range.lower} and d.path < ${range.upper}` : sql``;
    const r = await sql<Record<string, string | null>>`
      select
        (select count(*) filter (where d.origin = 'attachment') from documents d where d.origin <> 'file' and d.deleted_at is null ${within}) as attachments,
        (select count(*) filter (where d.origin = 'archive-entry') from documents d where d.origin <> 'file' and d.deleted_at is null ${within}) as entries,
        o.*
      from (
        select count(*) filter (where d.text_source in ('ocr', 'mixed')) as scanned,
               coalesce(sum(d.ocr_pages) filter (where d.ocr_status = 'done'), 0) as pages,
               count(*) filter (where d.ocr_low_confidence) as low,
               count(*) filter (where d.ocr_status = 'pending') as pending,
               count(*) filter (where d.ocr_status = 'failed') as failed,
               count(*) filter (where d.ocr_status = 'skipped') as skipped
        from documents d where d.ocr_status is not null and d.deleted_at is null ${within}
      ) o`.execute(db);
    const x = r.rows[0] ?? {};
    const n = (k: string) => Number(x[k] ?? 0);
    const embedded = n('attachments') + n('entries');
    return {
      contents: { files: Math.max(0, total - embedded), attachments: n('attachments'), archiveEntries: n('entries') },
      ocr: { scannedDocuments: n('scanned'), pagesRead: n('pages'), lowConfidence: n('low'), pending: n('pending'), failed: n('failed'), skipped: n('skipped') },
    };
  }

  /**
   * Live documents inside `folder` (recursive, documents inside files included, as in the totals)
   * last modified before `cutoff`, and their bytes, from the monthly histogram of migration 0028:
   * the whole months before the cutoff's month, plus the documents of the cutoff's month before
   * the cutoff, counted exactly in each folder that has any (a bounded range of the
   * (folder, modified) index of migration 0007).
   */
  async function staleDocuments(folder: string, cutoff: Date): Promise<{ documents: number; bytes: number }> {
    const r = await sql<{ n: string; bytes: string }>`
      with c as materialized (
        select docsight_modified_month(${cutoff}::timestamptz) collate "C" as key,
               docsight_modified_month_start(${cutoff}::timestamptz) as start
      ),
      s as materialized ${dimRows(folder, 'modified_month')},
      whole as (
        select coalesce(sum(s.n), 0) as n, coalesce(sum(s.size), 0) as size
        from s, c where s.key collate "C" < c.key
      ),
      edge as (
        select s.folder from s, c where s.key collate "C" = c.key group by s.folder having sum(s.n) > 0
      ),
      part as (
        select count(*) as n, coalesce(sum(d.size), 0) as size
        from edge e cross join c
        join documents d on d.folder = e.folder and d.deleted_at is null
          and coalesce(d.doc_modified, d.mtime) >= c.start and coalesce(d.doc_modified, d.mtime) < ${cutoff}::timestamptz
      )
      select (whole.n + part.n)::text as n, (whole.size + part.size)::text as bytes from whole, part`.execute(db);
    return { documents: Number(r.rows[0]?.n ?? 0), bytes: Number(r.rows[0]?.bytes ?? 0) };
  }

  /**
   * Documents with personal data inside `folder` (recursive), per kind and in all, from the summary
   * rows of migration 0028 (dim 'pii': documents in n, findings in size; key null: any kind).
   */
  async function personalData(folder: string): Promise<PersonalDataAggregates> {
    const r = await sql<{ kind: PiiKind | null; documents: string; findings: string }>`
      select s.key as kind, sum(s.n)::text as documents, sum(s.size)::text as findings
      from ${dimRows(folder, 'pii')} s
      group by s.key
      having sum(s.n) <> 0`.execute(db);
    const total = r.rows.find((x) => x.kind === null);
    const byKind = r.rows.flatMap((x) => (x.kind === null ? [] : [{ kind: x.kind, documents: Number(x.documents), findings: Number(x.findings) }]));
    byKind.sort((a, z) => z.documents - a.documents || a.kind.localeCompare(z.kind));
    return { documents: Number(total?.documents ?? 0), findings: Number(total?.findings ?? 0), byKind };
  }

  return {
    folderSummary,
    contentsAndOcr,
    personalData,
    staleDocuments,

    async folderAggregates(folder: string): Promise<FolderAggregates> {
      return (await folderSummary(folder)).aggregates;
    },

    /** Live documents inside `folder` (recursive), from the summary rows' totals (migration 0007). */
    async countDocuments(folder: string): Promise<number> {
      const r = await sql<{ n: string | null }>`select ${totalOf(folder)} as n`.execute(db);
      return Number(r.rows[0]?.n ?? 0);
    },

    /**
     * As countDocuments, with the folder's row (null: no scan recorded it) in the same statement:
     * the original design's count_files costs one round trip.
     */
    async countWithFolder(folder: string): Promise<{ count: number; recorded: { lastScannedAt: Date | null } | null }> {
      const r = await sql<{ n: string | null; recorded: boolean; last_scanned_at: Date | null }>`
        select ${totalOf(folder)} as n, fo.path is not null as recorded, fo.last_scanned_at
        from (select 1) one left join folders fo on fo.path = ${folder}`.execute(db);
      const row = r.rows[0];
      return { count: Number(row?.n ?? 0), recorded: row?.recorded ? { lastScannedAt: row.last_scanned_at } : null };
    },

    async listDocuments(q: DocumentListQuery): Promise<{ items: DocumentListItem[]; last?: { value: string | number | null; id: string } }> {
      const sortExpr = sql.raw(SORT_SQL[q.sort]);
      let query = inFolder(db.selectFrom('documents'), q.folder);
      const range = descendantRange(q.folder);
      // A document inside a file is in its file's folder: a real folder named like '<file>#1' holds
      // none of that file's attachments, though their paths fall in its range.
      if (range) {
        query = query.where((eb) =>
          eb.or([eb('origin', '=', 'file'), eb('folder', '=', q.folder), eb.and([eb('folder', '>=', range.lower), eb('folder', '<', range.upper)])]),
        );
      }
      if (q.origin === 'embedded') query = query.where('origin', '<>', 'file');
      else if (q.origin) query = query.where('origin', '=', q.origin);
      if (q.textSource) query = query.where('text_source', '=', q.textSource);
      if (q.ocr === 'any') query = query.where('ocr_status', 'is not', null);
      else if (q.ocr === 'low-confidence') query = query.where('ocr_low_confidence', '=', true);
      else if (q.ocr) query = query.where('ocr_status', '=', q.ocr);
      if (q.status) query = query.where('status', '=', q.status);
      if (q.format) query = query.where('format', '=', q.format);
      if (q.extension) query = query.where('extension', '=', q.extension.toLowerCase());
      if (q.author) query = query.where('author', '=', q.author);
      if (q.tag) {
        const probe = JSON.stringify([{ label: q.tag }]);
        query = query.where(
          sql<boolean>`exists (select 1 from classifications c where c.id = documents.classification_id and c.tags @> ${probe}::jsonb)`,
        );
      }
      if (q.fields?.length) query = query.where(fieldFiltersSql(q.fields, sql`documents.classification_id`));
      if (q.sensitive === 'any') query = query.where(sql<boolean>`cardinality(pii_kinds) > 0`);
      else if (q.sensitive) query = query.where(sql<boolean>`pii_kinds @> array[${q.sensitive}]::text[]`);
      if (q.stale) {
        const op = sql.raw(q.stale.is ? '<' : '>=');
        query = query.where(sql<boolean>`coalesce(doc_modified, mtime) ${op} ${q.stale.cutoff}`);
      }
      if (q.modifiedFrom) query = query.where(sql<boolean>`coalesce(doc_modified, mtime) >= ${q.modifiedFrom}`);
      if (q.modifiedTo) query = query.where(sql<boolean>`coalesce(doc_modified, mtime) < ${q.modifiedTo}`);
      if (q.after) {
        const op = sql.raw(q.order === 'asc' ? '>' : '<');
        query = query.where(sql<boolean>`(${sortExpr}, id) ${op} (${q.after.value}, ${q.after.id}::uuid)`);
      }
      const dir = sql.raw(q.order);
      const rows = await query
        .select([
          ...DOCUMENT_COLUMNS,
          sql<string | number>`${sortExpr}`.as('sort_value'),
          sql<DocumentListItem['tags']>`(select c.tags from classifications c where c.id = documents.classification_id)`.as('tags'),
          sql<string | null>`(select c.primary_category from classifications c where c.id = documents.classification_id)`.as('primary_category'),
        ])
        .orderBy(sql`${sortExpr} ${dir}`)
        .orderBy(sql`id ${dir}`)
        .limit(q.limit)
        .execute();
      const items = rows.map((r) => ({
        ...toDocumentFields(r),
        tags: r.tags,
        primaryCategory: r.primary_category,
      }));
      const lastRow = rows.at(-1);
      const sortValue = lastRow?.sort_value as unknown;
      return {
        items,
        last:
          lastRow && rows.length === q.limit
            ? { value: sortValue instanceof Date ? sortValue.toISOString() : (sortValue as string | number), id: lastRow.id }
            : undefined,
      };
    },
  };
}

export type InsightsRepository = ReturnType<typeof createInsightsRepository>;

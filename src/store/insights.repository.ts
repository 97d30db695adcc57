/**
 * Read models over documents inside a folder (recursive). "Inside" is always the byte range of
 * domain/paths.ts on the "C"-collated path index, never LIKE.
 */
import { type SelectQueryBuilder, sql } from 'kysely';
import { descendantRange } from '../domain/paths.ts';
import type { Db } from './database.ts';
import { DOCUMENT_COLUMNS, type DocumentFields, toDocumentFields } from './documents.repository.ts';
import type { Database, DocumentStatus } from './schema.ts';

export interface Bucket {
  key: string | null;
  count: number;
  size: number;
}

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

export interface ClassificationAggregates {
  /** Extracted documents with a current classification. */
  classified: number;
  /** Extracted documents (the ones that can be classified). */
  classifiable: number;
  /** classified / classifiable, 0..1. */
  coverage: number;
  /** Documents whose latest result has a tag under the review threshold. */
  needsReview: number;
  byTag: Bucket[];
  byCategory: Bucket[];
  /** Estimated spend on every classification of these documents, ever (USD). */
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
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

export function createInsightsRepository(db: Db) {
  async function classificationAggregates(where: ReturnType<typeof sql>): Promise<ClassificationAggregates> {
    const totals = await sql<{ classifiable: number; classified: number; review: number }>`
      select count(*) filter (where d.status = 'extracted')::int as classifiable,
             count(c.id) filter (where d.status = 'extracted')::int as classified,
             count(*) filter (where c.needs_review)::int as review
      from documents d left join classifications c on c.id = d.classification_id
      where ${where}`.execute(db);
    const tags = await sql<{ key: string; count: number }>`
      select t->>'label' as key, count(*)::int as count
      from documents d join classifications c on c.id = d.classification_id,
           jsonb_array_elements(c.tags) t
      where ${where}
      group by 1 order by 2 desc, 1`.execute(db);
    const categories = await sql<{ key: string; count: number }>`
      select c.primary_category as key, count(*)::int as count
      from documents d join classifications c on c.id = d.classification_id
      where ${where}
      group by 1 order by 2 desc, 1`.execute(db);
    const spend = await sql<{ cost: number; i: number; o: number }>`
      select coalesce(sum(c.cost_usd), 0) as cost, coalesce(sum(c.input_tokens), 0)::bigint as i,
             coalesce(sum(c.output_tokens), 0)::bigint as o
      from documents d join classifications c on c.document_id = d.id
      where ${where}`.execute(db);
    const t = totals.rows[0] ?? { classifiable: 0, classified: 0, review: 0 };
    const s = spend.rows[0] ?? { cost: 0, i: 0, o: 0 };
    return {
      classified: t.classified,
      classifiable: t.classifiable,
      coverage: t.classifiable > 0 ? Math.round((t.classified / t.classifiable) * 1000) / 1000 : 0,
      needsReview: t.review,
      byTag: tags.rows.map((r) => ({ key: r.key, count: r.count, size: 0 })),
      byCategory: categories.rows.map((r) => ({ key: r.key, count: r.count, size: 0 })),
      costUsd: Number(s.cost),
      inputTokens: Number(s.i),
      outputTokens: Number(s.o),
    };
  }

  return {
    async folderAggregates(folder: string): Promise<FolderAggregates> {
      const range = descendantRange(folder);
      const where = range
        ? sql`deleted_at is null and path >= ${range.lower} and path < ${range.upper}`
        : sql`deleted_at is null`;
      // One pass over the folder's rows for every breakdown (GROUPING SETS).
      const rows = await sql<{
        g: number;
        status: string | null;
        format: string | null;
        extension: string | null;
        author: string | null;
        year: number | null;
        language: string | null;
        error_code: string | null;
        count: string;
        size: string | null;
        oldest: Date | null;
        newest: Date | null;
      }>`
        select
          grouping(status, format, extension, author, year, language, error_code) as g,
          status, format, extension, author, year, language, error_code,
          count(*) as count, sum(size) as size,
          min(modified) as oldest, max(modified) as newest
        from (
          select status, format, extension, author, language,
            case when status = 'failed' then error_code end as error_code,
            coalesce(doc_modified, mtime) as modified,
            extract(year from coalesce(doc_modified, mtime))::int as year,
            size
          from documents where ${where}
        ) d
        group by grouping sets ((), (status), (format), (extension), (author), (year), (language), (error_code))
      `.execute(db);

      const out: FolderAggregates = {
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
        classification: { classified: 0, classifiable: 0, coverage: 0, needsReview: 0, byTag: [], byCategory: [], costUsd: 0, inputTokens: 0, outputTokens: 0 },
      };
      // grouping() sets a bit per column *not* in the set, first column = highest bit (7 columns).
      const ALL = 0b1111111;
      const only = (bit: number) => ALL & ~(1 << (6 - bit));
      for (const r of rows.rows) {
        const b = (key: string | number | null): Bucket => ({
          key: key === null ? null : String(key),
          count: Number(r.count),
          size: Number(r.size ?? 0),
        });
        switch (r.g) {
          case ALL:
            out.documentCount = Number(r.count);
            out.totalSize = Number(r.size ?? 0);
            out.oldestModified = r.oldest;
            out.newestModified = r.newest;
            break;
          case only(0):
            out.byStatus.push(b(r.status));
            break;
          case only(1):
            out.byFormat.push(b(r.format));
            break;
          case only(2):
            out.byExtension.push(b(r.extension));
            break;
          case only(3):
            out.byAuthor.push(b(r.author));
            break;
          case only(4):
            out.byYear.push(b(r.year));
            break;
          case only(5):
            out.byLanguage.push(b(r.language));
            break;
          case only(6):
            if (r.error_code !== null) out.failuresByCode.push(b(r.error_code));
            break;
          default:
            break;
        }
      }
      const byCount = (a: Bucket, z: Bucket) => z.count - a.count || String(a.key).localeCompare(String(z.key));
      for (const list of [out.byStatus, out.byFormat, out.byExtension, out.byAuthor, out.byLanguage, out.failuresByCode]) {
        list.sort(byCount);
      }
      out.byYear.sort((a, z) => String(a.key).localeCompare(String(z.key)));

      // Direct subfolders with their recursive counts.
      const offset = folder === '' ? 1 : folder.length + 2;
      const sub = await sql<{ key: string; count: string; size: string }>`
        select split_part(substr(path, ${offset}), '/', 1) as key, count(*) as count, sum(size) as size
        from documents
        where ${where} and strpos(substr(path, ${offset}), '/') > 0
        group by 1 order by 1`.execute(db);
      out.classification = await classificationAggregates(where);
      out.subfolders = sub.rows.map((r) => ({
        key: folder === '' ? r.key : `${folder}/${r.key}`,
        count: Number(r.count),
        size: Number(r.size),
      }));
      return out;
    },

    async countDocuments(folder: string): Promise<number> {
      const r = await inFolder(db.selectFrom('documents'), folder)
        .select(sql<string>`count(*)`.as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async listDocuments(q: DocumentListQuery): Promise<{ items: DocumentListItem[]; last?: { value: string | number | null; id: string } }> {
      const sortExpr = sql.raw(SORT_SQL[q.sort]);
      let query = inFolder(db.selectFrom('documents'), q.folder);
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

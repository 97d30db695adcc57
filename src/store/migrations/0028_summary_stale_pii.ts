import { type Kysely, sql } from 'kysely';
import { type DocumentColumns, documentsStatsSql, statsDocumentSql, statsFromScratchSql, V1, YEAR_V1 } from './0007_folder_stats.ts';

/**
 * The last two live figures of folder insights from the summary rows of 0007 (issue 19): personal
 * data and stale documents were counted over every document of the folder on every request.
 *
 * - Personal data: a document counts once per kind it holds (dim 'pii', key = kind, n = 1) and
 *   once for holding any (dim 'pii', key null), its findings of that kind (pii -> kind ->> 'count',
 *   of all kinds for the null key) carried in the `size` column. As the live roll-up, a kind
 *   listed twice counts one document and its findings twice.
 * - Stale (modified before a cutoff that moves with the clock, so no counter per cutoff can be
 *   kept): a histogram of coalesce(doc_modified, mtime) by UTC month (dim 'modified_month', key
 *   'YYYY-MM', '-' before year 1 and '~' from year 10,000 and infinity, so that keys sort as their
 *   months in the "C" collation). A reader sums the whole months before the cutoff's month and
 *   counts the documents of the cutoff's month before the cutoff exactly, per folder holding any
 *   (a bounded range of documents_folder_modified_idx). The 'year' dimension stays in the session
 *   time zone; this one is UTC so that its bounds do not depend on the writer's session.
 *
 * The 'year' of an infinite modified time is null (0007's cast of it failed the write).
 *
 * Both come from the document's own row, so the triggers of 0007 move them on every insert,
 * status change, (un)delete, move and change of modified date or personal data. Existing rows are
 * rebuilt from scratch, as 0007 filled them.
 */
const V2: DocumentColumns = {
  args: (t) => `${V1.args(t)}, ${t}.pii_kinds, ${t}.pii`,
  changed: (t) => `${V1.changed(t)}, ${t}.pii_kinds, ${t}.pii`,
};

export async function up(db: Kysely<unknown>): Promise<void> {
  // The month bucket of a modified time, and where the bucket starts (see above).
  await sql`
    create function docsight_modified_month(m timestamptz) returns text
    language sql stable parallel safe as $$
      select case
        when m < timestamptz '0001-01-01 00:00:00+00' then '-'
        when m >= timestamptz '10000-01-01 00:00:00+00' then '~'
        else to_char(m at time zone 'UTC', 'YYYY-MM')
      end
    $$`.execute(db);
  await sql`
    create function docsight_modified_month_start(m timestamptz) returns timestamptz
    language sql immutable parallel safe as $$
      select case
        when m < timestamptz '0001-01-01 00:00:00+00' then timestamptz '-infinity'
        when m >= timestamptz '10000-01-01 00:00:00+00' then timestamptz '10000-01-01 00:00:00+00'
        else date_trunc('month', m at time zone 'UTC') at time zone 'UTC'
      end
    $$`.execute(db);
  // 0007's part, and the two new dimensions.
  await sql.raw(statsDocumentSql('case when isfinite($7) then extract(year from $7)::int::text end')).execute(db);
  await sql`
    create function docsight_stats_document(
      deleted_at timestamptz, size bigint, status text, format text, extension text, author text,
      modified timestamptz, language text, error_code text, pii_kinds text[], pii jsonb
    ) returns table (dim text, key text, n bigint, size bigint)
    language sql stable parallel safe as $$
      select s.dim, s.key, s.n, s.size from docsight_stats_document($1, $2, $3, $4, $5, $6, $7, $8, $9) s
      union all
      select 'modified_month', docsight_modified_month($7), 1::bigint, $2
      where $1 is null
      union all
      select 'pii', k.kind, 1::bigint,
             coalesce(sum(case when jsonb_typeof($11 -> k.kind -> 'count') = 'number' then ($11 -> k.kind ->> 'count')::numeric end), 0)::bigint
      from unnest($10) k (kind)
      where $1 is null
      group by grouping sets ((k.kind), ())
      having count(*) > 0
    $$`.execute(db);
  await sql.raw(statsFromScratchSql(V2)).execute(db);
  await sql.raw(documentsStatsSql(V2)).execute(db);
  await sql`select docsight_folder_stats_rebuild(null)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(statsDocumentSql(YEAR_V1)).execute(db);
  await sql.raw(statsFromScratchSql(V1)).execute(db);
  await sql.raw(documentsStatsSql(V1)).execute(db);
  await sql`drop function docsight_stats_document(timestamptz, bigint, text, text, text, text, timestamptz, text, text, text[], jsonb)`.execute(db);
  await sql`drop function docsight_modified_month(timestamptz)`.execute(db);
  await sql`drop function docsight_modified_month_start(timestamptz)`.execute(db);
  await sql`select docsight_folder_stats_rebuild(null)`.execute(db);
}

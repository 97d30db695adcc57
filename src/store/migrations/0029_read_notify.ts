import { type Kysely, sql } from 'kysely';

/**
 * Tells API processes when what folder reads return may have changed (issue 19: the response cache
 * of api/plugins/response-cache.ts). A statement-level trigger on every table the cached reads
 * (folder insights, counts and listings) take rows from does `pg_notify('docsight_reads', '')`.
 * PostgreSQL delivers a notification only when its transaction commits (never for a rollback) and
 * folds identical ones of one transaction into one, so a listener hears of each committed write
 * once, after the rows are visible. Each API process LISTENs on one connection of its own
 * (store/read-version.ts) and moves its data version on every notification.
 *
 * The tables: documents and classifications (and what triggers of 0007/0008 keep from them: the
 * summary rows, bounds and their marks, which they write in the same transaction, listed anyway
 * so a compaction or rebuild run on its own counts too), folders (scanned or not, when), reviews
 * (the reviewed count), custom field values and taxonomy versions (the listing's `field.` filters).
 */
export const READ_TABLES = [
  'documents',
  'classifications',
  'classification_fields',
  'classification_reviews',
  'folders',
  'folder_stats',
  'folder_stat_deltas',
  'folder_bounds',
  'folder_bound_marks',
  'taxonomy_versions',
] as const;

const trigger = (table: string) => `${table}_reads_notify`;

export async function up(db: Kysely<unknown>): Promise<void> {
  // Idempotent, as the migrations after 0009 are, and a table that is not there yet is skipped.
  await sql`
    create or replace function docsight_reads_notify() returns trigger
    language plpgsql as $$
    begin
      perform pg_notify('docsight_reads', '');
      return null;
    end
    $$`.execute(db);
  for (const table of READ_TABLES) {
    const exists = await sql<{ t: string | null }>`select to_regclass(${table})::text as t`.execute(db);
    if (!exists.rows[0]?.t) continue;
    await sql`
      create or replace trigger ${sql.id(trigger(table))} after insert or update or delete or truncate on ${sql.table(table)}
      for each statement execute function docsight_reads_notify()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of READ_TABLES) {
    await sql`drop trigger if exists ${sql.id(trigger(table))} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop function if exists docsight_reads_notify()`.execute(db);
}

import { type Kysely, sql } from 'kysely';

/**
 * Gold values of custom fields on imported labels (issue 18: evaluation scores each field by exact
 * match). `fields` is `{name: value|null}` as domain/fields.ts reads a value; null: the line named
 * no field, so the document is scored on its tags only. A gold null value ("the document has no
 * such value") is kept apart from an absent one, so a column of its own, not a key in `tags`.
 *
 * Idempotent (if not exists), as 0010+.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table evaluation_labels add column if not exists fields jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table evaluation_labels drop column if exists fields`.execute(db);
}

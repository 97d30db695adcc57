import { type Kysely, sql } from 'kysely';

/**
 * Gold values of custom fields (issue 18: evaluation scores each field by exact match), as
 * `{name: value|null}` read by domain/fields.ts:
 * - `evaluation_labels.fields`: given by an imported label line; null: the line named no field, so
 *   the document is scored on its tags only. A gold null ("the document has no such value") is kept
 *   apart from an absent one, so a column of its own, not a key in `tags`.
 * - `classification_reviews.fields`: the fields a reviewer set in a correction (null: none). The
 *   corrected result's `classifications.fields` also holds the values kept from the model, which
 *   are no judgement and must not count as gold.
 *
 * Idempotent (if not exists), as 0010+.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table evaluation_labels add column if not exists fields jsonb`.execute(db);
  await sql`alter table classification_reviews add column if not exists fields jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table classification_reviews drop column if exists fields`.execute(db);
  await sql`alter table evaluation_labels drop column if exists fields`.execute(db);
}

import { type Kysely, sql } from 'kysely';

/**
 * What the classifier set right in a model's answers instead of sending a repair request (codes
 * from CLASSIFICATION_WARNINGS in classify/types.ts), kept with the result so a reader can tell a
 * clean answer from a normalised one. Results from before hold none.
 *
 * Idempotent (if not exists), so a test can give an older schema this column before the
 * repositories of today write to it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table classifications add column if not exists warnings text[] not null default '{}'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table classifications drop column if exists warnings`.execute(db);
}

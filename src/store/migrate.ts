import { type MigrationResultSet, Migrator, sql } from 'kysely';
import type { Db } from './database.ts';
import { migrations } from './migrations/index.ts';

/** Apply every pending migration (idempotent; concurrent callers are serialised by Kysely's lock). */
export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'docsight_migrations',
    migrationLockTableName: 'docsight_migrations_lock',
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const name = failed ? ` (${failed.migrationName})` : '';
    throw new Error(`Migration failed${name}: ${String(result.error)}`, { cause: result.error });
  }
  return result;
}

/** Is the schema at the latest migration this build knows? False while it is behind or absent. */
export async function schemaIsCurrent(db: Db): Promise<boolean> {
  const latest = Object.keys(migrations).sort().at(-1);
  try {
    const r = await sql<{ name: string }>`select name from docsight_migrations order by name desc limit 1`.execute(db);
    return r.rows[0]?.name === latest;
  } catch {
    return false; // the migrations table is not there yet
  }
}

/** Resolves when the database answers a trivial statement (for /ready). */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

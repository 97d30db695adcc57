/** Watched folders of the local root (migration 0016). */
import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface WatchRow {
  id: string;
  folder: string;
  autoClassify: boolean;
  createdBy: string | null;
  createdAt: Date;
  lastCheckedAt: Date | null;
}

const COLUMNS = ['id', 'folder', 'auto_classify as autoClassify', 'created_by as createdBy', 'created_at as createdAt', 'last_checked_at as lastCheckedAt'] as const;

export function createWatchesRepository(db: Db) {
  return {
    async list(): Promise<WatchRow[]> {
      return db.selectFrom('watches').select(COLUMNS).orderBy('folder').execute();
    },

    async find(id: string): Promise<WatchRow | undefined> {
      return db.selectFrom('watches').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    },

    /** Watch a folder (watching it again updates its options): returns the row and whether it is new. */
    async upsert(w: { folder: string; autoClassify: boolean; createdBy: string | null }): Promise<{ watch: WatchRow; created: boolean }> {
      const r = await db
        .insertInto('watches')
        .values({ folder: w.folder, auto_classify: w.autoClassify, created_by: w.createdBy })
        .onConflict((oc) => oc.column('folder').doUpdateSet({ auto_classify: w.autoClassify }))
        .returning([...COLUMNS, sql<boolean>`(xmax = 0)`.as('inserted')])
        .executeTakeFirstOrThrow();
      const { inserted, ...watch } = r;
      return { watch, created: inserted };
    },

    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('watches').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async markChecked(ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await db.updateTable('watches').set({ last_checked_at: sql`now()` }).where('id', 'in', ids).execute();
    },
  };
}

export type WatchesRepository = ReturnType<typeof createWatchesRepository>;

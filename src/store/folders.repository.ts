/** Folders seen by scans: the tree the API and dashboard browse, and when each was last scanned. */
import { sql } from 'kysely';
import { parentOf } from '../domain/paths.ts';
import type { Db } from './database.ts';

export function createFoldersRepository(db: Db) {
  return {
    /**
     * Sorted: an upsert locks the rows it meets in the order of its values, so two scans of
     * overlapping trees lock shared folder rows in the same order and cannot deadlock.
     */
    async upsertSeen(paths: string[], jobId: string): Promise<void> {
      if (paths.length === 0) return;
      await db
        .insertInto('folders')
        .values(
          [...new Set(paths)].sort().map((p) => ({
            path: p,
            parent_path: p === '' ? null : parentOf(p),
            last_scan_job_id: jobId,
          })),
        )
        .onConflict((oc) => oc.column('path').doUpdateSet({ last_scan_job_id: jobId }))
        .execute();
    },

    /** The folder and everything under it were walked to the end by this job. */
    async markScanned(folder: string, jobId: string): Promise<void> {
      let q = db
        .updateTable('folders')
        .set({ last_scanned_at: sql`now()` })
        .where('last_scan_job_id', '=', jobId);
      if (folder !== '') {
        q = q.where((eb) =>
          eb.or([
            eb('path', '=', folder),
            eb.and([eb('path', '>=', `${folder}/`), eb('path', '<', `${folder}0`)]),
          ]),
        );
      }
      await q.execute();
    },

    async find(path: string): Promise<{ path: string; lastScannedAt: Date | null } | undefined> {
      const r = await db
        .selectFrom('folders')
        .select(['path', 'last_scanned_at'])
        .where('path', '=', path)
        .executeTakeFirst();
      return r ? { path: r.path, lastScannedAt: r.last_scanned_at } : undefined;
    },
  };
}

export type FoldersRepository = ReturnType<typeof createFoldersRepository>;

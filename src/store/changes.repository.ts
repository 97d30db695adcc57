/** What changed: the history scans write (migration 0016), and its reads per folder. */
import { type Transaction, sql } from 'kysely';
import { descendantRange, parentOf } from '../domain/paths.ts';
import type { ChangeDay } from '../contract.ts';
import type { ChangeKind } from '../domain/vocabulary.ts';
import type { Db } from './database.ts';
import type { Database } from './schema.ts';

/** One change as a writer records it (folders are derived from the paths). */
export interface ChangeEntry {
  jobId: string | null;
  documentId: string;
  kind: ChangeKind;
  path: string;
  oldPath?: string | null;
  oldSha256?: string | null;
  newSha256?: string | null;
}

export interface ChangeRow {
  id: string;
  at: Date;
  jobId: string | null;
  documentId: string;
  kind: ChangeKind;
  path: string;
  oldPath: string | null;
  oldSha256: string | null;
  newSha256: string | null;
}

/** Write changes in the caller's transaction (the one that makes them true). */
export async function recordChanges(trx: Transaction<Database>, entries: ChangeEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await trx
    .insertInto('document_changes')
    .values(
      entries.map((e) => ({
        job_id: e.jobId,
        document_id: e.documentId,
        kind: e.kind,
        folder: parentOf(e.path),
        path: e.path,
        old_folder: e.oldPath ? parentOf(e.oldPath) : null,
        old_path: e.oldPath ?? null,
        old_sha256: e.oldSha256 ?? null,
        new_sha256: e.newSha256 ?? null,
      })),
    )
    .execute();
}

/** Changes whose document is, or was, in `folder` or below it (alias c). */
function inFolder(folder: string) {
  const range = descendantRange(folder);
  if (!range) return sql`true`;
  const one = (col: 'folder' | 'old_folder') =>
    sql`(${sql.ref(`c.${col}`)} = ${folder} or (${sql.ref(`c.${col}`)} >= ${range.lower} and ${sql.ref(`c.${col}`)} < ${range.upper}))`;
  return sql`(${one('folder')} or ${one('old_folder')})`;
}

export function createChangesRepository(db: Db) {
  return {
    /** A page of a folder's changes since `since`, oldest first, after the change `afterId`. */
    async list(q: { folder: string; since: Date; afterId?: string; limit: number }): Promise<ChangeRow[]> {
      const r = await sql<{
        id: string; at: Date; job_id: string | null; document_id: string; kind: ChangeKind; path: string;
        old_path: string | null; old_sha256: string | null; new_sha256: string | null;
      }>`
        select c.id, c.at, c.job_id, c.document_id, c.kind, c.path, c.old_path, c.old_sha256, c.new_sha256
        from document_changes c
        where ${inFolder(q.folder)} and c.at >= ${q.since} ${q.afterId ? sql`and c.id > ${q.afterId}::bigint` : sql``}
        order by c.id
        limit ${q.limit}`.execute(db);
      return r.rows.map((x) => ({
        id: String(x.id),
        at: x.at,
        jobId: x.job_id,
        documentId: x.document_id,
        kind: x.kind,
        path: x.path,
        oldPath: x.old_path,
        oldSha256: x.old_sha256,
        newSha256: x.new_sha256,
      }));
    },

    /** Counts per UTC day and kind of a folder's changes since `since`. */
    async perDay(q: { folder: string; since: Date }): Promise<ChangeDay[]> {
      const r = await sql<{ day: string; added: string; changed: string; moved: string; deleted: string }>`
        select to_char(c.at at time zone 'UTC', 'YYYY-MM-DD') as day,
          count(*) filter (where c.kind = 'added') as added,
          count(*) filter (where c.kind = 'changed') as changed,
          count(*) filter (where c.kind = 'moved') as moved,
          count(*) filter (where c.kind = 'deleted') as deleted
        from document_changes c
        where ${inFolder(q.folder)} and c.at >= ${q.since}
        group by 1 order by 1`.execute(db);
      return r.rows.map((x) => ({ day: x.day, added: Number(x.added), changed: Number(x.changed), moved: Number(x.moved), deleted: Number(x.deleted) }));
    },
  };
}

export type ChangesRepository = ReturnType<typeof createChangesRepository>;

/** What changed in a folder (the history scans record), and the retention of deleted documents. */
import { z } from 'zod';
import { canSee, type Principal } from '../domain/access.ts';
import type { Change, ChangeDays, ChangesPage } from '../contract.ts';
import type { ChangesRepository } from '../store/changes.repository.ts';
import type { DocumentsRepository } from '../store/documents.repository.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

const ChangesCursor = z.tuple([z.string().regex(/^\d{1,19}$/)]);

/** A timeline without `since` covers this many days. */
const DEFAULT_TIMELINE_DAYS = 30;

export interface ChangesServiceDeps {
  changes: ChangesRepository;
  documents: Pick<DocumentsRepository, 'purgeDeleted'>;
  /** The folder rule of insights: known to a scan or on disk, visible to the caller. */
  knownFolder(path: string, access: Principal): Promise<{ rel: string }>;
  now?: () => Date;
}

export function createChangesService(deps: ChangesServiceDeps) {
  const now = () => deps.now?.() ?? new Date();
  return {
    /** A page of a folder's changes since `since` (default: all kept), oldest first. */
    async list(q: { path: string; since?: Date; cursor?: string; limit: number }, access: Principal): Promise<ChangesPage> {
      const folder = await deps.knownFolder(q.path, access);
      const after = q.cursor ? decodeCursor(q.cursor, ChangesCursor)[0] : undefined;
      const rows = await deps.changes.list({ folder: folder.rel, since: q.since ?? new Date(0), limit: q.limit + 1, ...(after ? { afterId: after } : {}) });
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const items: Change[] = page.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        kind: r.kind,
        documentId: r.documentId,
        // A move between folders shows in both; a scoped caller sees only the side it may see.
        path: canSee(access, r.path) ? r.path : null,
        oldPath: r.oldPath !== null && canSee(access, r.oldPath) ? r.oldPath : null,
        oldSha256: r.oldSha256,
        newSha256: r.newSha256,
        jobId: r.jobId,
      }));
      return { folder: folder.rel, items, nextCursor: rows.length > q.limit && last ? encodeCursor([last.id]) : null };
    },

    /** Counts per UTC day and kind since `since` (default: the last 30 days), for a timeline. */
    async perDay(q: { path: string; since?: Date }, access: Principal): Promise<ChangeDays> {
      const folder = await deps.knownFolder(q.path, access);
      const since = q.since ?? new Date(now().getTime() - DEFAULT_TIMELINE_DAYS * 86_400_000);
      return { folder: folder.rel, since: since.toISOString(), days: await deps.changes.perDay({ folder: folder.rel, since }) };
    },

    /** Drop documents deleted more than `days` ago (DELETED_RETENTION_DAYS). */
    async purgeDeleted(days: number): Promise<number> {
      return deps.documents.purgeDeleted(new Date(now().getTime() - days * 86_400_000));
    },
  };
}

export type ChangesService = ReturnType<typeof createChangesService>;

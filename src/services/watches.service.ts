/** Watches: which folders of the local root are kept in sync (the API's and CLI's use cases). */
import { assertFolderVisible, canSee, type Principal } from '../domain/access.ts';
import { notFound } from '../domain/errors.ts';
import { normalizeRelativePath } from '../domain/paths.ts';
import type { Watch } from '../contract.ts';
import type { WatchesRepository, WatchRow } from '../store/watches.repository.ts';
import type { DocsRoot } from './docs-root.ts';

export function toWatchView(w: WatchRow): Watch {
  return {
    id: w.id,
    folder: w.folder,
    autoClassify: w.autoClassify,
    createdAt: w.createdAt.toISOString(),
    lastCheckedAt: w.lastCheckedAt?.toISOString() ?? null,
  };
}

export function createWatchesService(deps: { watches: WatchesRepository; docsRoot: DocsRoot }) {
  return {
    /** The watches of folders the caller may see. */
    async list(access: Principal): Promise<Watch[]> {
      return (await deps.watches.list()).filter((w) => canSee(access, w.folder)).map(toWatchView);
    },

    /** Watch an existing folder of the local root (again: its options change). */
    async watch(input: { folder: string; autoClassify?: boolean }, access: Principal): Promise<{ watch: Watch; created: boolean }> {
      assertFolderVisible(access, normalizeRelativePath(input.folder));
      const folder = await deps.docsRoot.resolveFolder(input.folder);
      const r = await deps.watches.upsert({ folder: folder.rel, autoClassify: input.autoClassify ?? false, createdBy: access.keyId });
      return { watch: toWatchView(r.watch), created: r.created };
    },

    async unwatch(id: string, access: Principal): Promise<void> {
      const w = await deps.watches.find(id);
      if (!w || !canSee(access, w.folder) || !(await deps.watches.remove(id))) throw notFound(`Watch not found: ${id}`);
    },
  };
}

export type WatchesService = ReturnType<typeof createWatchesService>;

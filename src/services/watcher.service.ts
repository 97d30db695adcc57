/**
 * Keeping watched folders in sync: filesystem events (chokidar) under each watched folder are
 * debounced and coalesced into small scans of the nearest folder of each changed path, and every
 * watched folder is scanned in full periodically (and when watching starts) to catch what events
 * missed. A scan reads only files whose size or mtime changed, so a quiet folder costs a walk.
 *
 * One process of a deployment runs the watchers: the holder of a leadership lock. The others keep
 * asking, so one takes over when the holder stops.
 */
import path from 'node:path';
import { type FSWatcher, watch as watchTree } from 'chokidar';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors.ts';
import { isWithin, parentOf } from '../domain/paths.ts';
import { isIgnoredFileName } from '../extract/ignored-files.ts';
import type { Leadership } from '../store/leader-lock.ts';
import type { WatchRow } from '../store/watches.repository.ts';
import type { DocsRoot } from './docs-root.ts';

export interface FolderWatcherDeps {
  watches: { list(): Promise<WatchRow[]>; markChecked(ids: string[]): Promise<void> };
  docsRoot: DocsRoot;
  /** Start (or join) a scan of a folder; `created` false: one was already active. */
  startScan(folder: string): Promise<{ created: boolean }>;
  /** Start (or join) a classification of a folder (it scans first when anything changed); absent: no provider. */
  startClassification?(folder: string): Promise<{ created: boolean }>;
  /** Take the deployment's one watcher role, or undefined when another process has it. */
  lead(): Promise<Leadership | undefined>;
  debounceMs: number;
  fullCheckMs: number;
  refreshMs: number;
  log: Logger;
}

interface Watching {
  row: WatchRow;
  fsw: FSWatcher;
  abs: string;
}

export function createFolderWatcher(deps: FolderWatcherDeps) {
  const { log } = deps;
  const active = new Map<string, Watching>();
  /** Folders to scan at the next flush. */
  const pending = new Set<string>();
  let leadership: Leadership | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  let checkTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let flushing: Promise<void> = Promise.resolve();

  const schedule = (delayMs = deps.debounceMs) => {
    if (stopped) return;
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      flushing = flushing.then(flush).catch((err: unknown) => log.warn({ err: String(err) }, 'watch scans could not start; retrying'));
    }, delayMs);
  };

  /** The watch a folder is under (the innermost, whose options apply). */
  const watchOf = (folder: string): Watching | undefined => {
    let best: Watching | undefined;
    for (const w of active.values()) {
      if (isWithin(w.row.folder, folder) && (!best || w.row.folder.length > best.row.folder.length)) best = w;
    }
    return best;
  };

  /** Start one scan (or classification) per folder, outermost first; folders inside another are covered by it. */
  async function flush(): Promise<void> {
    const folders = [...pending].sort();
    pending.clear();
    const chosen: string[] = [];
    for (const f of folders) if (!chosen.some((c) => isWithin(c, f))) chosen.push(f);
    let again = false;
    for (const folder of chosen) {
      const w = watchOf(folder);
      if (!w) continue;
      try {
        const started = await startFor(folder, w);
        // A scan already running may have walked past the change: ask again once it ends.
        if (!started.created) {
          pending.add(folder);
          again = true;
        }
      } catch (err) {
        log.warn({ folder, err: String(err) }, 'watch could not start a scan; retrying');
        pending.add(folder);
        again = true;
      }
    }
    if (again) schedule(Math.max(deps.debounceMs, 500));
  }

  /** Scan the folder, or its nearest ancestor (within the watch) that still exists. */
  async function startFor(folder: string, w: Watching): Promise<{ created: boolean }> {
    for (let f = folder; ; f = parentOf(f)) {
      try {
        if (w.row.autoClassify && deps.startClassification) {
          try {
            return await deps.startClassification(f);
          } catch (err) {
            if (!(err instanceof AppError && err.code === 'provider_not_configured')) throw err;
          }
        }
        return await deps.startScan(f);
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'not_found') || f === w.row.folder || f === '') throw err;
      }
    }
  }

  /** A path changed (a file, or a folder added or removed): its folder is scanned, which covers it either way. */
  function changed(w: Watching, abs: string) {
    const rel = path.relative(deps.docsRoot.root, abs).split(path.sep).join('/');
    let folder = parentOf(rel);
    if (!isWithin(w.row.folder, folder)) folder = w.row.folder;
    pending.add(folder);
    schedule();
  }

  function open(row: WatchRow): Watching {
    const abs = deps.docsRoot.join(row.folder);
    const fsw = watchTree(abs, {
      ignoreInitial: true,
      followSymlinks: false,
      // Hidden and lock files are not documents; hidden folders are not walked (as the scan does).
      ignored: (p: string) => {
        const rel = path.relative(abs, p);
        return rel !== '' && rel.split(path.sep).some((seg) => isIgnoredFileName(seg));
      },
    });
    const w: Watching = { row, fsw, abs };
    fsw.on('all', (_event, p) => changed(w, p));
    fsw.on('error', (err) => log.warn({ folder: row.folder, err: String(err) }, 'watch error; the periodic check covers it'));
    return w;
  }

  async function closeAll(): Promise<void> {
    const all = [...active.values()];
    active.clear();
    await Promise.all(all.map((w) => w.fsw.close()));
  }

  /** One refresh at a time: two concurrent ones would each take a session for the lock. */
  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    refreshing ??= refreshOnce().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  /** Follow the watch list: open new watches (with a full check each), close removed ones. */
  async function refreshOnce(): Promise<void> {
    if (stopped) return;
    if (!leadership) {
      leadership = await deps.lead();
      if (!leadership) return;
      if (stopped) {
        await leadership.release();
        leadership = undefined;
        return;
      }
      log.info('this process runs the folder watchers');
    } else if (!(await leadership.alive())) {
      log.warn('lost the folder watchers role (database connection); closing them');
      leadership = undefined;
      await closeAll();
      return;
    }
    const rows = await deps.watches.list();
    const ids = new Set(rows.map((r) => r.id));
    for (const [id, w] of active) {
      if (!ids.has(id)) {
        active.delete(id);
        await w.fsw.close();
      }
    }
    const opened: string[] = [];
    for (const row of rows) {
      const known = active.get(row.id);
      if (known) {
        known.row = row;
        continue;
      }
      if (!(await deps.docsRoot.fileExists(row.folder))) continue;
      active.set(row.id, open(row));
      pending.add(row.folder);
      opened.push(row.id);
    }
    if (opened.length > 0) {
      await deps.watches.markChecked(opened);
      schedule(0);
    }
  }

  async function fullCheck(): Promise<void> {
    if (!leadership || active.size === 0) return;
    for (const w of active.values()) pending.add(w.row.folder);
    await deps.watches.markChecked([...active.keys()]);
    schedule(0);
  }

  return {
    start(): void {
      const loop = (fn: () => Promise<void>, ms: number, what: string) => {
        const t = setInterval(() => {
          fn().catch((err: unknown) => log.warn({ err: String(err) }, `${what} failed; trying again later`));
        }, ms);
        t.unref();
        return t;
      };
      refresh().catch((err: unknown) => log.warn({ err: String(err) }, 'watch list refresh failed; trying again later'));
      refreshTimer = loop(refresh, deps.refreshMs, 'watch list refresh');
      checkTimer = loop(fullCheck, deps.fullCheckMs, 'periodic watch check');
    },

    /** Folders being watched by this process now (empty when another process runs the watchers). */
    watching(): string[] {
      return [...active.values()].map((w) => w.row.folder).sort();
    },

    async stop(): Promise<void> {
      stopped = true;
      clearInterval(refreshTimer);
      clearInterval(checkTimer);
      if (flushTimer) clearTimeout(flushTimer);
      await refreshing;
      await flushing;
      await closeAll();
      await leadership?.release();
      leadership = undefined;
    },
  };
}

export type FolderWatcher = ReturnType<typeof createFolderWatcher>;

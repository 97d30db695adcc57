/**
 * Watching buckets: a source with `watchIntervalSeconds` gets a scan of its whole prefix when its
 * interval has passed. The scan is incremental (unchanged objects are skipped by size,
 * LastModified and ETag without a download), so a watch of an unchanged bucket costs one listing.
 * Every worker ticks; the claim is one conditional UPDATE of the source's `watched_at`, so in a
 * deployment of any size exactly one process starts each due scan (and an identical scan still
 * running is joined, not repeated: the scan's dedupe key).
 */
import type { Logger } from 'pino';
import { OPEN_ACCESS } from '../domain/access.ts';
import type { SourcesRepository } from '../store/sources.repository.ts';

export interface SourceWatchDeps {
  repo: Pick<SourcesRepository, 'claimDueWatches'>;
  startScan(input: { path: string; access: typeof OPEN_ACCESS }): Promise<unknown>;
  log: Logger;
}

export function createSourceWatch(deps: SourceWatchDeps) {
  return {
    /** Start the scans that are due; returns the sources scanned. */
    async tick(now = new Date()): Promise<string[]> {
      const due = await deps.repo.claimDueWatches(now);
      for (const name of due) {
        try {
          await deps.startScan({ path: name, access: OPEN_ACCESS });
        } catch (err) {
          // The next interval tries again; the claim is not undone, so a broken source is not hammered.
          deps.log.warn({ source: name, err: String(err) }, 'could not start the watch scan of a source');
        }
      }
      if (due.length > 0) deps.log.debug({ sources: due }, 'watch scans started');
      return due;
    },
  };
}

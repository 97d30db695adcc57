/**
 * Scanning a folder: list it (the documents root's walk or a bucket's listing: source-reader.ts), upsert what it finds in batches, enqueue one extraction batch per
 * batch of new or changed files, and finally mark what disappeared. Safe to run again after a
 * crash: the walk is in a stable order, batches are counted once (job_batches), and queue ids
 * are deterministic.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { parentOf } from '../domain/paths.ts';
import { scanJobParamsSchema, type Enqueue } from '../domain/work.ts';
import type { DocumentsRepository } from '../store/documents.repository.ts';
import type { FoldersRepository } from '../store/folders.repository.ts';
import type { JobsRepository } from '../store/jobs.repository.ts';
import type { ResolvedSourceFolder } from './source-registry.ts';
import type { SourceEntry } from './source-reader.ts';

export interface ScanServiceDeps {
  jobs: JobsRepository;
  documents: DocumentsRepository;
  folders: FoldersRepository;
  /** Which source a folder is in, and its reader. */
  sources: { resolveFolder(rel: string): Promise<ResolvedSourceFolder> };
  enqueue: Enqueue;
  /** Files per upsert and per extraction batch. */
  batchSize: number;
}

/** The walk stopped because the worker is shutting down; the scan resumes on another worker. */
export class ScanInterrupted extends Error {
  override name = 'ScanInterrupted';
}

export function createScanService(deps: ScanServiceDeps) {
  const { jobs, documents, folders, sources } = deps;

  /** A retry: extract again exactly the documents that failed, with no walk. */
  async function extractAgain(jobId: string, ids: string[]): Promise<void> {
    for (let i = 0, no = 0; i < ids.length; i += deps.batchSize, no++) {
      const batch = ids.slice(i, i + deps.batchSize);
      await jobs.openBatch(jobId, no, batch.length, 0);
      await deps.enqueue('extract', { jobId, batchNo: no, documentIds: batch });
    }
    await jobs.finishDiscovery(jobId);
  }

  return {
    /** Run the scan job `jobId` (a no-op when it was cancelled or has ended). */
    async run(jobId: string, signal: AbortSignal, log: Logger): Promise<void> {
      const job = await jobs.markRunning(jobId);
      if (!job) return;
      const rel = job.folderPath ?? '';
      let folder: ResolvedSourceFolder;
      try {
        folder = await sources.resolveFolder(rel);
      } catch (err) {
        await jobs.fail(job.id, 'folder_unavailable', err instanceof Error ? err.message : String(err));
        return;
      }
      const startedAt = job.startedAt ?? new Date();
      const retryIds = scanJobParamsSchema.parse(job.params).documentIds;
      if (retryIds) return extractAgain(job.id, retryIds);

      let batchNo = 0;
      let batch: SourceEntry[] = [];
      let seenFolders: string[] = [];
      let ignored = 0;
      // What this walk found against the rows of the last one (a resumed walk counts from its restart).
      let added = 0;
      let changed = 0;

      const flush = async () => {
        if (batch.length === 0 && seenFolders.length === 0) return;
        await folders.upsertSeen(seenFolders, job.id);
        seenFolders = [];
        if (batch.length === 0) return;
        const files = batch;
        batch = [];
        const rows = await documents.upsertSeen(
          files.map((f) => ({
            path: f.rel,
            folder: parentOf(f.rel),
            name: f.name,
            extension: path.extname(f.name).slice(1).toLowerCase(),
            size: f.size,
            mtime: f.mtime,
            etag: f.etag,
          })),
          job.id,
        );
        const toExtract = rows.filter((r) => !r.unchanged).map((r) => r.id);
        for (const r of rows) {
          if (r.inserted) added++;
          else if (!r.unchanged) changed++;
        }
        const no = batchNo++;
        await jobs.openBatch(job.id, no, rows.length, rows.length - toExtract.length);
        if (toExtract.length > 0) {
          await deps.enqueue('extract', { jobId: job.id, batchNo: no, documentIds: toExtract });
        }
      };

      // A bucket that cannot be listed throws a coded JobFailure here, before anything is marked deleted.
      const listing = folder.reader.list(
        folder.rel,
        {
          onFolder: (f) => seenFolders.push(f),
          onIgnored: () => {
            ignored++;
          },
        },
        new Set(folder.otherSources),
      );
      for await (const file of listing) {
        if (signal.aborted) throw new ScanInterrupted('Scan interrupted by shutdown; it resumes on another worker');
        batch.push(file);
        if (batch.length >= deps.batchSize) {
          await flush();
          // Cancelled: stop walking at this safe point (every batch so far is whole).
          if (!(await jobs.isActive(job.id))) return;
        }
      }
      await flush();
      const deleted = await documents.markDeletedNotSeenSince(folder.rel, startedAt, job.id, folder.otherSources);
      await folders.markScanned(folder.rel, job.id);
      // The folder is read as soon as its job ends: with plans made for the rows it has now.
      await documents.refreshStatistics(added + changed + deleted).catch((err: unknown) => log.warn({ err: String(err) }, 'statistics not refreshed'));
      // Before discovery ends: the job can complete with it, and its documents.changed event reads these.
      await jobs.mergeStats(job.id, { documents: { added, changed, deleted } });
      await jobs.finishDiscovery(job.id);
      log.info({ jobId: job.id, folder: folder.rel, batches: batchNo, ignored, added, changed, deleted }, 'scan walked');
    },
  };
}

export type ScanService = ReturnType<typeof createScanService>;

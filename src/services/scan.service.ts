/**
 * Scanning a folder: walk it, upsert what it finds in batches, enqueue one extraction batch per
 * batch of new or changed files, and finally mark what disappeared. Safe to run again after a
 * crash: the walk is in a stable order, batches are counted once (job_batches), and queue ids
 * are deterministic.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { parentOf } from '../domain/paths.ts';
import { scanJobParamsSchema, type Enqueue } from '../domain/work.ts';
import { isIgnoredFileName } from '../extract/ignored-files.ts';
import type { DocumentsRepository } from '../store/documents.repository.ts';
import type { FoldersRepository } from '../store/folders.repository.ts';
import type { JobsRepository } from '../store/jobs.repository.ts';
import type { DocsRoot } from './docs-root.ts';
import { walkFiles, type WalkedFile } from './walk.ts';

export interface ScanServiceDeps {
  jobs: JobsRepository;
  documents: DocumentsRepository;
  folders: FoldersRepository;
  docsRoot: DocsRoot;
  enqueue: Enqueue;
  /** Files per upsert and per extraction batch. */
  batchSize: number;
  /** Read files with several hard links (off: they could be a file outside the root). */
  allowHardlinks: boolean;
}

/** The walk stopped because the worker is shutting down; the scan resumes on another worker. */
export class ScanInterrupted extends Error {
  override name = 'ScanInterrupted';
}

export function createScanService(deps: ScanServiceDeps) {
  const { jobs, documents, folders, docsRoot } = deps;

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
      let folder: { abs: string; rel: string };
      try {
        folder = await docsRoot.resolveFolder(rel);
      } catch (err) {
        await jobs.fail(job.id, 'folder_unavailable', err instanceof Error ? err.message : String(err));
        return;
      }
      const startedAt = job.startedAt ?? new Date();
      const retryIds = scanJobParamsSchema.parse(job.params).documentIds;
      if (retryIds) return extractAgain(job.id, retryIds);

      let batchNo = 0;
      let batch: WalkedFile[] = [];
      let seenFolders: string[] = [];
      let ignored = 0;

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
          })),
          job.id,
        );
        const toExtract = rows.filter((r) => !r.unchanged).map((r) => r.id);
        const no = batchNo++;
        await jobs.openBatch(job.id, no, rows.length, rows.length - toExtract.length);
        if (toExtract.length > 0) {
          await deps.enqueue('extract', { jobId: job.id, batchNo: no, documentIds: toExtract });
        }
      };

      for await (const file of walkFiles(folder.abs, folder.rel, isIgnoredFileName, {
        onFolder: (f) => seenFolders.push(f),
        onIgnored: () => {
          ignored++;
        },
        allowHardlinks: deps.allowHardlinks,
      })) {
        if (signal.aborted) throw new ScanInterrupted('Scan interrupted by shutdown; it resumes on another worker');
        batch.push(file);
        if (batch.length >= deps.batchSize) {
          await flush();
          // Cancelled: stop walking at this safe point (every batch so far is whole).
          if (!(await jobs.isActive(job.id))) return;
        }
      }
      await flush();
      const deleted = await documents.markDeletedNotSeenSince(folder.rel, startedAt, job.id);
      await folders.markScanned(folder.rel, job.id);
      await jobs.finishDiscovery(job.id);
      log.info({ jobId: job.id, folder: folder.rel, batches: batchNo, ignored, deleted }, 'scan walked');
    },
  };
}

export type ScanService = ReturnType<typeof createScanService>;

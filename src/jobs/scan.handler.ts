/**
 * The scan job: walk the folder, upsert what it finds in batches, enqueue one extraction job per
 * batch of new or changed files, and finally mark what disappeared. Safe to run again after a
 * crash: the walk is in a stable order, batches are counted once (job_batches), and queue ids
 * are deterministic.
 */
import path from 'node:path';
import { isIgnoredFileName } from '../extract/index.ts';
import { parentOf } from '../domain/paths.ts';
import { walkFiles, type WalkedFile } from '../services/walk.ts';
import type { JobPayloads } from './definitions.ts';
import type { PipelineDeps } from './pipeline.ts';

export async function runScan(deps: PipelineDeps, payload: JobPayloads['scan'], signal: AbortSignal): Promise<void> {
  const { jobs, documents, folders, docsRoot, log } = deps;
  const job = await jobs.markRunning(payload.jobId);
  if (!job) return; // cancelled or already finished
  const rel = job.folderPath ?? '';
  let folder: { abs: string; rel: string };
  try {
    folder = await docsRoot.resolveFolder(rel);
  } catch (err) {
    await jobs.fail(job.id, 'folder_unavailable', err instanceof Error ? err.message : String(err));
    return;
  }
  const startedAt = job.startedAt ?? new Date();
  const retryIds = Array.isArray(job.params.documentIds) ? (job.params.documentIds as string[]) : undefined;
  if (retryIds) {
    // A retry: extract again exactly the documents that failed, no walk.
    for (let i = 0, no = 0; i < retryIds.length; i += deps.batchSize, no++) {
      const ids = retryIds.slice(i, i + deps.batchSize);
      await jobs.openBatch(job.id, no, ids.length, 0);
      await deps.enqueue('extract', { jobId: job.id, batchNo: no, documentIds: ids });
    }
    await jobs.finishDiscovery(job.id);
    return;
  }
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
    if (signal.aborted) throw new Error('Scan interrupted by shutdown; it resumes on another worker');
    batch.push(file);
    if (batch.length >= deps.batchSize) {
      await flush();
      // Cancelled: stop walking at this safe point (every batch so far is whole).
      if (!(await jobs.isActive(job.id))) return;
    }
  }
  await flush();
  const deleted = await documents.markDeletedNotSeenSince(folder.rel, startedAt);
  await folders.markScanned(folder.rel, job.id);
  await jobs.finishDiscovery(job.id);
  log.info({ jobId: job.id, folder: folder.rel, batches: batchNo, ignored, deleted }, 'scan walked');
}

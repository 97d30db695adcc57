/**
 * Scanning a folder: list it (the documents root's walk or a bucket's listing: source-reader.ts),
 * compare the listing with the store folder by folder in chunks (one read per chunk; nothing is
 * written for a file with the size, mtime and ETag of its last extraction), upsert only new,
 * changed and restored files, enqueue extraction batches for them, and once the listing is
 * complete mark what it did not find: known files missing from a folder it compared, and every
 * file of a folder it never entered. The walk's first extraction batches are small
 * (scanBatchSize), so its first documents are written, and can be classified, early. Safe to run again after a crash: the listing is in a stable
 * order, so its chunks are too; a chunk's batches are counted once (job_batches), and queue ids
 * are deterministic. */
import path from 'node:path';
import type { Logger } from 'pino';
import { parentOf } from '../domain/paths.ts';
import { scanJobParamsSchema, type Enqueue } from '../domain/work.ts';
import type { DocumentsRepository } from '../store/documents.repository.ts';
import type { FoldersRepository } from '../store/folders.repository.ts';
import type { JobsRepository, OpenedBatch } from '../store/jobs.repository.ts';
import { unchangedSinceExtraction } from '../domain/documents.ts';
import { createFolderParts, type FolderPart } from './folder-parts.ts';
import type { ResolvedSourceFolder } from './source-registry.ts';
import type { SourceEntry } from './source-reader.ts';

/** Files compared with the store per read (and folders, when they hold few files): a chunk's new and changed files share batches, so few files changed in many folders make few queue jobs. */
const CHUNK_FILES = 5000;
const CHUNK_PARTS = 500;
/** Files of one folder held before they are compared (folder-parts.ts). */
const PART_FILES = 2000;

/** A listed file as the scan's upsert records it. */
const seenFile = (f: SourceEntry) => ({
  path: f.rel,
  folder: parentOf(f.rel),
  name: f.name,
  extension: path.extname(f.name).slice(1).toLowerCase(),
  size: f.size,
  mtime: f.mtime,
  etag: f.etag,
});

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

/** The first batch of a walk holds this many files; each next one twice as many, up to the batch size. */
const FIRST_BATCH_FILES = 16;
/** Batch numbers a chunk may use beyond its full batches: the first chunk's small ones (16 · 2^k up to 2^20). */
const RAMP_BATCHES = 21;

/**
 * Files in batch `batchNo` of a walk (the same on every run of the walk): the first batches are
 * small, so the first documents are extracted and written (and can be classified or searched)
 * while the rest of the folder is still being parsed, instead of after a whole batch of it.
 */
export function scanBatchSize(batchNo: number, batchSize: number): number {
  return Math.min(batchSize, FIRST_BATCH_FILES * 2 ** Math.min(batchNo, 20));
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
      const retryIds = scanJobParamsSchema.parse(job.params).documentIds;
      if (retryIds) return extractAgain(job.id, retryIds);

      // Chunks of the listing are compared with the store folder by folder (folder-parts.ts): an
      // unchanged file costs a row read, and nothing is written for it.
      const parts = createFolderParts(PART_FILES);
      const visited = new Set<string>();
      let seenFolders: string[] = [];
      /** Known files the listing did not find: marked deleted once the listing is complete. */
      const gone = new Set<string>();
      // A resumed walk leaves the chunks an earlier walk of this job counted as they are (same listing, same chunks).
      const opened = await jobs.openedBatches(job.id);
      const stride = Math.ceil((CHUNK_FILES + PART_FILES) / deps.batchSize) + 1 + RAMP_BATCHES;
      let chunkNo = 0;
      let batches = 0;
      /** Files of chunks with nothing to extract, counted (as skipped) once at the end. */
      let unchangedRest = 0;
      let ignored = 0;
      // What this walk found against the rows of the last one (a resumed walk counts from its restart).
      let added = 0;
      let changed = 0;

      /**
       * A chunk an earlier walk of this job opened keeps its batches; those not written yet are sent
       * again (their queue jobs may be lost: Redis restarted empty, a worker killed). A written
       * batch's files are unchanged since their extraction, so the files still to extract are the
       * unwritten batches' files, in listing order: each takes back as many as it opened with.
       */
      const resend = async (earlier: OpenedBatch[], toExtract: string[], end: number) => {
        let at = 0;
        for (const b of earlier) {
          if (b.completed) continue;
          const ids = toExtract.slice(at, at + b.total - b.skipped);
          at += ids.length;
          if (ids.length > 0) await deps.enqueue('extract', { jobId: job.id, batchNo: b.batchNo, documentIds: ids });
        }
        // Files that appeared in the chunk since the earlier walk get a batch of their own after its last.
        const rest = toExtract.slice(at);
        const next = (earlier.at(-1)?.batchNo ?? end) + 1;
        if (rest.length > 0 && next < end) {
          await jobs.openBatch(job.id, next, rest.length, 0);
          await deps.enqueue('extract', { jobId: job.id, batchNo: next, documentIds: rest });
        }
      };

      const compare = async (chunk: FolderPart[], seen: string[], no: number) => {
        await folders.upsertSeen(seen, job.id);
        const entries = chunk.flatMap((p) => p.entries);
        const known = await documents.knownFiles(chunk.map((p) => ({ folder: p.folder, after: p.after, upTo: p.upTo })));
        const byPath = new Map(known.map((k) => [k.path, k]));
        const listed = new Set<string>();
        const toWrite: SourceEntry[] = [];
        let unchanged = 0;
        for (const e of entries) {
          const k = byPath.get(e.rel);
          if (k) listed.add(k.id);
          if (k && !k.deleted && unchangedSinceExtraction(k, e)) unchanged++;
          else toWrite.push(e);
        }
        for (const k of known) if (!k.deleted && !listed.has(k.id)) gone.add(k.id);
        // New, changed and restored files only (a file listed out of name order is found known here).
        const rows = await documents.upsertSeen(toWrite.map(seenFile), job.id);
        const toExtract: string[] = [];
        for (const r of rows) {
          gone.delete(r.id);
          if (r.unchanged) unchanged++;
          else toExtract.push(r.id);
          if (r.inserted) added++;
          else if (!r.unchanged) changed++;
        }
        if (entries.length === 0) return;
        const earlier = opened.filter((b) => b.batchNo >= no * stride && b.batchNo < (no + 1) * stride);
        if (earlier.length > 0) return resend(earlier, toExtract, (no + 1) * stride);
        if (toExtract.length === 0) {
          unchangedRest += entries.length;
          return;
        }
        // The chunk's unchanged files are counted with its first batch.
        // The walk's first chunk starts with small batches (scanBatchSize); later chunks use full ones.
        for (let i = 0, j = 0, size = 0; i < toExtract.length; i += size, j++) {
          size = no === 0 ? scanBatchSize(j, deps.batchSize) : deps.batchSize;
          const ids = toExtract.slice(i, i + size);
          const extra = j === 0 ? unchanged : 0;
          await jobs.openBatch(job.id, no * stride + j, ids.length + extra, extra);
          await deps.enqueue('extract', { jobId: job.id, batchNo: no * stride + j, documentIds: ids });
          batches++;
        }
      };

      // A bucket that cannot be listed throws a coded JobFailure here, before anything is marked deleted.
      const listing = folder.reader.list(
        folder.rel,
        {
          onFolder: (f) => {
            seenFolders.push(f);
            visited.add(f);
            parts.folder(f);
          },
          onIgnored: () => {
            ignored++;
          },
        },
        new Set(folder.otherSources),
      );
      /**
       * Compare the parts handed over so far (taken now, in listing order) while the listing goes
       * on; resolves whether the job is still active. The listing (pages from a bucket, stats on
       * disk) and the compare (the store) wait on different things, so they overlap.
       */
      const compareNext = (): Promise<boolean> => {
        const chunk = parts.take();
        const seen = seenFolders;
        seenFolders = [];
        const done = compare(chunk, seen, chunkNo++).then(() => jobs.isActive(job.id));
        // Reported where it is awaited (the next chunk's turn, the end, or a failed listing).
        done.catch(() => undefined);
        return done;
      };
      /** The chunk being compared: one at a time, in order, so at most two chunks are held. */
      let comparing: Promise<boolean> | null = null;
      try {
        for await (const file of listing) {
          if (signal.aborted) throw new ScanInterrupted('Scan interrupted by shutdown; it resumes on another worker');
          parts.file(file);
          const waiting = parts.waiting;
          if (waiting.entries >= CHUNK_FILES || waiting.parts >= CHUNK_PARTS) {
            // Cancelled: stop walking at this safe point (every chunk so far is whole).
            if (comparing && !(await comparing)) return;
            comparing = compareNext();
          }
        }
      } catch (err) {
        // A listing that fails (or a shutdown) leaves no compare running behind the job's back.
        await comparing?.catch(() => undefined);
        throw err;
      }
      if (comparing && !(await comparing)) return;
      parts.end();
      await compareNext();
      const deleted = await documents.markGoneAfterListing(folder.rel, { ids: [...gone], visited: [...visited] }, job.id, folder.otherSources);
      if (unchangedRest > 0) await jobs.openBatch(job.id, chunkNo * stride, unchangedRest, unchangedRest);
      await folders.markScanned(folder.rel, job.id);
      // The folder is read as soon as its job ends: with plans made for the rows it has now.
      await documents.refreshStatistics(added + changed + deleted).catch((err: unknown) => log.warn({ err: String(err) }, 'statistics not refreshed'));
      // Before discovery ends: the job can complete with it, and its documents.changed event reads these.
      await jobs.mergeStats(job.id, { documents: { added, changed, deleted } });
      await jobs.finishDiscovery(job.id);
      log.info({ jobId: job.id, folder: folder.rel, batches, ignored, added, changed, deleted }, 'scan walked');
    },
  };
}

export type ScanService = ReturnType<typeof createScanService>;

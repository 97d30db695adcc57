/**
 * Extracting a batch of documents: parse each in the extraction pool, then write every outcome,
 * the batch's completion and the job's counters in one transaction, so a batch counts exactly
 * once however often its queue job runs.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { fileMtime } from '../domain/paths.ts';
import type { JobPayloads } from '../domain/work.ts';
import type { ExtractionPool } from '../extract/pool.ts';
import type { ExtractionResult, ExtractLimits } from '../extract/types.ts';
import type { DocumentsRepository, DocumentUpdate } from '../store/documents.repository.ts';
import type { FailureRow, JobsRepository } from '../store/jobs.repository.ts';
import type { UnitOfWork } from '../store/unit-of-work.ts';
import type { DocsRoot } from './docs-root.ts';

/** Counts of one finished batch, for metrics. */
export interface BatchCounts {
  done: number;
  failures: FailureRow[];
  skipped: number;
}

export interface ExtractionServiceDeps {
  jobs: JobsRepository;
  documents: DocumentsRepository;
  unitOfWork: UnitOfWork;
  docsRoot: DocsRoot;
  pool: ExtractionPool;
  limits: ExtractLimits;
  /** Told of every batch that this process completed. */
  onBatchDone?(counts: BatchCounts): void;
}

/** PostgreSQL text cannot hold NUL; documents sometimes do. */
const stripNul = (s: string) => (s.includes('\0') ? s.replaceAll('\0', '') : s);

function cleanJson(value: unknown): unknown {
  if (typeof value === 'string') return stripNul(value);
  if (Array.isArray(value)) return value.map(cleanJson);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[stripNul(k)] = cleanJson(v);
    return out;
  }
  return value;
}

function validDate(s: string | undefined): string | null {
  if (!s) return null;
  const t = Date.parse(s);
  // Producers write year 1601 or 9999 placeholders; keep only plausible dates.
  if (Number.isNaN(t) || t < Date.UTC(1970, 0, 1) || t > Date.UTC(2200, 0, 1)) return null;
  return new Date(t).toISOString();
}

function toUpdate(id: string, size: number, mtime: Date, sha256: string, r: ExtractionResult): DocumentUpdate {
  const p = r.properties;
  const supported = r.format !== 'other' && r.format !== 'image' && r.format !== 'zip';
  return {
    id,
    status: supported ? 'extracted' : 'unsupported',
    size,
    mtime,
    sha256,
    mimeType: r.mimeType,
    format: r.format,
    title: p.title ? stripNul(p.title).slice(0, 1000) : null,
    author: p.creator ? stripNul(p.creator).slice(0, 500) : null,
    docCreated: validDate(p.created),
    docModified: validDate(p.modified),
    language: r.language ?? null,
    pageCount: p.pages ?? null,
    wordCount: r.counts?.words ?? p.words ?? null,
    metadata: cleanJson({
      properties: p,
      raw: r.raw,
      counts: r.counts ?? {},
      structure: r.structure ?? {},
      parts: r.parts ?? {},
      warnings: r.warnings ?? [],
    }) as Record<string, unknown>,
    text: stripNul(r.text),
    textTruncated: r.textTruncated,
  };
}

export function createExtractionService(deps: ExtractionServiceDeps) {
  const { jobs, documents, pool, limits } = deps;

  return {
    /** Extract one batch (a no-op when the batch was completed by an earlier run or its job ended). */
    async runBatch(payload: JobPayloads['extract'], log: Logger): Promise<void> {
      if (!(await jobs.shouldRunBatch(payload.jobId, payload.batchNo))) return;
      const targets = await documents.loadForExtraction(payload.documentIds);
      const updates: DocumentUpdate[] = [];
      const failures: FailureRow[] = [];
      const missing: string[] = [];
      let done = 0;
      let skipped = 0;

      await Promise.all(
        targets.map(async (doc) => {
          const abs = deps.docsRoot.join(doc.path);
          const st = await stat(abs).catch(() => null);
          if (!st?.isFile()) {
            missing.push(doc.id);
            return;
          }
          const mtime = fileMtime(st);
          const fail = (code: string, message: string, sha256: string | null = null) => {
            updates.push({ id: doc.id, status: 'failed', size: st.size, mtime, sha256, mimeType: null, format: null, errorCode: code, errorMessage: message });
            failures.push({ documentId: doc.id, path: doc.path, code, message });
          };
          if (st.size > limits.maxFileBytes) {
            fail('too_large', `File is ${st.size} bytes; the limit is ${limits.maxFileBytes}`);
            return;
          }
          const previous = doc.status === 'extracted' || doc.status === 'unsupported' ? doc.sha256 : null;
          const outcome = await pool.run({ path: abs, previousSha256: previous, limits });
          switch (outcome.kind) {
            case 'missing':
              missing.push(doc.id);
              return;
            case 'unchanged':
              updates.push({ id: doc.id, status: 'unchanged', size: outcome.size, mtime });
              skipped++;
              return;
            case 'failed':
              fail(outcome.code, outcome.message, outcome.sha256);
              return;
            case 'extracted':
              updates.push(toUpdate(doc.id, outcome.size, mtime, outcome.sha256, outcome.result));
              done++;
              return;
          }
        }),
      );

      // Files gone since the scan saw them are not documents any more: skipped, and marked deleted.
      // Ids that no longer exist at all (never expected) are skipped too, so the batch still adds up.
      skipped += missing.length + (payload.documentIds.length - targets.length);
      await deps.unitOfWork.run(async (tx) => {
        // Completing the batch first (row-locked) decides which of two overlapping runs of the same
        // batch (a lost lease, a stalled job whose worker lives on) writes: only the first one.
        const first = await jobs.completeBatch(tx, payload.jobId, payload.batchNo, { done, failed: failures.length, skipped }, failures);
        if (first) await documents.applyExtraction(tx, updates);
      });
      await documents.markDeleted(missing);
      deps.onBatchDone?.({ done, failures, skipped });
      log.debug(
        { jobId: payload.jobId, batchNo: payload.batchNo, documents: payload.documentIds.length, done, failed: failures.length, skipped },
        'extract batch done',
      );
    },
  };
}

export type ExtractionService = ReturnType<typeof createExtractionService>;

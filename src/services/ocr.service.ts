/**
 * The OCR stage: read the pages of one document that have no usable text, page by page, and write
 * the text back with where it came from, how confident the engine was and in which languages.
 * It runs after extraction on its own queue (OCR_CONCURRENCY), so born-digital documents never
 * wait for it. A document whose OCR fails keeps everything extraction found and fails this stage
 * alone, with a code; a cancelled job stops between pages.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { OCR_FAILURE_CODES, type OcrFailureCode } from '../domain/vocabulary.ts';
import type { JobPayloads } from '../domain/work.ts';
import type { ExtractLimits } from '../extract/types.ts';
import type { JobsRepository } from '../store/jobs.repository.ts';
import type { OcrState } from '../store/documents.repository.ts';
import type { OcrApplied, OcrKey, OcrReading, OcrRepository, OcrTarget } from '../store/ocr.repository.ts';
import type { UnitOfWork } from '../store/unit-of-work.ts';
import type { SourceReader } from './source-reader.ts';
import type { CpuBoundJobs } from './cpu-bound-jobs.ts';
import type { OcrPolicy } from './ocr-policy.ts';

/** One page as the engine read it. */
export interface PageReading {
  text: string;
  /** Mean word confidence, 0-100 (null: no words on the page). */
  confidence: number | null;
  words: number;
}

/**
 * The OCR engine as this stage uses it (src/ocr/ behind an adapter). Errors it throws carry a
 * `code` from OCR_FAILURE_CODES where it knows why.
 */
export interface OcrEngine {
  /** Open a PDF or an image (a multi-page TIFF has several pages) to read page after page. */
  open(bytes: Uint8Array, kind: 'pdf' | 'image'): Promise<OcrDocument>;
  /** The bytes of a document inside a file (an attachment, an archive entry), by index path. */
  readEmbedded(fileBytes: Uint8Array, at: number[], limits: ExtractLimits): Promise<Uint8Array>;
}

export interface OcrDocument {
  /** Read page `pageNo` (1-based). */
  readPage(pageNo: number, options: { languages: string[]; timeoutMs: number; signal: AbortSignal }): Promise<PageReading>;
  /** The text layer of every page, in order (none for an image). */
  pageTexts(): Promise<string[]>;
  close(): Promise<void>;
}

export interface OcrServiceDeps {
  jobs: JobsRepository;
  ocr: OcrRepository;
  unitOfWork: UnitOfWork;
  /** The source a document's path is in (the documents root or a bucket). */
  sources: { readerFor(path: string): Promise<SourceReader> };
  engine: OcrEngine;
  policy: OcrPolicy;
  limits: ExtractLimits;
  /**
   * Born-digital documents keep their throughput while scans are read: before each page the stage
   * waits while this process runs CPU-bound jobs, but never longer than `maxWaitMs` (so OCR always
   * moves: a page at least that often). Absent: pages are read without waiting.
   */
  yieldTo?: { jobs: Pick<CpuBoundJobs, 'busy' | 'whenQuiet'>; maxWaitMs: number; checkEveryMs?: number };
}

/** The worker is stopping: the document goes back to the queue and is read again from its first page. */
export class OcrInterrupted extends Error {
  override name = 'OcrInterrupted';
}

function failureCode(err: unknown): OcrFailureCode {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (OCR_FAILURE_CODES as readonly string[]).includes(code) ? (code as OcrFailureCode) : 'ocr_failed';
}

/** Is the job cancelled? Asked between pages, at most every 500 ms. */
function cancellation(jobs: JobsRepository, jobId: string) {
  let at = 0;
  let cancelled = false;
  return async () => {
    if (!cancelled && Date.now() - at > 500) {
      at = Date.now();
      cancelled = !(await jobs.isActive(jobId));
    }
    return cancelled;
  };
}

export function createOcrService(deps: OcrServiceDeps) {
  const { jobs, ocr, policy, engine } = deps;

  /**
   * Wait while CPU-bound jobs run in this process, up to the starvation cap. The wait is cut in
   * short slices so a cancelled job or a stopping worker ends it as either ends a document
   * between pages (the caller looks at both next).
   */
  async function giveWay(cancelled: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
    const y = deps.yieldTo;
    if (!y) return;
    const until = Date.now() + y.maxWaitMs;
    while (y.jobs.busy && !signal.aborted) {
      const left = until - Date.now();
      if (left <= 0) break;
      await y.jobs.whenQuiet(Math.min(left, y.checkEveryMs ?? 500), signal);
      if (await cancelled()) return;
    }
  }

  async function bytesOf(t: OcrTarget): Promise<Uint8Array> {
    const file = await (await deps.sources.readerFor(t.filePath)).readAll(t.filePath, deps.limits.maxFileBytes);
    return t.embeddedAt ? engine.readEmbedded(file, t.embeddedAt, deps.limits) : file;
  }

  /** The pages the job counts for this document (as extraction planned them). */
  const planned = (t: OcrTarget) => policy.pagesToRead(t.need?.pages ?? []).length;

  /**
   * End this document's OCR with `result` and count it done for the job, in one unit of work;
   * its pages not read (cached, failed, cancelled) count as done too, so the job's pages add up.
   */
  async function finish(t: OcrTarget, jobId: string, pagesRead: number, result: OcrApplied | { failed: OcrState }, save?: { key: OcrKey; reading: OcrReading }): Promise<void> {
    const ended = await deps.unitOfWork.run(async (tx) => {
      if (!(await ocr.apply(tx, t.id, jobId, result))) return false;
      if (save) await ocr.save(tx, save.key, save.reading);
      await jobs.ocrDocumentDone(tx, jobId);
      return true;
    });
    const rest = planned(t) - pagesRead;
    if (ended && rest > 0) await jobs.ocrPagesRead(jobId, rest);
  }

  return {
    /** Read one document (a no-op when it no longer waits for this job's OCR). */
    async run(payload: JobPayloads['ocr'], signal: AbortSignal, log: Logger): Promise<void> {
      const t = await ocr.target(payload.documentId);
      if (!t || t.ocrStatus !== 'pending' || t.ocrJobId !== payload.jobId || !t.sha256) return;
      let pagesRead = 0;
      const fail = (code: OcrFailureCode, message: string) =>
        finish(t, payload.jobId, pagesRead, { failed: { ...policy.skipped(code, message), status: code === 'cancelled' ? 'skipped' : 'failed' } });
      const cancelled = cancellation(jobs, payload.jobId);
      if (await cancelled()) return fail('cancelled', 'The job was cancelled before OCR read this document');

      let bytes: Uint8Array;
      try {
        bytes = await bytesOf(t);
      } catch (err) {
        return fail(failureCode(err), `Could not read the document again for OCR: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (createHash('sha256').update(bytes).digest('hex') !== t.sha256) {
        // Changed since extraction: the next scan extracts it again and decides anew.
        return fail('ocr_failed', 'The document changed after extraction; the next scan reads it again');
      }
      const key = await policy.key(t.sha256);
      const known = (await ocr.cached([key])).get(t.sha256);
      if (known) return finish(t, payload.jobId, 0, policy.applied(known));

      const need = t.need;
      if (!need) return fail('ocr_failed', 'Extraction recorded no pages to read');
      const kind = t.format === 'pdf' ? 'pdf' : 'image';
      const pages = policy.pagesToRead(need.pages);
      const warnings: string[] = [];
      if (pages.length < need.pages.length) {
        warnings.push(`OCR read ${pages.length} of ${need.pages.length} pages without text (OCR_MAX_PAGES)`);
      }
      const read = new Map<number, PageReading>();
      let layer: string[] = [];
      let doc: OcrDocument | undefined;
      try {
        doc = await engine.open(bytes, kind);
        for (const pageNo of pages) {
          await giveWay(cancelled, signal);
          if (signal.aborted) throw new OcrInterrupted('Worker stopping: OCR of the document resumes on another worker');
          if (await cancelled()) return await fail('cancelled', `The job was cancelled after ${read.size} of ${pages.length} pages`);
          read.set(pageNo, await doc.readPage(pageNo, { languages: policy.settings.languages, timeoutMs: policy.settings.pageTimeoutMs, signal }));
          await jobs.ocrPagesRead(payload.jobId, 1);
          pagesRead++;
        }
        layer = await doc.pageTexts();
      } catch (err) {
        if (err instanceof OcrInterrupted || signal.aborted) throw err;
        const code = failureCode(err);
        log.warn({ documentId: t.id, code, err: err instanceof Error ? err.message : String(err) }, 'OCR failed');
        return await fail(code, err instanceof Error ? err.message : String(err));
      } finally {
        await doc?.close().catch(() => undefined);
      }

      // The document's text in page order: OCR where the page had none, its text layer elsewhere.
      const count = Math.max(need.pageCount, layer.length, ...pages);
      const texts: string[] = [];
      let fromLayer = false;
      for (let p = 1; p <= count; p++) {
        const ocrPage = read.get(p);
        if (ocrPage) texts.push(ocrPage.text.trim());
        else if (!need.pages.includes(p) && layer[p - 1]?.trim()) {
          texts.push((layer[p - 1] ?? '').trim());
          fromLayer = true;
        }
      }
      const readings = [...read.values()];
      const words = readings.reduce((n, r) => n + r.words, 0);
      const confidence = words > 0 ? readings.reduce((n, r) => n + (r.confidence ?? 0) * r.words, 0) / words : null;
      const reading = {
        text: texts.filter(Boolean).join('\n\n').slice(0, deps.limits.maxTextChars),
        textSource: fromLayer ? ('mixed' as const) : ('ocr' as const),
        pages: read.size,
        confidence: confidence === null ? null : Math.round(confidence * 10) / 10,
      };
      await finish(t, payload.jobId, pagesRead, policy.applied(reading, warnings), { key, reading });
      log.debug({ documentId: t.id, pages: read.size, confidence: reading.confidence }, 'OCR read a document');
    },
  };
}

export type OcrService = ReturnType<typeof createOcrService>;

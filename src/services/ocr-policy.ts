/**
 * What the pipeline does about OCR, in one place for the extraction and the OCR stage: whether a
 * document is read at all, the cache key of a reading, and what a reading changes on a document.
 */
import { isWithin, normalizeRelativePath } from '../domain/paths.ts';
import type { PiiKind } from '../domain/vocabulary.ts';
import { scanText } from '../extract/minhash.ts';
import { detectLanguage } from '../extract/text-stats.ts';
import { detectPersonalData } from '../pii/index.ts';
import type { OcrState } from '../store/documents.repository.ts';
import type { OcrApplied, OcrKey, OcrReading } from '../store/ocr.repository.ts';

export interface OcrSettings {
  enabled: boolean;
  /** Tesseract language codes, in order. */
  languages: string[];
  /** Only documents inside these folders are read (empty: every folder). */
  folders: string[];
  maxPages: number;
  pageTimeoutMs: number;
  /** Mean word confidence (0-100) under which the text is flagged. */
  lowConfidence: number;
  /** Personal data looked for in what OCR reads, as extraction looks for it (none: off). */
  piiKinds?: readonly PiiKind[];
}

/**
 * `engineId` names the engine and its language data for the cache key; it is asked only when a
 * document needs OCR, so a worker that never meets a scan never loads an engine.
 */
export function createOcrPolicy(settings: OcrSettings, engineId: () => Promise<string>) {
  const folders = settings.folders.map((f) => normalizeRelativePath(f));
  const languages = settings.languages.join('+');
  return {
    settings,
    /** Is OCR on for a document at this path? */
    appliesTo(path: string): boolean {
      return settings.enabled && (folders.length === 0 || folders.some((f) => isWithin(f, path)));
    },
    async key(sha256: string): Promise<OcrKey> {
      return { sha256, languages, engine: await engineId() };
    },
    /** The pages to read of those extraction found unreadable, within OCR_MAX_PAGES. */
    pagesToRead(pages: number[]): number[] {
      return pages.slice(0, settings.maxPages);
    },
    /** What a reading changes on its document: its text, and what extraction derives from text. */
    applied(reading: OcrReading, warnings: string[] = []): OcrApplied {
      // Signature and word count from one pass over the text, as extraction has them.
      const scanned = scanText(reading.text);
      return {
        pii: detectPersonalData({ text: reading.text }, settings.piiKinds ?? []) ?? null,
        signature: scanned.signature ?? null,
        text: reading.text,
        textSource: reading.textSource,
        language: reading.text.trim() ? detectLanguage(reading.text) : null,
        wordCount: scanned.counts.words,
        ocr: {
          status: 'done',
          jobId: null,
          pages: reading.pages,
          confidence: reading.confidence,
          languages: settings.languages,
          lowConfidence: reading.confidence !== null && reading.confidence < settings.lowConfidence,
          errorCode: null,
          errorMessage: null,
        },
        warnings,
      };
    },
    /** A document OCR will not read, and why. */
    skipped(code: string, message: string): OcrState {
      return { status: 'skipped', jobId: null, pages: 0, confidence: null, languages: null, lowConfidence: null, errorCode: code, errorMessage: message };
    },
    pending(jobId: string): OcrState {
      return { status: 'pending', jobId, pages: null, confidence: null, languages: settings.languages, lowConfidence: null, errorCode: null, errorMessage: null };
    },
  };
}

export type OcrPolicy = ReturnType<typeof createOcrPolicy>;

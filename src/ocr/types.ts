/**
 * The OCR contract: one results shape whatever engine reads the page, and coded failures.
 * The library reads no configuration: callers pass every option (languages, folders, pool size,
 * limits), so the pipeline, the tests and the benchmark each choose their own.
 */
import { OCR_PAGE_FAILURE_CODES } from '../domain/vocabulary.ts';

/** Coded reasons one page or image fails OCR (the shared vocabulary's); the page fails alone, its document keeps the rest. */
export const OCR_FAILURE_CODES = OCR_PAGE_FAILURE_CODES;
export type OcrFailureCode = (typeof OCR_FAILURE_CODES)[number];

export class OcrError extends Error {
  constructor(
    readonly code: OcrFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'OcrError';
  }
}

/** Quarter turns clockwise that were applied to a page before it was read. */
export type Rotation = 0 | 90 | 180 | 270;

/**
 * One page ready for an engine: a greyscale PNG (what `normaliseImage` and `renderPage` produce).
 * `dpi` tells the engine the scale of the text; unknown resolutions are passed as 300.
 */
export interface PageImage {
  png: Buffer;
  width: number;
  height: number;
  dpi: number;
}

export interface RecognizeOptions {
  /** Tesseract language codes, e.g. ['eng', 'nld']; each must be available to the engine. */
  languages: readonly string[];
  /** Wall-clock limit for this page, orientation detection included. */
  timeoutMs: number;
  /** Cancels the page: the engine stops its work (kills the child or the worker) and rejects with `cancelled`. */
  signal?: AbortSignal;
}

export interface OcrResult {
  /** Recognised text: words joined by spaces, lines by newlines, paragraphs by a blank line. */
  text: string;
  /** Mean word confidence, 0..100 (0 when no word was found). */
  meanConfidence: number;
  words: number;
  /** Rotation applied to the page before recognition, from orientation detection. */
  rotationApplied: Rotation;
  languages: string[];
}

export interface OcrEngine {
  /** 'tesseract.js' or 'tesseract'. */
  readonly name: string;
  /** Engine and language-data version: part of the OCR cache key with the content sha256 and the languages. */
  readonly version: string;
  recognize(page: PageImage, options: RecognizeOptions): Promise<OcrResult>;
  /** Stops the engine's workers or children; pending pages reject with `cancelled`. */
  close(): Promise<void>;
}

/**
 * OCR as a library: engines (tesseract.js, or the native `tesseract` binary when present), image
 * decoding and normalisation, and PDF pages that need OCR. Pure of configuration: the caller
 * passes languages, folders, pool size, limits and timeouts.
 */
import { createNativeTesseractEngine, findTesseractBinary } from './native.engine.ts';
import { createTesseractJsEngine } from './tesseract-js.engine.ts';
import type { OcrEngine } from './types.ts';

export { OCR_FAILURE_CODES, OcrError, type OcrEngine, type OcrFailureCode, type OcrResult, type PageImage, type RecognizeOptions, type Rotation } from './types.ts';
export { DEFAULT_IMAGE_LIMITS, detectImageFormat, imagePages, normaliseImage, rotatePage, type ImageFormat, type ImageLimits } from './image.ts';
export { DEFAULT_RENDER_DPI, openPdfForOcr, pagesNeedingOcr, renderPage, type PdfForOcr, type PdfPageText } from './pdf.ts';
export { createTesseractJsEngine, type TesseractJsOptions } from './tesseract-js.engine.ts';
export { createNativeTesseractEngine, findTesseractBinary, type NativeTesseractOptions } from './native.engine.ts';
export { resolveLanguage, type LanguageFile } from './languages.ts';

export interface OcrEngineOptions {
  /** 'auto' takes the native binary when one is on PATH and tesseract.js otherwise. */
  engine: 'tesseract.js' | 'native' | 'auto';
  /** Pages read at once (the pipeline's OCR_CONCURRENCY). */
  concurrency: number;
  /** Languages the engine is prepared for; they identify its version in the cache key. */
  languages: readonly string[];
  /** Folders of extra `<lang>.traineddata` for tesseract.js (e.g. /usr/share/tesseract-ocr/5/tessdata). */
  languageDirs?: readonly string[];
  detectOrientation?: boolean;
}

export async function createOcrEngine(options: OcrEngineOptions): Promise<OcrEngine> {
  const native = options.engine === 'native' || (options.engine === 'auto' && findTesseractBinary() !== undefined);
  if (native) {
    return createNativeTesseractEngine({ concurrency: options.concurrency, detectOrientation: options.detectOrientation });
  }
  return createTesseractJsEngine({
    workers: options.concurrency,
    languages: options.languages,
    languageDirs: options.languageDirs,
    detectOrientation: options.detectOrientation,
  });
}

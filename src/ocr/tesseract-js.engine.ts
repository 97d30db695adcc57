/**
 * tesseract.js (Tesseract compiled to WebAssembly, one worker thread each) as an OCR engine: a
 * pool of N slots, each a recognition worker (LSTM) and, when orientation detection is on, an
 * orientation worker (the legacy engine with the `osd` data, which `worker.detect` needs).
 *
 * Nothing is fetched at run time. tesseract.js loads its core from the tesseract.js-core package
 * in Node, and its default language path is a CDN: every language is resolved to a local file
 * first (languages.ts; a missing one fails with `ocr_language_missing` before a worker starts) and
 * the workers read them from a private folder of links, with the cache disabled.
 *
 * A page that times out or is cancelled terminates its slot's workers (WebAssembly cannot be
 * interrupted); the slot starts fresh ones for its next page.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createWorker, OEM, type Worker } from 'tesseract.js';
import { downscalePage, rotatePage } from './image.ts';
import { resolveLanguage, type LanguageModel } from './languages.ts';
import { Slots, withDeadline } from './scheduling.ts';
import { asRotation, resultFromTsv } from './tsv.ts';
import { OcrError, type OcrEngine, type OcrResult, type PageImage, type RecognizeOptions, type Rotation } from './types.ts';

export interface TesseractJsOptions {
  /** Pages read at once, one pair of worker threads each (the pipeline's OCR_CONCURRENCY). */
  workers: number;
  /** Languages whose data identifies this engine's version (the cache key); pages may ask for others. */
  languages: readonly string[];
  /** Folders of `<lang>.traineddata` for languages without an npm package (e.g. Debian's tessdata). */
  languageDirs?: readonly string[];
  /** Detect pages scanned sideways or upside down and turn them first (default true). */
  detectOrientation?: boolean;
  /** Orientation confidence below which a page is read as it is (default 2). */
  minOrientationConfidence?: number;
}

interface Slot {
  recognizer?: Worker;
  recognizerLanguages?: string;
  orientation?: Worker;
}

/** Orientation detection reads a page scaled down to this long side: enough for the shapes of letters, a quarter of the pixels. */
const ORIENTATION_MAX_DIMENSION = 2000;

export function createTesseractJsEngine(options: TesseractJsOptions): OcrEngine {
  const languageDirs = options.languageDirs ?? [];
  const detectOrientation = options.detectOrientation ?? true;
  const minConfidence = options.minOrientationConfidence ?? 2;
  const linkDir = mkdtempSync(path.join(os.tmpdir(), 'docsight-ocr-'));
  const linked = new Map<string, string>();
  const link = (code: string, model: LanguageModel) => {
    const file = resolveLanguage(code, model, languageDirs);
    if (linked.get(code) !== file.file) {
      rmSync(path.join(linkDir, `${code}.traineddata`), { force: true });
      // tesseract.js recognises gzip'd data by its magic bytes, so one name serves both forms.
      symlinkSync(file.file, path.join(linkDir, `${code}.traineddata`));
      linked.set(code, file.file);
    }
    return file;
  };
  const dataIds = options.languages.map((code) => link(code, 'lstm').id);
  if (detectOrientation) dataIds.push(link('osd', 'legacy').id);
  const require = createRequire(import.meta.url);
  const jsVersion = (require('tesseract.js/package.json') as { version: string }).version;
  const coreVersion = (require('tesseract.js-core/package.json') as { version: string }).version;

  const slots = Array.from({ length: Math.max(1, options.workers) }, (): Slot => ({}));
  const pool = new Slots(slots);
  // Closing the engine cancels the pages in flight as a caller's abort would.
  const closing = new AbortController();

  const spawn = async (languages: string, oem: number, legacy: boolean): Promise<Worker> => {
    const worker = await createWorker(languages, oem, {
      langPath: linkDir,
      gzip: false,
      cacheMethod: 'none',
      legacyCore: legacy,
      legacyLang: legacy,
      // Without a handler tesseract.js throws a worker's error from its message listener.
      errorHandler: () => undefined,
      logger: () => undefined,
    });
    if (closing.signal.aborted) {
      await worker.terminate().catch(() => undefined);
      throw new OcrError('cancelled', 'the OCR engine is closed');
    }
    return worker;
  };

  const stopSlot = async (slot: Slot): Promise<void> => {
    const workers = [slot.recognizer, slot.orientation];
    slot.recognizer = undefined;
    slot.recognizerLanguages = undefined;
    slot.orientation = undefined;
    await Promise.all(workers.map((w) => w?.terminate().catch(() => undefined)));
  };

  const orientationOf = async (slot: Slot, page: PageImage): Promise<Rotation> => {
    slot.orientation ??= await spawn('osd', OEM.TESSERACT_ONLY, true);
    const small = await downscalePage(page, ORIENTATION_MAX_DIMENSION);
    const { data } = await slot.orientation.detect(small.png);
    if (data.orientation_confidence === null || data.orientation_confidence < minConfidence) return 0;
    return asRotation(data.orientation_degrees);
  };

  const read = async (slot: Slot, page: PageImage, languages: string[]): Promise<OcrResult> => {
    const rotation = detectOrientation ? await orientationOf(slot, page) : 0;
    const upright = await rotatePage(page, rotation);
    const wanted = languages.join('+');
    if (slot.recognizerLanguages !== wanted) {
      const previous = slot.recognizer;
      slot.recognizer = undefined;
      await previous?.terminate().catch(() => undefined);
      slot.recognizer = await spawn(wanted, OEM.LSTM_ONLY, false);
      slot.recognizerLanguages = wanted;
    }
    const { data } = await slot.recognizer!.recognize(upright.png, {}, { text: false, tsv: true });
    return resultFromTsv(data.tsv ?? '', rotation, languages);
  };

  return {
    name: 'tesseract.js',
    version: `tesseract.js ${jsVersion} (core ${coreVersion}; ${dataIds.join(', ')})`,
    async recognize(page: PageImage, { languages, timeoutMs, signal }: RecognizeOptions): Promise<OcrResult> {
      if (closing.signal.aborted) throw new OcrError('cancelled', 'the OCR engine is closed');
      if (languages.length === 0) throw new OcrError('ocr_language_missing', 'no language asked for');
      // Resolved before any worker starts: a missing language fails here, never as a download.
      for (const code of languages) link(code, 'lstm');
      const stop = signal ? AbortSignal.any([signal, closing.signal]) : closing.signal;
      const slot = await pool.acquire(stop);
      try {
        return await withDeadline(() => read(slot, page, [...languages]), timeoutMs, stop, () => void stopSlot(slot));
      } catch (err) {
        // A worker that failed a page (an abort inside WebAssembly, say) is not trusted with the next one.
        if (err instanceof OcrError && err.code === 'ocr_engine_failed') await stopSlot(slot);
        throw err;
      } finally {
        pool.release(slot);
      }
    },
    async close(): Promise<void> {
      closing.abort(new Error('the OCR engine is closed'));
      pool.close();
      await Promise.all(slots.map(stopSlot));
      rmSync(linkDir, { recursive: true, force: true });
    },
  };
}

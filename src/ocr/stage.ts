/**
 * The OCR engine as the pipeline's OCR stage reads documents with it: open a PDF or an image once,
 * read its pages one at a time (rendered or decoded, oriented, recognised), and give the text
 * layer of the pages that have one. The engine itself comes from `createOcrEngine`.
 */
import { imagePages } from './image.ts';
import { createOcrEngine, type OcrEngineOptions } from './index.ts';
import { openPdfForOcr } from './pdf.ts';
import { OcrError, type OcrEngine, type PageImage } from './types.ts';

export interface OcrStageOptions extends OcrEngineOptions {
  /** Resolution PDF pages are rendered at. */
  dpi: number;
}

export interface StagePageReading {
  text: string;
  confidence: number | null;
  words: number;
}

export interface OcrStageDocument {
  readPage(pageNo: number, options: { languages: string[]; timeoutMs: number; signal: AbortSignal }): Promise<StagePageReading>;
  pageTexts(): Promise<string[]>;
  close(): Promise<void>;
}

export interface OcrStageEngine {
  readonly id: string;
  open(bytes: Uint8Array, kind: 'pdf' | 'image'): Promise<OcrStageDocument>;
  close(): Promise<void>;
}

/** An image's pages, reached in order (a TIFF is decoded one page at a time). */
function imageDocument(bytes: Uint8Array) {
  const pages = imagePages(bytes);
  let at = 0;
  return async (pageNo: number): Promise<PageImage> => {
    if (pageNo <= at) throw new OcrError('unsupported', `image pages are read in order (page ${pageNo} after ${at})`);
    for (;;) {
      const next = await pages.next();
      if (next.done) throw new OcrError('unsupported', `the image has no page ${pageNo}`);
      at++;
      if (at === pageNo) return next.value;
    }
  };
}

export function ocrStage(engine: OcrEngine, dpi: number): OcrStageEngine {
  const recognize = async (image: PageImage, options: { languages: string[]; timeoutMs: number; signal: AbortSignal }): Promise<StagePageReading> => {
    const r = await engine.recognize(image, options);
    return { text: r.text, confidence: r.words > 0 ? r.meanConfidence : null, words: r.words };
  };
  return {
    id: `${engine.name}@${engine.version}`,
    async open(bytes, kind) {
      if (kind === 'image') {
        const page = imageDocument(bytes);
        return {
          readPage: async (pageNo, options) => recognize(await page(pageNo), options),
          pageTexts: async () => [],
          close: async () => undefined,
        };
      }
      const pdf = await openPdfForOcr(bytes);
      return {
        readPage: async (pageNo, options) => recognize(await pdf.renderPage(pageNo, dpi), options),
        async pageTexts() {
          const texts: string[] = [];
          for (let n = 1; n <= pdf.pages; n++) texts.push((await pdf.pageText(n)).text);
          return texts;
        },
        close: () => pdf.close(),
      };
    },
    close: () => engine.close(),
  };
}

/** The configured engine, ready for the OCR stage. */
export async function openOcrStage(options: OcrStageOptions): Promise<OcrStageEngine> {
  return ocrStage(await createOcrEngine(options), options.dpi);
}

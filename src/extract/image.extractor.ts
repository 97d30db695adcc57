/**
 * Images have no text layer: the result is empty and says which pages OCR must read (every
 * page; a TIFF may hold several). Nothing is decoded here: the OCR stage decodes, under its own
 * memory cap.
 */
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { imageOcrNeed } from './image-pages.ts';

export const imageExtractor: Extractor = {
  formats: ['image'],
  extract({ bytes, detection }: ExtractInput): ExtractorOutput {
    const out: ExtractorOutput = { properties: {}, raw: {}, text: '' };
    const ocr = imageOcrNeed(bytes, detection.mimeType);
    if (ocr) {
      out.ocr = ocr;
      out.structure = { pages: ocr.pageCount };
    }
    return out;
  },
};

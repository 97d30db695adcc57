/**
 * Format → extractor. A Record over every DocumentFormat, so adding a format without deciding
 * who reads it fails to compile; `undefined` means "recognised, nothing to read" (unknown
 * binaries), which the engine reports as an empty result.
 */
import { zipExtractor } from './archive.extractor.ts';
import { docxExtractor } from './docx.extractor.ts';
import { emlExtractor } from './eml.extractor.ts';
import type { Extractor } from './extractor.ts';
import { imageExtractor } from './image.extractor.ts';
import { msgExtractor } from './msg.extractor.ts';
import { odfExtractor } from './odf.extractor.ts';
import { oleExtractor } from './ole.extractor.ts';
import { pdfExtractor } from './pdf.extractor.ts';
import { pptxExtractor } from './pptx.extractor.ts';
import { rtfExtractor } from './rtf.extractor.ts';
import { plainTextExtractor } from './text.extractor.ts';
import type { DocumentFormat } from './types.ts';
import { xlsxExtractor } from './xlsx.extractor.ts';

export const EXTRACTORS: Record<DocumentFormat, Extractor | undefined> = {
  docx: docxExtractor,
  xlsx: xlsxExtractor,
  pptx: pptxExtractor,
  odt: odfExtractor,
  ods: odfExtractor,
  odp: odfExtractor,
  pdf: pdfExtractor,
  txt: plainTextExtractor,
  md: plainTextExtractor,
  csv: plainTextExtractor,
  html: plainTextExtractor,
  rtf: rtfExtractor,
  doc: oleExtractor,
  xls: oleExtractor,
  ppt: oleExtractor,
  zip: zipExtractor,
  eml: emlExtractor,
  msg: msgExtractor,
  image: imageExtractor,
  other: undefined,
};

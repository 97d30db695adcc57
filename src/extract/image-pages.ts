/**
 * How many pages an image has, for the OCR stage to plan its work: a TIFF holds one page per
 * image file directory (IFD) in its chain, every other format one. Only the directory chain is
 * walked (no pixel is decoded), bounded by the file's size and a visited set, so a forged chain
 * that loops or points past the end stops instead of hanging.
 */
import type { OcrNeed } from './types.ts';

/** Image types OCR reads; other images (GIF, HEIC, ...) are recognised but have no OCR need. */
export const OCR_IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/tiff', 'image/bmp', 'image/webp']);

/** Pages past this many are not counted: OCR_MAX_PAGES caps the work long before. */
const MAX_TIFF_PAGES = 10_000;

/** Pages in an image of the given MIME type (1 unless a TIFF says more; 1 for a damaged TIFF). */
export function imagePageCount(bytes: Uint8Array, mimeType: string): number {
  return mimeType === 'image/tiff' ? Math.max(1, tiffPageCount(bytes)) : 1;
}

/** Every page of an image, for `ExtractionResult.ocr`; undefined when OCR does not read this type. */
export function imageOcrNeed(bytes: Uint8Array, mimeType: string): OcrNeed | undefined {
  if (!OCR_IMAGE_TYPES.has(mimeType)) return undefined;
  const pageCount = imagePageCount(bytes, mimeType);
  return { pages: Array.from({ length: pageCount }, (_, i) => i + 1), pageCount };
}

/** IFDs in the main chain of a TIFF or BigTIFF; 0 when the header is not one. */
export function tiffPageCount(bytes: Uint8Array): number {
  if (bytes.length < 8) return 0;
  const little = bytes[0] === 0x49 && bytes[1] === 0x49;
  const big = bytes[0] === 0x4d && bytes[1] === 0x4d;
  if (!little && !big) return 0;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint16(2, little);
  const bigTiff = magic === 43;
  if (magic !== 42 && !bigTiff) return 0;
  if (bigTiff && bytes.length < 16) return 0;
  const offsetAt = (at: number): number => (bigTiff ? Number(v.getBigUint64(at, little)) : v.getUint32(at, little));
  let ifd = offsetAt(bigTiff ? 8 : 4);
  const seen = new Set<number>();
  let pages = 0;
  while (ifd !== 0 && pages < MAX_TIFF_PAGES && !seen.has(ifd)) {
    seen.add(ifd);
    const countBytes = bigTiff ? 8 : 2;
    if (!Number.isSafeInteger(ifd) || ifd + countBytes > bytes.length) break;
    const entries = bigTiff ? Number(v.getBigUint64(ifd, little)) : v.getUint16(ifd, little);
    const entrySize = bigTiff ? 20 : 12;
    const next = ifd + countBytes + entries * entrySize;
    const offsetSize = bigTiff ? 8 : 4;
    pages++;
    if (!Number.isSafeInteger(next) || next + offsetSize > bytes.length) break;
    ifd = offsetAt(next);
  }
  return pages;
}

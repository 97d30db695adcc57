/**
 * Images in: PNG, JPEG, TIFF (every page), BMP and WebP, recognised from their bytes (never the
 * file name), decoded by sharp and normalised for OCR (greyscale, EXIF orientation applied, the
 * long side capped). Hostile input fails alone with a code: the pixel count is checked from the
 * header before any decoding (a decompression bomb never allocates its pixels), truncated data
 * fails as `corrupt`, and bytes that are no supported image as `unsupported`.
 */
import sharp, { type Sharp } from 'sharp';
import { decodeBmp, readBmpHeader } from './bmp.ts';
import { OcrError, type PageImage, type Rotation } from './types.ts';

export type ImageFormat = 'png' | 'jpeg' | 'tiff' | 'bmp' | 'webp';

export interface ImageLimits {
  /** Images larger than this are not read (`image_too_large`). */
  maxInputBytes: number;
  /** Pixels of one page, from its header, before decoding (`image_too_large`). */
  maxPixels: number;
  /** Pages of one multi-page TIFF that are read; the rest are left out. */
  maxPages: number;
  /** The long side of a normalised page, in pixels: larger pages are scaled down to it. */
  maxDimension: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxInputBytes: 100 * 1024 * 1024,
  // An A4 page at 600 DPI is 35 million pixels; a 100,000 x 100,000 bomb is 10 billion.
  maxPixels: 40_000_000,
  maxPages: 500,
  maxDimension: 4200,
};

/** Resolution assumed when an image does not state one, or states a default such as JFIF's 72 that no scan is made at. */
const ASSUMED_DPI = 300;

export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = (i: number) => bytes[i];
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if ((b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a && b(3) === 0) || (b(0) === 0x4d && b(1) === 0x4d && b(2) === 0 && b(3) === 0x2a)) return 'tiff';
  if (b(0) === 0x42 && b(1) === 0x4d && bytes.length >= 26) return 'bmp';
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45 && b(10) === 0x42 && b(11) === 0x50) return 'webp';
  return undefined;
}

/**
 * Every page of an image file, normalised, one at a time (a multi-page TIFF is never held
 * decoded as a whole). Throws `OcrError` before the first page when the file as a whole is
 * unreadable; a page that fails to decode throws when it is reached.
 */
export async function* imagePages(bytes: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): AsyncGenerator<PageImage> {
  if (bytes.length > limits.maxInputBytes) {
    throw new OcrError('image_too_large', `image has ${bytes.length} bytes, more than the limit of ${limits.maxInputBytes}`);
  }
  const format = detectImageFormat(bytes);
  if (format === undefined) throw new OcrError('unsupported', 'not a PNG, JPEG, TIFF, BMP or WebP image');
  if (format === 'bmp') {
    const { width, height } = readBmpHeader(bytes);
    checkPixels(width, height, limits);
    const bmp = decodeBmp(bytes, limits.maxPixels);
    yield await normalise(sharp(bmp.grey, { raw: { width: bmp.width, height: bmp.height, channels: 1 } }), bmp, ASSUMED_DPI, limits);
    return;
  }
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const meta = await sharp(input, { limitInputPixels: false }).metadata().catch((err: unknown) => {
    throw new OcrError('corrupt', `${format} header unreadable: ${message(err)}`);
  });
  if (meta.width === undefined || meta.height === undefined) throw new OcrError('corrupt', `${format} declares no size`);
  // Every page is checked from the header: TIFF pages may each declare their own size.
  checkPixels(meta.width, meta.pageHeight ?? meta.height, limits);
  const pages = format === 'tiff' ? Math.min(meta.pages ?? 1, limits.maxPages) : 1;
  const dpi = plausibleDpi(meta.density);
  for (let page = 0; page < pages; page++) {
    const pageMeta = page === 0 ? meta : await sharp(input, { page, limitInputPixels: false }).metadata().catch((err: unknown) => {
      throw new OcrError('corrupt', `TIFF page ${page + 1} unreadable: ${message(err)}`);
    });
    const size = { width: pageMeta.width ?? meta.width, height: pageMeta.height ?? meta.height };
    checkPixels(size.width, size.height, limits);
    const image = sharp(input, { page, pages: 1, limitInputPixels: limits.maxPixels, failOn: 'truncated', autoOrient: true });
    yield await normalise(image, size, plausibleDpi(pageMeta.density) ?? dpi ?? ASSUMED_DPI, limits);
  }
}

/** The first (or only) page of an image, normalised. */
export async function normaliseImage(bytes: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<PageImage> {
  for await (const page of imagePages(bytes, limits)) return page;
  throw new OcrError('corrupt', 'image has no pages');
}

/** A page turned clockwise by a quarter turn, as orientation detection asks. */
export async function rotatePage(page: PageImage, rotation: Rotation): Promise<PageImage> {
  if (rotation === 0) return page;
  const { data, info } = await sharp(page.png).rotate(rotation).toColourspace('b-w').png({ compressionLevel: 1 }).withDensity(page.dpi).toBuffer({ resolveWithObject: true });
  return { png: data, width: info.width, height: info.height, dpi: page.dpi };
}

/** A smaller copy of a page (orientation detection does not need every pixel). */
export async function downscalePage(page: PageImage, maxDimension: number): Promise<PageImage> {
  if (Math.max(page.width, page.height) <= maxDimension) return page;
  const scale = maxDimension / Math.max(page.width, page.height);
  const { data, info } = await sharp(page.png)
    .resize({ width: maxDimension, height: maxDimension, fit: 'inside' })
    .toColourspace('b-w')
    .png({ compressionLevel: 1 })
    .withDensity(Math.max(1, Math.round(page.dpi * scale)))
    .toBuffer({ resolveWithObject: true });
  return { png: data, width: info.width, height: info.height, dpi: Math.max(1, Math.round(page.dpi * scale)) };
}

async function normalise(image: Sharp, source: { width: number; height: number }, dpi: number, limits: ImageLimits): Promise<PageImage> {
  const scale = Math.min(1, limits.maxDimension / Math.max(source.width, source.height));
  const finalDpi = Math.max(1, Math.round(dpi * scale));
  try {
    const { data, info } = await image
      // Transparent areas (a PDF page's canvas, a PNG with alpha) are paper: white, not black.
      .flatten({ background: '#ffffff' })
      // Setting the density writes metadata, which would otherwise turn the page back into sRGB.
      .toColourspace('b-w')
      .resize({ width: limits.maxDimension, height: limits.maxDimension, fit: 'inside', withoutEnlargement: true })
      .png({ compressionLevel: 1 })
      .withDensity(finalDpi)
      .toBuffer({ resolveWithObject: true });
    return { png: data, width: info.width, height: info.height, dpi: finalDpi };
  } catch (err) {
    const text = message(err);
    if (/pixel limit/i.test(text)) throw new OcrError('image_too_large', text);
    throw new OcrError('corrupt', `image does not decode: ${text}`);
  }
}

function checkPixels(width: number, height: number, limits: ImageLimits): void {
  if (width * height > limits.maxPixels) {
    throw new OcrError('image_too_large', `image declares ${width} x ${height} pixels, more than the limit of ${limits.maxPixels}`);
  }
}

function plausibleDpi(density: number | undefined): number | undefined {
  return density !== undefined && density >= 100 && density <= 2400 ? Math.round(density) : undefined;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

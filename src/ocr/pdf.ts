/**
 * PDF pages for OCR, through unpdf's build of pdf.js and @napi-rs/canvas: which pages need OCR
 * (no usable text layer while the page shows images), and a page rendered to a greyscale image
 * at a chosen DPI. Pages are rendered one at a time and their resources released after each, so
 * memory stays flat in the number of pages. Eval of embedded code is disabled, as in extraction.
 */
import type { getDocumentProxy } from 'unpdf';
import { normaliseImage, DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image.ts';
import { countLetters, pageShowsImages, textLayerUsable } from './pdf-text.ts';
import { OcrError, type PageImage } from './types.ts';

export { pageShowsImages, textLayerUsable } from './pdf-text.ts';

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

export const DEFAULT_RENDER_DPI = 300;

export interface PdfPageText {
  pageNo: number;
  /** The page's text layer as pdf.js reads it (items joined, a space where pdf.js ends a line). */
  text: string;
  /** Letters (any script) in the page's text layer. */
  letters: number;
  /** Non-space characters in the page's text layer. */
  visible: number;
  hasImages: boolean;
  needsOcr: boolean;
}

/** An open PDF for reading page after page; `close` releases pdf.js's document. */
export interface PdfForOcr {
  readonly pages: number;
  pageText(pageNo: number): Promise<PdfPageText>;
  /** The page as a normalised greyscale PNG at `dpi`. */
  renderPage(pageNo: number, dpi?: number, limits?: ImageLimits): Promise<PageImage>;
  close(): Promise<void>;
}

export async function openPdfForOcr(pdfBytes: Uint8Array): Promise<PdfForOcr> {
  const { getDocumentProxy: open, renderPageAsImage } = await import('unpdf');
  let pdf: PdfDocument;
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given and refuses a Buffer: hand it a plain copy.
    pdf = await open(new Uint8Array(pdfBytes), { isEvalSupported: false, disableFontFace: true, useSystemFonts: false, stopAtErrors: false, verbosity: 0 });
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    const text = err instanceof Error ? err.message : String(err);
    if (name === 'PasswordException') throw new OcrError('unsupported', `PDF needs a password: ${text}`);
    throw new OcrError('corrupt', `PDF does not open: ${text}`);
  }
  const checkPage = (pageNo: number) => {
    if (!Number.isInteger(pageNo) || pageNo < 1 || pageNo > pdf.numPages) {
      throw new OcrError('unsupported', `page ${pageNo} is not in this PDF (1..${pdf.numPages})`);
    }
  };
  return {
    pages: pdf.numPages,
    async pageText(pageNo: number): Promise<PdfPageText> {
      checkPage(pageNo);
      const page = await pdf.getPage(pageNo);
      try {
        const content = await page.getTextContent();
        let text = '';
        for (const item of content.items) if ('str' in item) text += item.hasEOL ? `${item.str} ` : item.str;
        const { letters, visible } = countLetters(text);
        const hasImages = await pageShowsImages(page);
        return { pageNo, text: text.trim(), letters, visible, hasImages, needsOcr: hasImages && !textLayerUsable(text) };
      } finally {
        page.cleanup();
      }
    },
    async renderPage(pageNo: number, dpi = DEFAULT_RENDER_DPI, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<PageImage> {
      checkPage(pageNo);
      const page = await pdf.getPage(pageNo);
      const view = page.getViewport({ scale: 1 });
      // PDF user space is 72 units an inch; the pixel limit applies before anything is drawn.
      const scale = dpi / 72;
      const width = Math.ceil(view.width * scale);
      const height = Math.ceil(view.height * scale);
      if (width * height > limits.maxPixels) {
        page.cleanup();
        throw new OcrError('image_too_large', `page ${pageNo} at ${dpi} DPI is ${width} x ${height} pixels, more than the limit of ${limits.maxPixels}`);
      }
      let png: ArrayBuffer;
      try {
        png = await renderPageAsImage(pdf, pageNo, { scale, canvasImport: () => import('@napi-rs/canvas') });
      } catch (err) {
        throw new OcrError('corrupt', `page ${pageNo} does not render: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        page.cleanup();
      }
      const image = await normaliseImage(new Uint8Array(png), limits);
      // The rendering's resolution is known exactly; a scaled-down page keeps its proportion of it.
      return { ...image, dpi: Math.round((dpi * image.width) / width) };
    },
    async close(): Promise<void> {
      await pdf.destroy();
    },
  };
}

/** The pages (1-based) of a PDF that need OCR: no usable text layer while the page shows images. */
export async function pagesNeedingOcr(pdfBytes: Uint8Array): Promise<number[]> {
  const pdf = await openPdfForOcr(pdfBytes);
  try {
    const pages: number[] = [];
    for (let n = 1; n <= pdf.pages; n++) if ((await pdf.pageText(n)).needsOcr) pages.push(n);
    return pages;
  } finally {
    await pdf.close();
  }
}

/** One page of a PDF rendered to a normalised image; open the PDF with `openPdfForOcr` to render many. */
export async function renderPage(pdfBytes: Uint8Array, pageNo: number, dpi = DEFAULT_RENDER_DPI, limits?: ImageLimits): Promise<PageImage> {
  const pdf = await openPdfForOcr(pdfBytes);
  try {
    return await pdf.renderPage(pageNo, dpi, limits);
  } finally {
    await pdf.close();
  }
}


/**
 * Images and PDF pages into OCR: every supported format decodes by content to a normalised
 * greyscale page, hostile images fail alone with a code (a decompression bomb before any pixel
 * is allocated), and the per-page decision of which PDF pages need OCR.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { DEFAULT_IMAGE_LIMITS, detectImageFormat, imagePages, normaliseImage, openPdfForOcr, pagesNeedingOcr, renderPage } from '../../src/ocr/index.ts';
import {
  asBmp,
  asImageOnlyPdf,
  asJpeg,
  asMultiPageTiff,
  asWebp,
  GROUND_TRUTH,
  noisy,
  ocrFixturesAvailable,
  rejectsWithOcrCode,
  pngBomb,
  renderTextPage,
  rotated,
  textLayerPdf,
} from '../support/ocr-fixtures.ts';

const skip = ocrFixturesAvailable() ? false : 'the DejaVu font is not installed (apt-get install fonts-dejavu-core)';

async function collect(bytes: Uint8Array) {
  const pages = [];
  for await (const page of imagePages(bytes)) pages.push(page);
  return pages;
}

describe('OCR images', { skip }, () => {
  it('decodes PNG, JPEG, WebP and BMP by content to a greyscale PNG of the same size, keeping the stated DPI', async () => {
    const png = await renderTextPage(GROUND_TRUTH.eng, { dpi: 150 });
    const meta = await sharp(png).metadata();
    for (const [format, bytes] of [
      ['png', png],
      ['jpeg', await asJpeg(png)],
      ['webp', await asWebp(png)],
      ['bmp', await asBmp(png)],
    ] as const) {
      assert.equal(detectImageFormat(bytes), format);
      const page = await normaliseImage(bytes);
      assert.deepEqual([page.width, page.height], [meta.width, meta.height], format);
      const out = await sharp(page.png).metadata();
      assert.equal(out.format, 'png', format);
      assert.equal(out.channels, 1, `${format} is normalised to one grey channel`);
      if (format === 'png') assert.equal(page.dpi, 150);
    }
  });

  it('reads every page of a multi-page TIFF, each with its own size', async () => {
    const page = await renderTextPage(GROUND_TRUTH.nld, { dpi: 150 });
    const tiff = await asMultiPageTiff([page, await rotated(page, 90), page], 150);
    assert.equal(detectImageFormat(tiff), 'tiff');
    const pages = await collect(tiff);
    assert.equal(pages.length, 3);
    assert.ok(pages[0]!.width > pages[0]!.height);
    assert.ok(pages[1]!.height > pages[1]!.width, 'the second page is the sideways one');
    assert.equal(pages[0]!.dpi, 150);
  });

  it('scales a page larger than the limit down to it, and its DPI with it', async () => {
    const png = await renderTextPage(GROUND_TRUTH.eng, { dpi: 300 });
    const page = await normaliseImage(png, { ...DEFAULT_IMAGE_LIMITS, maxDimension: 1000 });
    assert.equal(Math.max(page.width, page.height), 1000);
    assert.ok(page.dpi < 300 && page.dpi > 100, `dpi ${page.dpi}`);
  });

  it('fails a PNG that declares 100,000 x 100,000 pixels with image_too_large, before decoding it', async () => {
    const bomb = pngBomb();
    const before = process.memoryUsage().rss;
    await rejectsWithOcrCode(normaliseImage(bomb), 'image_too_large');
    // Decoding would need 10 GB; the header check refuses it without allocating pixels.
    assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
    // A caller's tighter limit applies as well.
    await rejectsWithOcrCode(normaliseImage(pngBomb(2000, 2000), { ...DEFAULT_IMAGE_LIMITS, maxPixels: 1_000_000 }), 'image_too_large');
  });

  it('fails a BMP and a TIFF page that declare too many pixels with image_too_large', async () => {
    const bmp = await asBmp(await renderTextPage('BMP', { dpi: 72 }));
    bmp.writeInt32LE(100_000, 18);
    bmp.writeInt32LE(100_000, 22);
    await rejectsWithOcrCode(normaliseImage(bmp), 'image_too_large');
    const tiff = await asMultiPageTiff([await renderTextPage('TIFF', { dpi: 72 })], 72);
    await rejectsWithOcrCode(normaliseImage(tiff, { ...DEFAULT_IMAGE_LIMITS, maxPixels: 1000 }), 'image_too_large');
  });

  it('fails truncated PNG, JPEG and BMP files with corrupt', async () => {
    const png = await renderTextPage(GROUND_TRUTH.eng, { dpi: 150 });
    for (const bytes of [png, await asJpeg(png), await asBmp(png)]) {
      await rejectsWithOcrCode(normaliseImage(bytes.subarray(0, Math.floor(bytes.length / 2))), 'corrupt');
    }
    await rejectsWithOcrCode(normaliseImage(png.subarray(0, 30)), 'corrupt');
  });

  it('fails a file named .png that is really text, and an unknown image kind, with unsupported', async () => {
    await rejectsWithOcrCode(normaliseImage(Buffer.from('Dit is geen afbeelding maar gewone tekst.\n'.repeat(20))), 'unsupported');
    await rejectsWithOcrCode(normaliseImage(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1')), 'unsupported');
    await rejectsWithOcrCode(normaliseImage(Buffer.alloc(0)), 'unsupported');
  });
});

describe('OCR PDF pages', { skip }, () => {
  it('marks image-only pages as needing OCR and pages with a text layer as not', async () => {
    const page = await renderTextPage(GROUND_TRUTH.eng, { dpi: 150 });
    const scan = await asImageOnlyPdf([page, await noisy(page)], 150);
    assert.deepEqual(await pagesNeedingOcr(scan), [1, 2]);
    // One line that fits the page: pdf.js leaves out text drawn beyond the page's edge.
    const line = 'The quarterly report shows that revenue grew by twelve percent.';
    assert.deepEqual(await pagesNeedingOcr(textLayerPdf(line)), []);
    const born = await openPdfForOcr(textLayerPdf(line));
    try {
      const text = await born.pageText(1);
      assert.equal(text.text, line);
      assert.equal(text.needsOcr, false);
    } finally {
      await born.close();
    }
  });

  it('reads a text layer of only whitespace or garbage over an image as needing OCR', async () => {
    const pdf = await openPdfForOcr(textLayerPdf('\x01\x02\x03 \x04\x05 ... \x06\x07'));
    try {
      const text = await pdf.pageText(1);
      assert.ok(text.letters < 20, `letters ${text.letters}`);
      assert.equal(text.hasImages, false);
      // No image on the page: nothing for OCR to read, however poor the text.
      assert.equal(text.needsOcr, false);
    } finally {
      await pdf.close();
    }
  });

  it('renders a page at the DPI asked for, one page at a time', async () => {
    const page = await renderTextPage(GROUND_TRUTH.nld, { dpi: 150 });
    const pdf = await asImageOnlyPdf([page, page], 150);
    const at300 = await renderPage(pdf, 2, 300);
    const at150 = await renderPage(pdf, 2, 150);
    assert.equal(at300.dpi, 300);
    assert.equal(at150.dpi, 150);
    assert.ok(Math.abs(at300.width - 2 * at150.width) <= 2, `${at300.width} vs ${at150.width}`);
    assert.equal((await sharp(at300.png).metadata()).channels, 1);
    await rejectsWithOcrCode(renderPage(pdf, 3), 'unsupported');
    await rejectsWithOcrCode(renderPage(pdf, 1, 300, { ...DEFAULT_IMAGE_LIMITS, maxPixels: 10_000 }), 'image_too_large');
    await rejectsWithOcrCode(pagesNeedingOcr(Buffer.from('%PDF-1.4\nnot really a pdf')), 'corrupt');
  });
});

/**
 * The OCR test set, generated: English and Dutch paragraphs (the ground truth) drawn with a real
 * font (DejaVu Serif from Debian's fonts-dejavu-core, registered from its path) at a chosen DPI,
 * then turned, degraded with noise and skew, and saved as PNG, JPEG, WebP, BMP, multi-page TIFF
 * and an image-only PDF (written here: one JPEG image per page, no text layer). Also the character
 * error rate the tests and the benchmark measure with, and hostile images.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import sharp from 'sharp';
import { OcrError, type OcrFailureCode } from '../../src/ocr/types.ts';

export const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf';
const FONT_FAMILY = 'DejaVu Serif';
/** Debian's tesseract-ocr-nld installs Dutch here. */
export const DEBIAN_TESSDATA = '/usr/share/tesseract-ocr/5/tessdata';

export const GROUND_TRUTH = {
  eng:
    'The quarterly report shows that revenue grew by twelve percent, while the cost of materials stayed nearly flat. ' +
    'The board approved the budget for the coming year and asked the auditors to review every contract signed in March. ' +
    'Payment of invoice 2024-117 is due within thirty days.',
  nld:
    'Het kwartaalverslag laat zien dat de omzet met twaalf procent is gegroeid, terwijl de kosten van materialen vrijwel gelijk bleven. ' +
    'De raad van bestuur keurde de begroting voor het komende jaar goed en vroeg de accountant om alle contracten van maart te controleren. ' +
    'Betaling van factuur 2024-117 binnen dertig dagen.',
} as const;
export type FixtureLanguage = keyof typeof GROUND_TRUTH;

/** Whether the font and Debian's Dutch data are installed (.ci/run installs them). */
export const ocrFixturesAvailable = () => existsSync(FONT_FILE);
export const dutchDataAvailable = () => existsSync(`${DEBIAN_TESSDATA}/nld.traineddata`);

let fontRegistered = false;

export interface TextPageOptions {
  dpi: number;
  /** Text block width in inches (a letter page's text block is 6.5). */
  widthInches?: number;
  pointSize?: number;
}

/** A paragraph drawn black on white as a PNG, wrapped to the block width; its pHYs states the DPI. */
export async function renderTextPage(text: string, { dpi, widthInches = 6.5, pointSize = 11 }: TextPageOptions): Promise<Buffer> {
  if (!fontRegistered) {
    GlobalFonts.registerFromPath(FONT_FILE, FONT_FAMILY);
    fontRegistered = true;
  }
  const px = (points: number) => Math.round((points * dpi) / 72);
  const width = Math.round(widthInches * dpi);
  const margin = px(36);
  const measure = createCanvas(10, 10).getContext('2d');
  measure.font = `${px(pointSize)}px "${FONT_FAMILY}"`;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && measure.measureText(candidate).width > width) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line) lines.push(line);
  const leading = px(pointSize * 1.4);
  const canvas = createCanvas(width + 2 * margin, 2 * margin + lines.length * leading);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = 'black';
  ctx.font = measure.font;
  lines.forEach((l, i) => ctx.fillText(l, margin, margin + px(pointSize) + i * leading));
  return sharp(canvas.toBuffer('image/png')).greyscale().png().withDensity(dpi).toBuffer();
}

/** An A4 page (8.27 x 11.69 inches) filled with paragraphs of `text`, as the benchmark reads it. */
export async function renderA4Page(text: string, dpi: number): Promise<Buffer> {
  const body = Array.from({ length: 9 }, () => text).join(' ');
  const block = await renderTextPage(body, { dpi, widthInches: 7.27 });
  const meta = await sharp(block).metadata();
  const width = Math.round(8.27 * dpi);
  const height = Math.round(11.69 * dpi);
  const top = Math.max(0, Math.min(height - (meta.height ?? 0), Math.round(0.3 * dpi)));
  return sharp({ create: { width, height, channels: 3, background: 'white' } })
    .composite([{ input: block, top, left: Math.max(0, Math.round((width - (meta.width ?? 0)) / 2)) }])
    .greyscale()
    .png()
    .withDensity(dpi)
    .toBuffer();
}

/** The page turned clockwise, as a scanner fed sideways or upside down would save it. */
export async function rotated(png: Buffer, degrees: 90 | 180 | 270): Promise<Buffer> {
  return sharp(png).rotate(degrees).png().toBuffer();
}

/** A poor scan: a grey paper tone, a 1.5 degree skew, a slight blur and salt-and-pepper specks (seeded). */
export async function noisy(png: Buffer, seed = 7): Promise<Buffer> {
  const skewed = await sharp(png).rotate(1.5, { background: 'white' }).blur(0.6).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { data, info } = skewed;
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  for (let i = 0; i < data.length; i++) {
    const r = random();
    if (r < 0.004) data[i] = 0;
    else if (r < 0.008) data[i] = 255;
    else data[i] = Math.min(255, Math.round(data[i]! * 0.88 + 12 + (random() - 0.5) * 30));
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } }).png().toBuffer();
}

export async function asJpeg(png: Buffer, quality = 75): Promise<Buffer> {
  return sharp(png).jpeg({ quality }).toBuffer();
}

export async function asWebp(png: Buffer): Promise<Buffer> {
  return sharp(png).webp({ quality: 80 }).toBuffer();
}

/** A 24-bit bottom-up BMP (the most common kind scanners write). */
export async function asBmp(png: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const stride = Math.ceil((info.width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * info.height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(info.width, 18);
  out.writeInt32LE(info.height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < info.height; y++) {
    const row = 54 + (info.height - 1 - y) * stride;
    for (let x = 0; x < info.width; x++) {
      const v = data[y * info.width + x]!;
      out[row + x * 3] = v;
      out[row + x * 3 + 1] = v;
      out[row + x * 3 + 2] = v;
    }
  }
  return out;
}

/** A baseline multi-page TIFF: one uncompressed 8-bit greyscale image per page, each with its own IFD. */
export async function asMultiPageTiff(pages: readonly Buffer[], dpi: number): Promise<Buffer> {
  const raws = await Promise.all(pages.map((p) => sharp(p).greyscale().raw().toBuffer({ resolveWithObject: true })));
  const entries = 11;
  const ifdSize = 2 + entries * 12 + 4 + 16; // entries, next-IFD offset, two RATIONALs
  let offset = 8;
  const chunks: Buffer[] = [];
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8, 4);
  chunks.push(header);
  raws.forEach(({ data, info }, i) => {
    const ifd = Buffer.alloc(ifdSize);
    const dataOffset = offset + ifdSize;
    const next = i === raws.length - 1 ? 0 : dataOffset + data.length;
    ifd.writeUInt16LE(entries, 0);
    const tags: Array<[number, number, number, number]> = [
      [256, 4, 1, info.width],
      [257, 4, 1, info.height],
      [258, 3, 1, 8],
      [259, 3, 1, 1],
      [262, 3, 1, 1],
      [273, 4, 1, dataOffset],
      [277, 3, 1, 1],
      [278, 4, 1, info.height],
      [279, 4, 1, data.length],
      [282, 5, 1, offset + 2 + entries * 12 + 4],
      [283, 5, 1, offset + 2 + entries * 12 + 12],
    ];
    tags.forEach(([tag, type, count, value], k) => {
      const at = 2 + k * 12;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(count, at + 4);
      if (type === 3) ifd.writeUInt16LE(value, at + 8);
      else ifd.writeUInt32LE(value, at + 8);
    });
    ifd.writeUInt32LE(next, 2 + entries * 12);
    const rationals = 2 + entries * 12 + 4;
    for (const r of [rationals, rationals + 8]) {
      ifd.writeUInt32LE(dpi, r);
      ifd.writeUInt32LE(1, r + 4);
    }
    chunks.push(ifd, data);
    offset = dataOffset + data.length;
  });
  return Buffer.concat(chunks);
}

/** An image-only PDF: each page one JPEG (DCTDecode) drawn to fill the page, no fonts and no text. */
export async function asImageOnlyPdf(pages: readonly Buffer[], dpi: number): Promise<Buffer> {
  const images = await Promise.all(
    pages.map(async (p) => {
      const { data, info } = await sharp(p).greyscale().jpeg({ quality: 85 }).toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height };
    }),
  );
  const objects: Buffer[] = [];
  const add = (body: Buffer | string) => objects.push(typeof body === 'string' ? Buffer.from(body, 'latin1') : body) ;
  const pageIds = images.map((_, i) => 3 + i * 3);
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(`<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${images.length} >>`);
  images.forEach((img, i) => {
    const w = (img.width * 72) / dpi;
    const h = (img.height * 72) / dpi;
    const id = pageIds[i]!;
    add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${w.toFixed(2)} ${h.toFixed(2)}] /Resources << /XObject << /Im0 ${id + 2} 0 R >> >> /Contents ${id + 1} 0 R >>`);
    const content = `q ${w.toFixed(2)} 0 0 ${h.toFixed(2)} 0 0 cm /Im0 Do Q`;
    add(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
    add(
      Buffer.concat([
        Buffer.from(`<< /Type /XObject /Subtype /Image /Width ${img.width} /Height ${img.height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length ${img.data.length} >>\nstream\n`, 'latin1'),
        img.data,
        Buffer.from('\nendstream', 'latin1'),
      ]),
    );
  });
  return writePdf(objects);
}

/** A PDF with a real text layer (Helvetica) and no images: it needs no OCR. */
export function textLayerPdf(text: string): Buffer {
  const escaped = text.replace(/([()\\])/g, '\\$1');
  const content = `BT /F1 11 Tf 72 720 Td (${escaped}) Tj ET`;
  return writePdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ].map((s) => Buffer.from(s, 'latin1')));
}

function writePdf(objects: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const obj = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
    parts.push(obj);
    length += obj.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n`, '0000000000 65535 f \n', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}

/** A valid PNG whose header declares `width` x `height` pixels over a few bytes of data: a decompression bomb. */
export function pngBomb(width = 100_000, height = 100_000): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64 * 1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** Whitespace runs become one space, ends trimmed: layout is not what the error rate measures. */
export const normaliseWhitespace = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Character error rate: edit distance between the normalised texts over the ground truth's length. */
export function characterErrorRate(recognised: string, truth: string): number {
  const a = normaliseWhitespace(recognised);
  const b = normaliseWhitespace(truth);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return b.length === 0 ? (a.length === 0 ? 0 : 1) : prev[b.length]! / b.length;
}

/** Asserts that `promise` rejects with an `OcrError` of `code`. */
export async function rejectsWithOcrCode(promise: Promise<unknown>, code: OcrFailureCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof OcrError, `expected an OcrError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/**
 * A small BMP decoder (sharp's libvips build reads no BMP): uncompressed 1, 4, 8, 24 and 32 bits
 * per pixel, bottom-up or top-down, with the BITMAPINFOHEADER family of headers. RLE and
 * embedded JPEG/PNG bitmaps are `unsupported`. The pixel count is checked against the caller's
 * limit from the header, before any pixel memory is allocated.
 */
import { OcrError } from './types.ts';

export interface BmpHeader {
  width: number;
  height: number;
}

export interface DecodedBmp extends BmpHeader {
  /** Greyscale, one byte a pixel, rows top-down. */
  grey: Buffer;
}

interface BmpLayout extends BmpHeader {
  dataOffset: number;
  bitsPerPixel: number;
  topDown: boolean;
  headerSize: number;
  paletteSize: number;
}

function layout(bytes: Uint8Array): BmpLayout {
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new OcrError('corrupt', 'not a BMP file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 40) throw new OcrError('unsupported', `BMP core header (${headerSize} bytes) is not supported`);
  if (bytes.length < 14 + 40) throw new OcrError('corrupt', 'BMP header is truncated');
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const colours = view.getUint32(46, true);
  // 0: BI_RGB; 3: BI_BITFIELDS, accepted for 32-bit pixels in the usual BGRA order.
  if (compression !== 0 && !(compression === 3 && bitsPerPixel === 32)) {
    throw new OcrError('unsupported', `BMP compression ${compression} is not supported`);
  }
  if (![1, 4, 8, 24, 32].includes(bitsPerPixel)) throw new OcrError('unsupported', `BMP with ${bitsPerPixel} bits per pixel is not supported`);
  if (width <= 0 || rawHeight === 0) throw new OcrError('corrupt', 'BMP declares no pixels');
  const paletteSize = bitsPerPixel <= 8 ? colours || 1 << bitsPerPixel : 0;
  return { width, height: Math.abs(rawHeight), topDown: rawHeight < 0, dataOffset, bitsPerPixel, headerSize, paletteSize };
}

/** Width and height from the header alone. */
export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  const { width, height } = layout(bytes);
  return { width, height };
}

export function decodeBmp(bytes: Uint8Array, maxPixels: number): DecodedBmp {
  const l = layout(bytes);
  if (l.width * l.height > maxPixels) {
    throw new OcrError('image_too_large', `BMP declares ${l.width} x ${l.height} pixels, more than the limit of ${maxPixels}`);
  }
  const stride = Math.ceil((l.width * l.bitsPerPixel) / 32) * 4;
  if (l.dataOffset + stride * l.height > bytes.length) throw new OcrError('corrupt', 'BMP pixel data is truncated');
  const paletteStart = 14 + l.headerSize;
  const palette = new Uint8Array(l.paletteSize);
  for (let i = 0; i < l.paletteSize; i++) {
    const p = paletteStart + i * 4;
    if (p + 2 >= bytes.length) throw new OcrError('corrupt', 'BMP palette is truncated');
    palette[i] = luma(bytes[p + 2]!, bytes[p + 1]!, bytes[p]!);
  }
  const grey = Buffer.alloc(l.width * l.height);
  for (let y = 0; y < l.height; y++) {
    const row = l.dataOffset + (l.topDown ? y : l.height - 1 - y) * stride;
    const out = y * l.width;
    for (let x = 0; x < l.width; x++) {
      switch (l.bitsPerPixel) {
        case 24:
        case 32: {
          const p = row + x * (l.bitsPerPixel / 8);
          grey[out + x] = luma(bytes[p + 2]!, bytes[p + 1]!, bytes[p]!);
          break;
        }
        default: {
          const bit = x * l.bitsPerPixel;
          const byte = bytes[row + (bit >> 3)]!;
          const index = (byte >> (8 - l.bitsPerPixel - (bit & 7))) & ((1 << l.bitsPerPixel) - 1);
          grey[out + x] = palette[index] ?? 0;
        }
      }
    }
  }
  return { width: l.width, height: l.height, grey };
}

const luma = (r: number, g: number, b: number) => Math.round(0.299 * r + 0.587 * g + 0.114 * b);

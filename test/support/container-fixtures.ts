/**
 * Containers written by hand for the extraction tests and the benchmark: RFC 822 messages
 * (multipart, base64 and quoted-printable, encoded headers), small images whose page count is
 * known, and zip archives with entries marked encrypted.
 */
import { Buffer } from 'node:buffer';

export interface EmlPart {
  contentType: string;
  /** Content-Disposition, e.g. 'attachment; filename="a.docx"'. */
  disposition?: string;
  encoding?: 'base64' | 'quoted-printable' | '7bit' | '8bit';
  body: Uint8Array | string;
}

export interface EmlSpec {
  from?: string;
  to?: string;
  cc?: string;
  subject?: string;
  date?: string;
  messageId?: string;
  /** Header lines added as they are (e.g. a top-level Content-Type for S/MIME). */
  extraHeaders?: string[];
  /** One part: the message body is that part; several: multipart/mixed. */
  parts: EmlPart[];
}

const wrap76 = (s: string): string => s.replace(/.{1,76}/g, '$&\r\n').trimEnd();

function encodeBody(part: EmlPart): string {
  const bytes = typeof part.body === 'string' ? Buffer.from(part.body, 'utf8') : Buffer.from(part.body);
  if (part.encoding === 'base64') return wrap76(bytes.toString('base64'));
  if (part.encoding === 'quoted-printable') return quotedPrintable(bytes);
  return bytes.toString('latin1');
}

/** Quoted-printable with soft line breaks (RFC 2045 6.7), enough for tests. */
export function quotedPrintable(bytes: Uint8Array): string {
  let line = '';
  const lines: string[] = [];
  for (const b of bytes) {
    if (b === 0x0a) {
      lines.push(line);
      line = '';
      continue;
    }
    if (b === 0x0d) continue;
    const enc = (b >= 33 && b <= 126 && b !== 61) || b === 32 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    if (line.length + enc.length > 75) {
      lines.push(`${line}=`);
      line = '';
    }
    line += enc;
  }
  lines.push(line);
  return lines.join('\r\n');
}

function partHeaders(part: EmlPart): string {
  const h = [`Content-Type: ${part.contentType}`];
  if (part.encoding) h.push(`Content-Transfer-Encoding: ${part.encoding}`);
  if (part.disposition) h.push(`Content-Disposition: ${part.disposition}`);
  return h.join('\r\n');
}

let boundaries = 0;

export function buildEml(spec: EmlSpec): Uint8Array {
  const head = [
    `From: ${spec.from ?? 'Anna de Vries <anna@example.nl>'}`,
    `To: ${spec.to ?? 'Bob Jansen <bob@example.com>'}`,
    ...(spec.cc ? [`Cc: ${spec.cc}`] : []),
    `Subject: ${spec.subject ?? 'Offerte'}`,
    `Date: ${spec.date ?? 'Tue, 02 Jan 2024 10:11:12 +0100'}`,
    `Message-ID: ${spec.messageId ?? '<offerte-1@example.nl>'}`,
    'MIME-Version: 1.0',
    ...(spec.extraHeaders ?? []),
  ];
  const [only] = spec.parts;
  if (spec.parts.length === 1 && only) {
    return Buffer.from(`${head.join('\r\n')}\r\n${partHeaders(only)}\r\n\r\n${encodeBody(only)}\r\n`, 'latin1');
  }
  // Unique per message, so a message attached to another does not share its parent's boundary.
  const boundary = `----=_Part_${++boundaries}_123456789`;
  const body = spec.parts.map((p) => `--${boundary}\r\n${partHeaders(p)}\r\n\r\n${encodeBody(p)}\r\n`).join('');
  return Buffer.from(`${head.join('\r\n')}\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\nThis is a multi-part message in MIME format.\r\n${body}--${boundary}--\r\n`, 'latin1');
}

/** RFC 2047 encoded word (UTF-8, base64). */
export function encodedWord(s: string): string {
  return `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

/** A PNG signature and IHDR chunk: enough for detection (nothing decodes pixels in extraction). */
export const PNG_BYTES = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde,
]);

/**
 * A little-endian TIFF with `pages` image file directories of one entry each, chained; with
 * `loop`, the last points back at the first (a forged chain).
 */
export function buildTiff(pages: number, loop = false): Uint8Array {
  const ifdSize = 2 + 12 + 4;
  const out = new Uint8Array(8 + pages * ifdSize);
  const v = new DataView(out.buffer);
  out.set([0x49, 0x49], 0);
  v.setUint16(2, 42, true);
  v.setUint32(4, 8, true);
  for (let i = 0; i < pages; i++) {
    const at = 8 + i * ifdSize;
    v.setUint16(at, 1, true);
    v.setUint16(at + 2, 256, true); // ImageWidth
    v.setUint16(at + 4, 3, true);
    v.setUint32(at + 6, 1, true);
    v.setUint32(at + 10, 1, true);
    const next = i < pages - 1 ? at + ifdSize : loop ? 8 : 0;
    v.setUint32(at + 14, next, true);
  }
  return out;
}

/**
 * Sets the "encrypted" flag (general purpose bit 0) on the named entries of a zip, in the local
 * and the central headers, as a password-protecting archiver does (the data stays readable
 * deflate: what matters is that the reader refuses it).
 */
export function markEncrypted(zip: Uint8Array, names: (name: string) => boolean): Uint8Array {
  const out = new Uint8Array(zip);
  const v = new DataView(out.buffer);
  const dec = new TextDecoder();
  for (let p = 0; p + 46 <= out.length; p++) {
    const sig = v.getUint32(p, true);
    if (sig === 0x04034b50) {
      const nameLen = v.getUint16(p + 26, true);
      if (names(dec.decode(out.subarray(p + 30, p + 30 + nameLen)))) v.setUint16(p + 6, v.getUint16(p + 6, true) | 1, true);
    } else if (sig === 0x02014b50) {
      const nameLen = v.getUint16(p + 28, true);
      if (names(dec.decode(out.subarray(p + 46, p + 46 + nameLen)))) v.setUint16(p + 8, v.getUint16(p + 8, true) | 1, true);
    }
  }
  return out;
}

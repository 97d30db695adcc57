/**
 * Format detection from content: magic bytes, zip part names and content types, OLE stream
 * names, text sniffing. The file name only breaks ties (a .md and a .txt look alike) and names
 * damaged containers, so a JPEG named .docx is an image.
 */
import type { Detection } from './extractor.ts';
import { looksLikeOle, OleFile } from './ole.ts';
import { DEFAULT_EXTRACT_LIMITS, ExtractionError, type DocumentFormat, type ExtractLimits } from './types.ts';
import { looksLikeZip, openZip, type ZipArchive } from './zip.ts';
import { sniffText } from './charset.ts';

export const MIME: Record<string, string> = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  docm: 'application/vnd.ms-word.document.macroEnabled.12',
  dotx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.template',
  dotm: 'application/vnd.ms-word.template.macroEnabled.12',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xlsm: 'application/vnd.ms-excel.sheet.macroEnabled.12',
  xltx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.template',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  pptm: 'application/vnd.ms-powerpoint.presentation.macroEnabled.12',
  ppsx: 'application/vnd.openxmlformats-officedocument.presentationml.slideshow',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  html: 'text/html',
  json: 'application/json',
  xml: 'application/xml',
  rtf: 'application/rtf',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  ole: 'application/x-tika-msoffice',
  ooxmlProtected: 'application/x-tika-ooxml-protected',
  zip: 'application/zip',
  epub: 'application/epub+zip',
  eml: 'message/rfc822',
  msg: 'application/vnd.ms-outlook',
  octet: 'application/octet-stream',
};

/** What the extension claims, used only as a tie-breaker. */
export function extensionOf(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

const OOXML_BY_EXT: Record<string, DocumentFormat> = {
  docx: 'docx', docm: 'docx', dotx: 'docx', dotm: 'docx',
  xlsx: 'xlsx', xlsm: 'xlsx', xltx: 'xlsx', xltm: 'xlsx',
  pptx: 'pptx', pptm: 'pptx', potx: 'pptx', ppsx: 'pptx',
  odt: 'odt', ott: 'odt', ods: 'ods', ots: 'ods', odp: 'odp', otp: 'odp',
};

function startsWith(bytes: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (bytes.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[at + i] !== sig[i]) return false;
  return true;
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < Math.min(to, bytes.length); i++) s += String.fromCharCode(bytes[i] ?? 0);
  return s;
}

function image(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  const head = ascii(bytes, 0, 12);
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a')) return 'image/gif';
  if (head.startsWith('II*\0') || head.startsWith('MM\0*')) return 'image/tiff';
  if (head.startsWith('RIFF') && head.slice(8, 12) === 'WEBP') return 'image/webp';
  if (head.startsWith('BM') && bytes.length > 14 && new DataView(bytes.buffer, bytes.byteOffset).getUint32(2, true) === bytes.length) return 'image/bmp';
  if (head.slice(4, 12) === 'ftypheic' || head.slice(4, 12) === 'ftypavif') return `image/${head.slice(8, 12)}`;
  return undefined;
}

function otherBinary(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, [0x1f, 0x8b])) return 'application/gzip';
  if (startsWith(bytes, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return 'application/x-7z-compressed';
  if (ascii(bytes, 0, 4) === 'Rar!') return 'application/vnd.rar';
  if (ascii(bytes, 4, 8) === 'ftyp') return 'video/mp4';
  if (ascii(bytes, 0, 3) === 'ID3') return 'audio/mpeg';
  return undefined;
}

/** Position of '%PDF-' within the first KiB (some producers put a BOM or junk before it). */
export function pdfHeaderOffset(bytes: Uint8Array): number {
  const max = Math.min(bytes.length - 5, 1024);
  for (let i = 0; i <= max; i++) {
    if (bytes[i] === 0x25 && bytes[i + 1] === 0x50 && bytes[i + 2] === 0x44 && bytes[i + 3] === 0x46 && bytes[i + 4] === 0x2d) return i;
  }
  return -1;
}

function detectZip(bytes: Uint8Array, ext: string, limits: ExtractLimits): Detection {
  let zip: ZipArchive;
  try {
    zip = openZip(bytes, limits);
  } catch (err) {
    if (!(err instanceof ExtractionError)) throw err;
    // A damaged container is still what its name says; the extractor reports the damage.
    const format = OOXML_BY_EXT[ext] ?? 'zip';
    return { format, mimeType: MIME[ext] ?? MIME.zip ?? 'application/zip', note: err.message, error: err };
  }
  const mimetypeEntry = zip.find('mimetype');
  if (mimetypeEntry && mimetypeEntry.uncompressedSize < 200) {
    const mt = new TextDecoder().decode(zip.readEntry(mimetypeEntry)).trim();
    if (mt.startsWith('application/vnd.oasis.opendocument.text')) return { format: 'odt', mimeType: mt, zip };
    if (mt.startsWith('application/vnd.oasis.opendocument.spreadsheet')) return { format: 'ods', mimeType: mt, zip };
    if (mt.startsWith('application/vnd.oasis.opendocument.presentation')) return { format: 'odp', mimeType: mt, zip };
    if (mt === MIME.epub) return { format: 'other', mimeType: mt, zip };
  }
  if (zip.has('[Content_Types].xml')) {
    const ct = zip.entries.length ? contentTypesMain(zip) : '';
    const pick = (format: DocumentFormat, variant: string): Detection => ({ format, mimeType: MIME[variant] ?? MIME.octet ?? '', zip });
    if (/ms-word\.document\.macroEnabled/i.test(ct)) return pick('docx', 'docm');
    if (/ms-word\.template\.macroEnabled/i.test(ct)) return pick('docx', 'dotm');
    if (/wordprocessingml\.template/i.test(ct)) return pick('docx', 'dotx');
    if (/wordprocessingml\.document/i.test(ct)) return pick('docx', 'docx');
    if (/ms-excel\.sheet\.macroEnabled/i.test(ct)) return pick('xlsx', 'xlsm');
    if (/spreadsheetml\.template/i.test(ct)) return pick('xlsx', 'xltx');
    if (/spreadsheetml\.sheet/i.test(ct)) return pick('xlsx', 'xlsx');
    if (/ms-powerpoint\.presentation\.macroEnabled/i.test(ct)) return pick('pptx', 'pptm');
    if (/presentationml\.slideshow/i.test(ct)) return pick('pptx', 'ppsx');
    if (/presentationml\.presentation/i.test(ct)) return pick('pptx', 'pptx');
    // Content types missing or odd: fall back to the folder layout.
    const names = zip.entries.map((e) => e.name.toLowerCase());
    if (names.some((n) => n.startsWith('word/'))) return pick('docx', OOXML_BY_EXT[ext] === 'docx' ? ext : 'docx');
    if (names.some((n) => n.startsWith('xl/'))) return pick('xlsx', OOXML_BY_EXT[ext] === 'xlsx' ? ext : 'xlsx');
    if (names.some((n) => n.startsWith('ppt/'))) return pick('pptx', OOXML_BY_EXT[ext] === 'pptx' ? ext : 'pptx');
  }
  if (zip.has('content.xml') && zip.has('meta.xml') && OOXML_BY_EXT[ext]?.startsWith('od')) {
    return { format: OOXML_BY_EXT[ext] ?? 'odt', mimeType: MIME[ext] ?? MIME.odt ?? '', zip };
  }
  return { format: 'zip', mimeType: MIME.zip ?? 'application/zip', zip };
}

/** The main part's content type (Override for a *.main+xml part), or the whole list as a fallback. */
function contentTypesMain(zip: ZipArchive): string {
  const text = zip.readText('[Content_Types].xml') ?? '';
  const main = /ContentType="([^"]*\.main\+xml)"/i.exec(text)?.[1];
  return main ?? text;
}

export function detect(bytes: Uint8Array, fileName: string, limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS): Detection {
  const ext = extensionOf(fileName);
  if (bytes.length === 0) return { format: 'other', mimeType: 'application/x-empty' };
  if (looksLikeZip(bytes)) return detectZip(bytes, ext, limits);
  if (looksLikeOle(bytes)) return detectOle(bytes, ext);
  if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0])) {
    return { format: ext === 'xls' ? 'xls' : ext === 'ppt' ? 'ppt' : 'doc', mimeType: MIME.ole ?? '', error: new ExtractionError('corrupt', 'Truncated OLE compound file') };
  }
  if (pdfHeaderOffset(bytes) >= 0) return { format: 'pdf', mimeType: MIME.pdf ?? 'application/pdf' };
  const img = image(bytes);
  if (img) return { format: 'image', mimeType: img };
  if (ascii(bytes, 0, 5) === '{\\rtf') return { format: 'rtf', mimeType: MIME.rtf ?? '' };
  const bin = otherBinary(bytes);
  if (bin) return { format: 'other', mimeType: bin };
  const text = sniffText(bytes);
  if (!text) return { format: 'other', mimeType: MIME.octet ?? 'application/octet-stream' };
  if (looksLikeMail(text.sample)) return { format: 'eml', mimeType: MIME.eml ?? 'message/rfc822' };
  const head = text.sample.trimStart().slice(0, 256).toLowerCase();
  if (head.startsWith('{\\rtf')) return { format: 'rtf', mimeType: MIME.rtf ?? '' };
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || ext === 'html' || ext === 'htm' || ext === 'xhtml') {
    return { format: 'html', mimeType: MIME.html ?? 'text/html' };
  }
  if (ext === 'md' || ext === 'markdown') return { format: 'md', mimeType: MIME.md ?? '' };
  if (ext === 'csv') return { format: 'csv', mimeType: MIME.csv ?? '' };
  if (ext === 'tsv' || ext === 'tab') return { format: 'csv', mimeType: MIME.tsv ?? '' };
  if (ext === 'json') return { format: 'txt', mimeType: MIME.json ?? '' };
  if (ext === 'xml' || head.startsWith('<?xml')) return { format: 'txt', mimeType: MIME.xml ?? '' };
  return { format: 'txt', mimeType: MIME.txt ?? 'text/plain' };
}

function detectOle(bytes: Uint8Array, ext: string): Detection {
  let ole: OleFile;
  try {
    ole = new OleFile(bytes);
  } catch (err) {
    if (!(err instanceof ExtractionError)) throw err;
    const format: DocumentFormat = ext === 'xls' ? 'xls' : ext === 'ppt' ? 'ppt' : 'doc';
    return { format, mimeType: MIME[format] ?? MIME.ole ?? '', note: err.message, error: err };
  }
  if (ole.has('EncryptedPackage')) {
    // Password-protected OOXML: the real type is only known after decryption; trust the name.
    const format = OOXML_BY_EXT[ext] ?? 'docx';
    return { format, mimeType: MIME.ooxmlProtected ?? '', ole, encrypted: true };
  }
  if (ole.has('WordDocument')) return { format: 'doc', mimeType: MIME.doc ?? '', ole };
  if (ole.has('Workbook') || ole.has('Book')) return { format: 'xls', mimeType: MIME.xls ?? '', ole };
  if (ole.has('PowerPoint Document')) return { format: 'ppt', mimeType: MIME.ppt ?? '', ole };
  // An Outlook message: the MAPI property stream, and properties stored as __substg1.0_* streams.
  if (ole.has('__properties_version1.0') && ole.entries.some((e) => e.name.startsWith('__substg1.0_'))) {
    return { format: 'msg', mimeType: MIME.msg ?? '', ole };
  }
  return { format: 'other', mimeType: MIME.ole ?? '', ole };
}

/** Header fields that only messages carry (a note that starts "Subject: ..." is not enough). */
const MAIL_ONLY_HEADERS = new Set(['from', 'date', 'received', 'message-id', 'mime-version', 'return-path', 'delivered-to', 'x-mozilla-status']);
const MAIL_HEADERS = new Set([
  ...MAIL_ONLY_HEADERS, 'to', 'cc', 'bcc', 'subject', 'reply-to', 'sender', 'content-type', 'content-transfer-encoding',
  'in-reply-to', 'references', 'x-mailer', 'user-agent', 'dkim-signature', 'thread-topic', 'thread-index', 'importance',
]);

/**
 * An RFC 822 message starts with its header block: every line up to the first empty one is a
 * `Name: value` field or the folded continuation of one, with at least two fields that mail
 * has, one of them a field only mail has (From, Date, Received, Message-ID, ...).
 */
export function looksLikeMail(sample: string): boolean {
  // A message saved from an mbox keeps its "From sender date" separator line first.
  const start = sample.replace(/^\uFEFF/, '').replace(/^From [^\r\n:]*\d[^\r\n]*\r?\n/, '');
  const lines = start.split(/\r?\n/);
  // The header block must end inside the sample, unless the sample is cut at its very end.
  const known = new Set<string>();
  let fields = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') break;
    if (i === lines.length - 1 && i > 0) break; // cut by the sample window
    if (/^[ \t]/.test(line)) {
      if (i === 0) return false;
      continue;
    }
    const m = /^([!-9;-~]+)[ \t]*:/.exec(line);
    if (!m || !m[1]) return false;
    fields++;
    const name = m[1].toLowerCase();
    if (MAIL_HEADERS.has(name)) known.add(name);
  }
  return fields >= 2 && known.size >= 2 && [...known].some((n) => MAIL_ONLY_HEADERS.has(n));
}

/**
 * PDF through unpdf (a maintained, dependency-free build of Mozilla's pdf.js): the info
 * dictionary and XMP, page count, PDF version, encryption, and text page by page (pages are
 * separated by a form feed, as pdftotext does). Eval of embedded code is disabled; the pool's
 * wall-clock limit covers a parser that spins.
 */
import type { getDocumentProxy } from 'unpdf';
import { pdfHeaderOffset } from './detect.ts';
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { pageShowsImages, textLayerUsable } from '../ocr/pdf-text.ts';
import { TextBuilder } from './text-stats.ts';
import { ExtractionError, type DocumentProperties, type RawValue } from './types.ts';

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

const INFO_FIELDS: ReadonlyArray<[string, keyof DocumentProperties, string]> = [
  ['Title', 'title', 'dc:title'],
  ['Author', 'creator', 'dc:creator'],
  ['Subject', 'subject', 'dc:subject'],
  ['Keywords', 'keywords', 'meta:keyword'],
  ['Creator', 'application', 'xmp:CreatorTool'],
  ['Producer', 'appVersion', 'pdf:producer'],
];
const XMP_FIELDS: ReadonlyArray<[string, keyof DocumentProperties, string]> = [
  ['dc:title', 'title', 'dc:title'],
  ['dc:creator', 'creator', 'dc:creator'],
  ['dc:description', 'description', 'dc:description'],
  ['pdf:keywords', 'keywords', 'meta:keyword'],
  ['xmp:creatortool', 'application', 'xmp:CreatorTool'],
  ['dc:language', 'language', 'dc:language'],
];

export const pdfExtractor: Extractor = {
  formats: ['pdf'],
  async extract({ bytes, limits }: ExtractInput): Promise<ExtractorOutput> {
    const offset = pdfHeaderOffset(bytes);
    // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
    const data = bytes.slice(Math.max(0, offset));
    const version = /^%PDF-(\d\.\d)/.exec(new TextDecoder('latin1').decode(data.subarray(0, 16)))?.[1];
    const encrypted = hasEncryptDictionary(bytes);
    let pdf: PdfDocument;
    try {
      // pdf.js is large: load it in a thread only when that thread meets its first PDF.
      const { getDocumentProxy: open } = await import('unpdf');
      pdf = await open(data, { isEvalSupported: false, disableFontFace: true, useSystemFonts: false, stopAtErrors: false, verbosity: 0 });
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      const message = err instanceof Error ? err.message : String(err);
      if (name === 'PasswordException') throw new ExtractionError('encrypted', `PDF needs a password: ${message}`);
      throw new ExtractionError('corrupt', `PDF does not open: ${message}`);
    }
    try {
      const properties: DocumentProperties = {};
      const raw: Record<string, RawValue> = {};
      const warnings: string[] = [];
      const set = (key: keyof DocumentProperties, value: string | number) => {
        (properties as Record<string, unknown>)[key] = value;
      };
      const meta = await pdf.getMetadata().catch((err: unknown) => {
        warnings.push(`metadata unreadable: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      });
      const info = (meta?.info ?? {}) as Record<string, unknown>;
      for (const [key, prop, tika] of INFO_FIELDS) {
        const v = info[key];
        if (typeof v === 'string' && v.trim() !== '') {
          set(prop, v.trim());
          raw[tika] = v.trim();
        }
      }
      if (properties.appVersion) {
        // "Producer" is the converting library, not a version: keep it only under its Tika key.
        delete properties.appVersion;
      }
      for (const [key, prop, tika] of [['CreationDate', 'created', 'dcterms:created'], ['ModDate', 'modified', 'dcterms:modified']] as const) {
        const d = typeof info[key] === 'string' ? pdfDate(info[key]) : undefined;
        if (d) {
          set(prop, d);
          raw[tika] = d;
        }
      }
      const custom = info.Custom;
      if (custom && typeof custom === 'object') {
        const values: Record<string, string | number | boolean> = {};
        for (const [k, v] of Object.entries(custom as Record<string, unknown>)) {
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
            values[k] = v;
            raw[`pdf:docinfo:custom:${k}`] = v;
          } else if (v && typeof v === 'object' && 'name' in v) {
            values[k] = String((v as { name: unknown }).name);
          }
        }
        if (Object.keys(values).length) properties.custom = values;
      }
      const xmp = meta?.metadata as { get(name: string): unknown } | null | undefined;
      if (xmp && typeof xmp.get === 'function') {
        for (const [key, prop, tika] of XMP_FIELDS) {
          if (properties[prop] !== undefined) continue;
          const v = xmp.get(key);
          const s = Array.isArray(v) ? v.join('; ') : typeof v === 'string' ? v : undefined;
          if (s && s.trim()) {
            set(prop, s.trim());
            raw[tika] = s.trim();
          }
        }
      }
      const pdfVersion = typeof info.PDFFormatVersion === 'string' ? info.PDFFormatVersion : version;
      if (pdfVersion) {
        properties.version = pdfVersion;
        raw['pdf:PDFVersion'] = pdfVersion;
      }
      properties.pages = pdf.numPages;
      raw['xmpTPg:NPages'] = pdf.numPages;
      raw['meta:page-count'] = pdf.numPages;
      raw['pdf:encrypted'] = encrypted;
      raw['hasSignature'] = info.IsSignaturesPresent === true;

      const out = new TextBuilder(limits.maxTextChars);
      let pagesWithText = 0;
      // Pages without a usable text layer that show an image: scans, for OCR to read.
      const scanned: number[] = [];
      for (let n = 1; n <= pdf.numPages; n++) {
        const page = await pdf.getPage(n);
        const content = await page.getTextContent();
        let pageText = '';
        for (const item of content.items) {
          if (!('str' in item)) continue;
          pageText += item.hasEOL ? `${item.str}\n` : item.str;
        }
        if (pageText.trim()) pagesWithText++;
        if (!out.full) {
          out.add(pageText);
          if (n < pdf.numPages) out.add('\f');
        }
        if (!textLayerUsable(pageText) && (await pageShowsImages(page))) scanned.push(n);
        page.cleanup();
      }
      return {
        properties,
        raw,
        text: out.toString().trim(),
        textTruncated: out.truncated,
        counts: { pages: pdf.numPages, pagesWithText },
        ...(scanned.length > 0 ? { ocr: { pages: scanned, pageCount: pdf.numPages } } : {}),
        structure: {
          pages: pdf.numPages,
          encrypted,
          forms: info.IsAcroFormPresent === true,
          hasSignature: info.IsSignaturesPresent === true,
        },
        warnings,
      };
    } finally {
      await pdf.destroy();
    }
  },
};

/** An /Encrypt entry in a trailer (opened with the empty user password, but still encrypted). */
function hasEncryptDictionary(bytes: Uint8Array): boolean {
  const tail = new TextDecoder('latin1').decode(bytes.subarray(Math.max(0, bytes.length - 4096)));
  if (tail.includes('/Encrypt')) return true;
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  return head.includes('/Encrypt');
}

/** PDF dates look like D:20090101120000+01'00'. */
export function pdfDate(value: string): string | undefined {
  const m = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', tz] = m;
  let zone = 'Z';
  if (tz && tz !== 'Z') zone = `${tz.slice(0, 3)}:${tz.slice(3).replace(/'/g, '').padEnd(2, '0')}`;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

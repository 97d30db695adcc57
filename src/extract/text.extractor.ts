/**
 * Plain formats: .txt, .md, .csv/.tsv and .html, in any encoding charset.ts can tell. A title
 * comes from <title> or the first heading, since plain files have no property store.
 */
import { decodeBytes, sniffText } from './charset.ts';
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { htmlToText } from './html.ts';
import type { DocumentProperties, RawValue } from './types.ts';

export const plainTextExtractor: Extractor = {
  formats: ['txt', 'md', 'csv', 'html'],
  extract({ bytes, detection, limits }: ExtractInput): ExtractorOutput {
    const sniff = sniffText(bytes) ?? { encoding: 'utf-8', offset: 0, sample: '' };
    let encoding = sniff.encoding;
    if (detection.format === 'html' && sniff.offset === 0 && encoding !== 'utf-8') {
      // A declared charset beats our guess for single-byte pages.
      const declared = /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(sniff.sample)?.[1];
      if (declared && isKnownEncoding(declared)) encoding = declared.toLowerCase();
    }
    // Decode at most a bit more than we keep (4 bytes per char covers any encoding).
    const slice = bytes.length > limits.maxTextChars * 4 ? bytes.subarray(0, limits.maxTextChars * 4) : bytes;
    const decoded = decodeBytes(slice, encoding, sniff.offset).replace(/\r\n?/g, '\n');
    const properties: DocumentProperties = {};
    const raw: Record<string, RawValue> = { 'Content-Encoding': encoding };
    const structure: Record<string, number | boolean> = {};
    let text = decoded;
    if (detection.format === 'html') {
      const html = htmlToText(decoded);
      text = html.text;
      if (html.title) properties.title = html.title;
      if (html.language) {
        properties.language = html.language;
        raw['dc:language'] = html.language;
      }
      structure.tables = html.tables;
      structure.images = html.images;
      structure.headings = html.headings;
      for (const m of decoded.matchAll(/<meta\s+[^>]*name\s*=\s*["']([^"']+)["'][^>]*content\s*=\s*["']([^"']*)["']/gi)) {
        const name = (m[1] ?? '').toLowerCase();
        const value = m[2] ?? '';
        if (name === 'author') properties.creator = value;
        else if (name === 'description') properties.description = value;
        else if (name === 'keywords') properties.keywords = value;
        else if (name === 'generator') properties.application = value;
      }
    } else if (detection.format === 'md') {
      const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/m.exec(decoded)?.[1] ?? /^(.+)\n=+\s*$/m.exec(decoded)?.[1];
      if (heading) properties.title = heading.trim();
    } else if (detection.format === 'csv') {
      const lines = decoded.split('\n').filter((l) => l.trim() !== '');
      structure.rows = lines.length;
    }
    if (properties.title) raw['dc:title'] = properties.title;
    if (properties.creator) raw['dc:creator'] = properties.creator;
    return { properties, raw, text, textTruncated: slice !== bytes, structure };
  },
};

function isKnownEncoding(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
}

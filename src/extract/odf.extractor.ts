/**
 * OpenDocument (.odt, .ods, .odp): meta.xml properties (with Tika's keys) and content.xml
 * text. In ODF, dc:creator is the last editor and meta:initial-creator the author.
 */
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { normaliseDate, readXml } from './opc.ts';
import { TextBuilder } from './text-stats.ts';
import { ExtractionError, type DocumentProperties, type RawValue } from './types.ts';
import { attrOf, innerText, leafValues, XmlScanner } from './xml-scan.ts';
import { openZip } from './zip.ts';

const TEXT_FIELDS: ReadonlyArray<[string, keyof DocumentProperties, string]> = [
  ['title', 'title', 'dc:title'],
  ['subject', 'subject', 'dc:subject'],
  ['description', 'description', 'dc:description'],
  ['language', 'language', 'dc:language'],
  ['generator', 'application', 'extended-properties:Application'],
  ['initial-creator', 'creator', 'dc:creator'],
  ['creator', 'lastModifiedBy', 'meta:last-author'],
  ['editing-cycles', 'revision', 'cp:revision'],
];
const DATE_FIELDS: ReadonlyArray<[string, keyof DocumentProperties, string]> = [
  ['creation-date', 'created', 'dcterms:created'],
  ['date', 'modified', 'dcterms:modified'],
  ['print-date', 'lastPrinted', 'meta:print-date'],
];
const STAT_FIELDS: ReadonlyArray<[string, keyof DocumentProperties, string]> = [
  ['page-count', 'pages', 'meta:page-count'],
  ['word-count', 'words', 'meta:word-count'],
  ['character-count', 'charactersWithSpaces', 'meta:character-count'],
  ['paragraph-count', 'paragraphs', 'meta:paragraph-count'],
];

export const odfExtractor: Extractor = {
  formats: ['odt', 'ods', 'odp'],
  extract({ bytes, limits, detection }: ExtractInput): ExtractorOutput {
    const zip = detection.zip ?? openZip(bytes, limits);
    const manifest = readXml(zip, 'META-INF/manifest.xml');
    if (manifest && /<(?:\w+:)?encryption-data\b/.test(manifest) && /full-path="content\.xml"[^>]*>\s*<(?:\w+:)?encryption-data/.test(manifest)) {
      throw new ExtractionError('encrypted', 'Password-protected OpenDocument file (content.xml is encrypted)');
    }
    const properties: DocumentProperties = {};
    const raw: Record<string, RawValue> = {};
    const warnings: string[] = [];
    const set = (key: keyof DocumentProperties, value: string | number) => {
      (properties as Record<string, unknown>)[key] = value;
    };
    const meta = readXml(zip, 'meta.xml');
    if (meta === undefined) warnings.push('no meta.xml');
    else {
      const values = leafValues(meta);
      // ODF uses one element name (dc:creator) where we want a prefixed distinction: scan names.
      for (const [el, key, tika] of TEXT_FIELDS) {
        const v = values.get(el)?.find((x) => x !== '');
        if (v !== undefined) { set(key, v); raw[tika] = v; }
      }
      if (!properties.creator && properties.lastModifiedBy) { properties.creator = properties.lastModifiedBy; raw['dc:creator'] = properties.lastModifiedBy; }
      for (const [el, key, tika] of DATE_FIELDS) {
        const v = values.get(el)?.[0];
        const d = v ? normaliseDate(v) : undefined;
        if (d) { set(key, d); raw[tika] = d; }
      }
      const keywords = values.get('keyword');
      if (keywords?.length) {
        properties.keywords = keywords.join(', ');
        raw['meta:keyword'] = keywords.length === 1 ? (keywords[0] ?? '') : keywords;
      }
      const duration = values.get('editing-duration')?.[0];
      const minutes = duration ? isoDurationMinutes(duration) : undefined;
      if (minutes !== undefined) { properties.totalEditingTimeMinutes = minutes; raw['extended-properties:TotalTime'] = minutes; }
      const custom: Record<string, string | number | boolean> = {};
      const s = new XmlScanner(meta);
      while (s.next()) {
        if (s.closing) continue;
        if (s.name === 'document-statistic') {
          const tag = meta.slice(s.tagStart, s.tagEnd);
          for (const [attr, key, tika] of STAT_FIELDS) {
            const n = Number(attrOf(tag, attr));
            if (attrOf(tag, attr) !== undefined && Number.isFinite(n)) { set(key, n); raw[tika] = n; }
          }
          const tables = attrOf(tag, 'table-count');
          if (tables) raw['meta:table-count'] = Number(tables);
        } else if (s.name === 'template') {
          const href = s.attr('href');
          if (href) { properties.template = href; raw['extended-properties:Template'] = href; }
        } else if (s.name === 'user-defined') {
          const name = s.attr('name');
          const type = s.attr('value-type') ?? 'string';
          const text = s.elementText().trim();
          if (!name) continue;
          const value = type === 'float' && Number.isFinite(Number(text)) ? Number(text) : type === 'boolean' ? text === 'true' : text;
          custom[name] = value;
          raw[`custom:${name}`] = value;
        }
      }
      if (Object.keys(custom).length) properties.custom = custom;
    }

    const content = readXml(zip, 'content.xml');
    if (content === undefined) warnings.push('no content.xml');
    const out = new TextBuilder(limits.maxTextChars);
    const notes = new TextBuilder(limits.maxTextChars);
    const comments = new TextBuilder(limits.maxTextChars);
    const stats = scanOdfContent(content ?? '', out, notes, comments);
    const parts: Record<string, string> = {};
    if (stats.sheetNames.length) parts.sheetNames = stats.sheetNames.join('\n');
    const n = notes.toString().trim();
    if (n) parts.notes = n;
    const c = comments.toString().trim();
    if (c) parts.comments = c;
    const structure: Record<string, number | boolean> = {
      tables: stats.tables,
      images: stats.images,
      comments: stats.comments,
      trackedChanges: stats.changes > 0,
      encrypted: false,
    };
    if (detection.format === 'odp') {
      structure.slides = stats.pages;
      properties.slides = stats.pages;
      raw['meta:slide-count'] = stats.pages;
    }
    if (detection.format === 'ods') structure.sheets = stats.sheetNames.length;
    return {
      properties,
      raw,
      text: out.toString().replace(/\n{3,}/g, '\n\n').trim(),
      textTruncated: out.truncated,
      parts,
      counts: { paragraphs: stats.paragraphs, tables: stats.tables },
      structure,
      warnings: [...warnings, ...zip.partWarnings],
    };
  },
};

interface OdfStats { paragraphs: number; tables: number; images: number; comments: number; changes: number; pages: number; sheetNames: string[] }

function scanOdfContent(xml: string, out: TextBuilder, notes: TextBuilder, comments: TextBuilder): OdfStats {
  const stats: OdfStats = { paragraphs: 0, tables: 0, images: 0, comments: 0, changes: 0, pages: 0, sheetNames: [] };
  const s = new XmlScanner(xml);
  // Text is everything inside text:p / text:h that is not an element we skip; track our target.
  let target: TextBuilder = out;
  let notesDepth = 0;
  let annotationDepth = 0;
  let paraDepth = 0;
  let lastEnd = -1;
  while (!out.full && s.next()) {
    const n = s.name;
    if (paraDepth > 0 && lastEnd >= 0 && s.tagStart > lastEnd) target.add(innerText(xml, lastEnd, s.tagStart));
    lastEnd = -1;
    if (s.closing) {
      if (n === 'p' || n === 'h') {
        paraDepth = Math.max(0, paraDepth - 1);
        target.add('\n');
      } else if (n === 'notes') {
        if (--notesDepth === 0) target = annotationDepth ? comments : out;
      } else if (n === 'annotation') {
        if (--annotationDepth === 0) target = notesDepth ? notes : out;
      } else if (n === 'table-cell' && paraDepth === 0) target.add('\t');
      if (paraDepth > 0) lastEnd = s.tagEnd;
      continue;
    }
    switch (n) {
      case 'p':
      case 'h':
        if (!s.selfClosing) {
          paraDepth++;
          if (target === out) stats.paragraphs++;
        }
        break;
      case 's': {
        const c = Number(s.attr('c') ?? '1');
        target.add(' '.repeat(Number.isFinite(c) && c > 0 && c < 1000 ? c : 1));
        break;
      }
      case 'tab':
        target.add('\t');
        break;
      case 'line-break':
        target.add('\n');
        break;
      case 'table':
        stats.tables++;
        if (s.attr('name')) stats.sheetNames.push(s.attr('name') ?? '');
        break;
      case 'image':
        stats.images++;
        break;
      case 'page':
        stats.pages++;
        break;
      case 'changed-region':
        stats.changes++;
        break;
      case 'tracked-changes':
        // Deleted text lives here; it is not part of the document's current text.
        s.skipElement();
        break;
      case 'notes':
        if (!s.selfClosing && ++notesDepth === 1) target = notes;
        break;
      case 'annotation':
        if (!s.selfClosing) {
          stats.comments++;
          if (++annotationDepth === 1) target = comments;
        }
        break;
      case 'creator':
      case 'date':
        if (annotationDepth > 0) s.skipElement();
        break;
      default:
        break;
    }
    if (paraDepth > 0) lastEnd = s.tagEnd;
  }
  return stats;
}

function isoDurationMinutes(d: string): number | undefined {
  const m = /^P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(d);
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Math.round(Number(m[4] ?? 0) / 60);
}

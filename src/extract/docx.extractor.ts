/**
 * Word packages (.docx, .docm, .dotx, .dotm): properties from the OPC parts, body text from the
 * main part found through relationships, and headers, footers, footnotes, endnotes and comments
 * kept apart in `parts`.
 */
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { htmlToText } from './html.ts';
import {
  firstRel,
  overridesByContentType,
  packageFacts,
  readPackageProperties,
  readRelationships,
  readScannableXml,
  readXml,
  type Relationship,
} from './opc.ts';
import { TextBuilder } from './text-stats.ts';
import { ExtractionError } from './types.ts';
import { emptyWordStats, scanWordPart } from './word-scan.ts';
import { decodeText, openZip, type ZipArchive } from './zip.ts';
import { decodeMime } from './mime-chunk.ts';

/** Parts kept apart from the body, keyed by the relationship type that reaches them. */
const SIDE_PARTS: ReadonlyArray<[string, string]> = [
  ['header', 'headers'],
  ['footer', 'footers'],
  ['footnotes', 'footnotes'],
  ['endnotes', 'endnotes'],
  ['comments', 'comments'],
];

export function findMainPart(zip: ZipArchive, rels: Relationship[], contentTypeHint: RegExp, fallback: string): string | undefined {
  const viaRels = firstRel(rels, 'officedocument')?.target;
  if (viaRels && zip.has(viaRels)) return viaRels;
  for (const [ct, part] of overridesByContentType(zip)) {
    if (contentTypeHint.test(ct) && zip.has(part)) return part;
  }
  return zip.has(fallback) ? fallback : undefined;
}

export const docxExtractor: Extractor = {
  formats: ['docx'],
  extract({ bytes, limits, detection }: ExtractInput): ExtractorOutput {
    const zip = detection.zip ?? openZip(bytes, limits);
    const pkgRels = readRelationships(zip, '');
    const main = findMainPart(zip, pkgRels, /wordprocessingml\.(document|template)\.main|ms-word\.(document|template)\.macroEnabled/i, 'word/document.xml');
    if (!main) throw new ExtractionError('corrupt', 'Word package has no main document part');
    const { properties, raw, warnings } = readPackageProperties(zip, pkgRels);
    const mainRels = readRelationships(zip, main);
    const stats = emptyWordStats();

    const body = new TextBuilder(limits.maxTextChars);
    const mainXml = readScannableXml(zip, main) ?? { xml: '', source: () => '' };
    scanWordPart(mainXml, body, stats, (id) => altChunkText(zip, mainRels, id, warnings));

    const parts: Record<string, string> = {};
    const sideStats = emptyWordStats();
    for (const [relType, key] of SIDE_PARTS) {
      const side = new TextBuilder(limits.maxTextChars);
      for (const rel of mainRels) {
        if (rel.type !== relType || rel.external) continue;
        const xml = readScannableXml(zip, rel.target);
        if (xml === undefined) {
          warnings.push(`missing part ${rel.target}`);
          continue;
        }
        scanWordPart(xml, side, sideStats);
      }
      const text = side.toString().trim();
      if (text) parts[key] = text;
    }

    const settingsPart = firstRel(mainRels, 'settings')?.target;
    const settings = settingsPart ? readXml(zip, settingsPart) : undefined;
    // The regex only runs on the rare settings part that mentions protection at all.
    const isProtected = settings !== undefined && settings.includes('documentProtection') && /<(?:\w+:)?documentProtection\b[^>]*\benforcement="(?:1|true|on)"/.test(settings);
    const facts = packageFacts(zip, pkgRels);
    raw['protected'] = isProtected;
    raw['hasSignature'] = facts.hasSignature;

    return {
      properties,
      raw,
      text: body.toStringWithoutTrailingNewlines(),
      textTruncated: body.truncated,
      parts,
      counts: { paragraphs: stats.paragraphs, tables: stats.tables },
      structure: {
        tables: stats.tables,
        images: stats.images,
        sections: Math.max(stats.sections, 1),
        trackedChanges: stats.insertions + stats.deletions > 0,
        insertions: stats.insertions,
        deletions: stats.deletions,
        comments: sideStats.comments,
        headers: mainRels.filter((r) => r.type === 'header').length,
        footers: mainRels.filter((r) => r.type === 'footer').length,
        macros: facts.macros,
        protected: isProtected,
        hasSignature: facts.hasSignature,
        encrypted: false,
      },
      warnings: [...warnings, ...zip.partWarnings],
    };
  },
};

/** altChunk: a body imported as HTML, MHT or plain text, kept in its own part. */
function altChunkText(zip: ZipArchive, rels: Relationship[], id: string, warnings: string[]): string | undefined {
  const rel = rels.find((r) => r.id === id && !r.external);
  if (!rel) return undefined;
  const data = zip.read(rel.target);
  if (!data) {
    warnings.push(`altChunk part ${rel.target} is missing`);
    return undefined;
  }
  const name = rel.target.toLowerCase();
  let text = decodeText(data);
  if (name.endsWith('.mht') || name.endsWith('.mhtml') || /^MIME-Version:/im.test(text.slice(0, 2000))) text = decodeMime(text);
  if (name.endsWith('.txt')) return text;
  if (name.endsWith('.docx') || name.endsWith('.rtf')) {
    warnings.push(`altChunk ${rel.target} (${name.slice(name.lastIndexOf('.'))}) not read`);
    return undefined;
  }
  return htmlToText(text).text;
}

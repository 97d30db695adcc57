/**
 * PowerPoint packages (.pptx, .pptm): slide text in presentation order (sldIdLst), speaker
 * notes kept apart, comments counted.
 */
import { findMainPart } from './docx.extractor.ts';
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { firstRel, packageFacts, readPackageProperties, readRelationships, readXml } from './opc.ts';
import { TextBuilder } from './text-stats.ts';
import { ExtractionError } from './types.ts';
import { innerText, XmlScanner } from './xml-scan.ts';
import { openZip } from './zip.ts';

interface DrawingStats { tables: number; images: number }

export const pptxExtractor: Extractor = {
  formats: ['pptx'],
  extract({ bytes, limits, detection }: ExtractInput): ExtractorOutput {
    const zip = detection.zip ?? openZip(bytes, limits);
    const pkgRels = readRelationships(zip, '');
    const main = findMainPart(zip, pkgRels, /presentationml\.(presentation|slideshow|template)\.main|ms-powerpoint\.\w+\.macroEnabled/i, 'ppt/presentation.xml');
    if (!main) throw new ExtractionError('corrupt', 'PowerPoint package has no presentation part');
    const { properties, raw, warnings } = readPackageProperties(zip, pkgRels);
    const presRels = readRelationships(zip, main);
    const presentation = readXml(zip, main) ?? '';

    // Slide order is sldIdLst's, not the part names' (slide10.xml sorts before slide2.xml).
    const order: string[] = [];
    const s = new XmlScanner(presentation);
    while (s.next()) if (!s.closing && s.name === 'sldId') order.push(s.attr('id') ?? '');
    const byId = new Map(presRels.map((r) => [r.id, r]));
    const slides = order.map((id) => byId.get(id)).filter((r) => r !== undefined && r.type === 'slide' && !r.external);
    if (slides.length === 0) slides.push(...presRels.filter((r) => r.type === 'slide' && !r.external));

    const body = new TextBuilder(limits.maxTextChars);
    const notes = new TextBuilder(limits.maxTextChars);
    const stats: DrawingStats = { tables: 0, images: 0 };
    let notesCount = 0;
    let comments = 0;
    for (const slide of slides) {
      if (!slide || body.full) continue;
      const xml = readXml(zip, slide.target);
      if (xml === undefined) {
        warnings.push(`missing slide ${slide.target}`);
        continue;
      }
      scanDrawingText(xml, body, stats);
      body.add('\n');
      const slideRels = readRelationships(zip, slide.target);
      const notesRel = firstRel(slideRels, 'notesslide');
      const notesXml = notesRel ? readXml(zip, notesRel.target) : undefined;
      if (notesXml) {
        const before = notes.length;
        scanDrawingText(notesXml, notes, { tables: 0, images: 0 }, true);
        if (notes.length > before) {
          notesCount++;
          notes.add('\n');
        }
      }
      for (const r of slideRels) {
        if (r.type === 'comments') comments += (readXml(zip, r.target) ?? '').split(/<(?:\w+:)?cm\b/).length - 1;
      }
    }
    const facts = packageFacts(zip, pkgRels);
    raw['hasSignature'] = facts.hasSignature;
    const parts: Record<string, string> = {};
    const notesText = notes.toString().trim();
    if (notesText) parts.notes = notesText;
    return {
      properties,
      raw,
      text: body.toString().replace(/\n{3,}/g, '\n\n').trim(),
      textTruncated: body.truncated,
      parts,
      counts: { slides: slides.length, notes: notesCount, tables: stats.tables },
      structure: {
        slides: slides.length,
        notes: notesCount,
        tables: stats.tables,
        images: stats.images,
        comments,
        macros: facts.macros,
        hasSignature: facts.hasSignature,
        encrypted: false,
      },
      warnings: [...warnings, ...zip.partWarnings],
    };
  },
};

/**
 * DrawingML text (a:t in a:p). In notes, the slide-image and slide-number placeholders are
 * skipped so only what the speaker wrote remains.
 */
function scanDrawingText(xml: string, out: TextBuilder, stats: DrawingStats, notesOnly = false): void {
  const s = new XmlScanner(xml);
  let textStart = -1;
  let skipShape = false;
  while (!out.full && s.next()) {
    const n = s.name;
    if (s.closing) {
      if (n === 't' && textStart >= 0) {
        if (!skipShape) out.add(innerText(xml, textStart, s.tagStart));
        textStart = -1;
      } else if (n === 'p' && !skipShape) out.add('\n');
      else if (n === 'sp') skipShape = false;
      continue;
    }
    if (n === 't' && !s.selfClosing) textStart = s.tagEnd;
    else if (n === 'br') out.add('\n');
    else if (n === 'tbl') stats.tables++;
    else if (n === 'pic') stats.images++;
    else if (n === 'Fallback') s.skipElement();
    else if (notesOnly && n === 'ph') {
      const type = s.attr('type');
      if (type === 'sldNum' || type === 'sldImg' || type === 'hdr' || type === 'ftr' || type === 'dt') skipShape = true;
    }
  }
}

/**
 * Text and structure of a WordprocessingML part (body, header, footer, footnotes, comments) in
 * one forward pass. Only runs' text elements are taken, so deleted text (w:delText) and field
 * codes (w:instrText) stay out, and mc:Fallback copies of text boxes are skipped so they do not
 * appear twice.
 */
import type { TextBuilder } from './text-stats.ts';
import { innerText, XmlScanner } from './xml-scan.ts';

export interface WordStats {
  paragraphs: number;
  tables: number;
  sections: number;
  images: number;
  insertions: number;
  deletions: number;
  /** w:comment elements (in the comments part). */
  comments: number;
}

export function emptyWordStats(): WordStats {
  return { paragraphs: 0, tables: 0, sections: 0, images: 0, insertions: 0, deletions: 0, comments: 0 };
}

/** Text of an embedded altChunk body, looked up by relationship id. */
export type AltChunkResolver = (relId: string) => string | undefined;

export function scanWordPart(xml: string, out: TextBuilder, stats: WordStats, altChunk?: AltChunkResolver): void {
  const s = new XmlScanner(xml);
  let inRun = 0;
  let textStart = -1;
  let paraStartLength = out.length;
  while (!out.full && s.next()) {
    const n = s.name;
    if (s.closing) {
      if (n === 't') {
        if (textStart >= 0) out.add(innerText(xml, textStart, s.tagStart));
        textStart = -1;
      } else if (n === 'p') {
        if (out.length > paraStartLength) stats.paragraphs++;
        out.add('\n');
        paraStartLength = out.length;
      } else if (n === 'r') {
        if (inRun > 0) inRun--;
      }
      continue;
    }
    switch (n) {
      case 't':
        if (!s.selfClosing) textStart = s.tagEnd;
        break;
      case 'r':
        if (!s.selfClosing) inRun++;
        break;
      case 'p':
        paraStartLength = out.length;
        if (s.selfClosing) out.add('\n');
        break;
      case 'tab':
        // w:tab also appears in paragraph tab-stop definitions, which are not text.
        if (inRun > 0) out.add('\t');
        break;
      case 'br':
      case 'cr':
        if (inRun > 0) out.add('\n');
        break;
      case 'noBreakHyphen':
        out.add('-');
        break;
      case 'tbl':
        stats.tables++;
        break;
      case 'sectPr':
        stats.sections++;
        break;
      case 'blip':
      case 'imagedata':
        stats.images++;
        break;
      case 'ins':
      case 'moveTo':
        stats.insertions++;
        break;
      case 'del':
      case 'moveFrom':
        stats.deletions++;
        break;
      case 'comment':
        stats.comments++;
        break;
      case 'Fallback':
        s.skipElement();
        break;
      case 'altChunk': {
        const id = s.attr('id');
        const chunk = id && altChunk ? altChunk(id) : undefined;
        if (chunk) {
          out.add(chunk);
          out.add('\n');
        }
        break;
      }
      default:
        break;
    }
  }
}

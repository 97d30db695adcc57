/**
 * Text and structure of a WordprocessingML part (body, header, footer, footnotes, comments) in
 * one forward pass. Only runs' text elements are taken, so deleted text (w:delText) and field
 * codes (w:instrText) stay out, and mc:Fallback copies of text boxes are skipped so they do not
 * appear twice.
 *
 * The body part is the largest thing a .docx holds and this pass is the extractor's hot loop, so
 * it does not go through the general XmlScanner: it reads tag names in place (no substring per
 * tag), recognises the few names it acts on by length and characters, and finds each tag's end in
 * the same walk. It treats tags exactly as XmlScanner does (local names, comments, CDATA,
 * processing instructions, quoted '>' in attributes); test/unit/extract-word-scan.test.ts holds
 * the XmlScanner-based reference and checks the two agree on awkward inputs.
 */
import type { TextBuilder } from './text-stats.ts';
import { attrOf, decodeEntities, markupText, type ScannableXml } from './xml-scan.ts';

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

/** The element names the scan acts on. */
const enum Tag {
  Other,
  T,
  R,
  P,
  Tab,
  Br,
  NoBreakHyphen,
  Tbl,
  SectPr,
  Image,
  Insertion,
  Deletion,
  Comment,
  Fallback,
  AltChunk,
}

/** Whether xml[from, from + name.length) is `name` (compared by code unit: inlined, unlike startsWith). */
function nameAt(xml: string, from: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) if (xml.charCodeAt(from + k) !== name.charCodeAt(k)) return false;
  return true;
}

/** Recognises a local name xml[from, to) without making a string of it. */
function tagOf(xml: string, from: number, to: number): Tag {
  const c = xml.charCodeAt(from);
  switch (to - from) {
    case 1:
      return c === 116 /* t */ ? Tag.T : c === 114 /* r */ ? Tag.R : c === 112 /* p */ ? Tag.P : Tag.Other;
    case 2:
      return (c === 98 /* b */ || c === 99) /* c */ && xml.charCodeAt(from + 1) === 114 /* r */ ? Tag.Br : Tag.Other;
    case 3:
      if (c === 116 /* t */) return nameAt(xml, from, 'tab') ? Tag.Tab : nameAt(xml, from, 'tbl') ? Tag.Tbl : Tag.Other;
      if (c === 105 /* i */) return nameAt(xml, from, 'ins') ? Tag.Insertion : Tag.Other;
      return c === 100 /* d */ && nameAt(xml, from, 'del') ? Tag.Deletion : Tag.Other;
    case 4:
      return c === 98 /* b */ && nameAt(xml, from, 'blip') ? Tag.Image : Tag.Other;
    case 6:
      if (c === 115 /* s */) return nameAt(xml, from, 'sectPr') ? Tag.SectPr : Tag.Other;
      return c === 109 /* m */ && nameAt(xml, from, 'moveTo') ? Tag.Insertion : Tag.Other;
    case 7:
      return c === 99 /* c */ && nameAt(xml, from, 'comment') ? Tag.Comment : Tag.Other;
    case 8:
      if (c === 109 /* m */) return nameAt(xml, from, 'moveFrom') ? Tag.Deletion : Tag.Other;
      if (c === 70 /* F */) return nameAt(xml, from, 'Fallback') ? Tag.Fallback : Tag.Other;
      return c === 97 /* a */ && nameAt(xml, from, 'altChunk') ? Tag.AltChunk : Tag.Other;
    case 9:
      return c === 105 /* i */ && nameAt(xml, from, 'imagedata') ? Tag.Image : Tag.Other;
    case 13:
      return c === 110 /* n */ && nameAt(xml, from, 'noBreakHyphen') ? Tag.NoBreakHyphen : Tag.Other;
    default:
      return Tag.Other;
  }
}

/**
 * Finds the '>' that ends each tag, as findTagEnd does (quoted attribute values may hold '>'),
 * with indexOf instead of a loop over the tag's characters. The next quote of each kind is
 * remembered across tags, so a part without apostrophes is searched for one once, not per tag.
 */
class TagEnds {
  private nextDouble = -1;
  private nextSingle = -1;

  constructor(private readonly xml: string) {}

  /** Index of the '>' ending the tag whose attributes start at `from`; -1 if none. */
  find(from: number): number {
    const xml = this.xml;
    let at = from;
    let gt = xml.indexOf('>', at);
    while (gt >= 0) {
      if (this.nextDouble < at) this.nextDouble = indexOrEnd(xml, '"', at);
      if (this.nextSingle < at) this.nextSingle = indexOrEnd(xml, "'", at);
      const quote = Math.min(this.nextDouble, this.nextSingle);
      if (quote > gt) return gt;
      const close = xml.indexOf(quote === this.nextDouble ? '"' : "'", quote + 1);
      if (close < 0) return -1;
      at = close + 1;
      if (gt < at) gt = xml.indexOf('>', at);
    }
    return -1;
  }
}

/** indexOf, with the string's length for "none" so a cached position never needs a new search. */
function indexOrEnd(xml: string, char: string, from: number): number {
  const i = xml.indexOf(char, from);
  return i < 0 ? xml.length : i;
}

export function scanWordPart(part: ScannableXml, out: TextBuilder, stats: WordStats, altChunk?: AltChunkResolver): void {
  const xml = part.xml;
  const n = xml.length;
  const tagEnds = new TagEnds(xml);
  let pos = 0;
  let inRun = 0;
  let textStart = -1;
  let paraStartLength = out.length;
  /** Inside an mc:Fallback: the nesting depth of Fallback elements still open (0 = not skipping). */
  let fallbackDepth = 0;
  while (!out.full) {
    const from = pos;
    // Word writes tags back to back, so the next '<' is most often the next character.
    const lt = xml.charCodeAt(from) === 60 /* < */ ? from : xml.indexOf('<', from);
    if (lt < 0 || lt + 1 >= n) return;
    const c = xml.charCodeAt(lt + 1);
    if (c === 33 /* ! */) {
      // Comment or CDATA: skip; text runs pick CDATA up through markupText().
      let e: number;
      if (xml.startsWith('<!--', lt)) e = (e = xml.indexOf('-->', lt + 4)) < 0 ? n : e + 3;
      else if (xml.startsWith('<![CDATA[', lt)) e = (e = xml.indexOf(']]>', lt + 9)) < 0 ? n : e + 3;
      else e = (e = xml.indexOf('>', lt + 2)) < 0 ? n : e + 1;
      pos = e;
      continue;
    }
    if (c === 63 /* ? */) {
      const e = xml.indexOf('?>', lt + 2);
      pos = e < 0 ? n : e + 2;
      continue;
    }
    const closing = c === 47; /* / */
    let i = closing ? lt + 2 : lt + 1;
    let nameStart = i;
    for (; i < n; i++) {
      const ch = xml.charCodeAt(i);
      if (ch === 58 /* : */) nameStart = i + 1;
      else if (ch === 62 || ch === 47 || ch === 32 || ch === 9 || ch === 10 || ch === 13) break;
    }
    // Most tags end right after their name ('>' or '/>'); only tags with attributes need the search.
    const stop = xml.charCodeAt(i);
    const end = stop === 62 /* > */ ? i : stop === 47 /* / */ && xml.charCodeAt(i + 1) === 62 ? i + 1 : tagEnds.find(i);
    if (end < 0) return;
    pos = end + 1;
    const tag = tagOf(xml, nameStart, i);
    const selfClosing = !closing && xml.charCodeAt(end - 1) === 47; /* / */
    if (fallbackDepth > 0) {
      // Skipping an mc:Fallback: only nested Fallback elements matter, to find its end.
      if (tag === Tag.Fallback) {
        if (closing) fallbackDepth--;
        else if (!selfClosing) fallbackDepth++;
      }
      continue;
    }
    if (closing) {
      if (tag === Tag.T) {
        if (textStart >= 0) {
          // A run's text is usually plain: then this search for '<' just found its end tag,
          // and only entities are left to decode.
          const raw = part.source(textStart, lt);
          out.add(from === textStart ? decodeEntities(raw) : markupText(raw));
        }
        textStart = -1;
      } else if (tag === Tag.P) {
        if (out.length > paraStartLength) stats.paragraphs++;
        out.add('\n');
        paraStartLength = out.length;
      } else if (tag === Tag.R) {
        if (inRun > 0) inRun--;
      }
      continue;
    }
    switch (tag) {
      case Tag.Other:
        break;
      case Tag.T:
        if (!selfClosing) textStart = end + 1;
        break;
      case Tag.R:
        if (!selfClosing) inRun++;
        break;
      case Tag.P:
        paraStartLength = out.length;
        if (selfClosing) out.add('\n');
        break;
      case Tag.Tab:
        // w:tab also appears in paragraph tab-stop definitions, which are not text.
        if (inRun > 0) out.add('\t');
        break;
      case Tag.Br:
        if (inRun > 0) out.add('\n');
        break;
      case Tag.NoBreakHyphen:
        out.add('-');
        break;
      case Tag.Tbl:
        stats.tables++;
        break;
      case Tag.SectPr:
        stats.sections++;
        break;
      case Tag.Image:
        stats.images++;
        break;
      case Tag.Insertion:
        stats.insertions++;
        break;
      case Tag.Deletion:
        stats.deletions++;
        break;
      case Tag.Comment:
        stats.comments++;
        break;
      case Tag.Fallback:
        if (!selfClosing) fallbackDepth = 1;
        break;
      case Tag.AltChunk: {
        const id = attrOf(part.source(lt, end + 1), 'id');
        const chunk = id && altChunk ? altChunk(id) : undefined;
        if (chunk) {
          out.add(chunk);
          out.add('\n');
        }
        break;
      }
    }
  }
}

/**
 * Excel packages (.xlsx, .xlsm): sheet names from the workbook, text from the shared-string
 * table (where Excel keeps every text cell once) plus inline strings. Cell numbers are not text
 * worth classifying, so sheets are only opened for inline strings and comments are counted.
 */
import { findMainPart } from './docx.extractor.ts';
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { packageFacts, readPackageProperties, readRelationships, readXml } from './opc.ts';
import { TextBuilder } from './text-stats.ts';
import { ExtractionError } from './types.ts';
import { innerText, XmlScanner } from './xml-scan.ts';
import { openZip } from './zip.ts';

export const xlsxExtractor: Extractor = {
  formats: ['xlsx'],
  extract({ bytes, limits, detection }: ExtractInput): ExtractorOutput {
    const zip = detection.zip ?? openZip(bytes, limits);
    const pkgRels = readRelationships(zip, '');
    const main = findMainPart(zip, pkgRels, /spreadsheetml\.(sheet|template)\.main|ms-excel\.(sheet|template)\.macroEnabled/i, 'xl/workbook.xml');
    if (!main) throw new ExtractionError('corrupt', 'Excel package has no workbook part');
    const { properties, raw, warnings } = readPackageProperties(zip, pkgRels);
    const wbRels = readRelationships(zip, main);
    const workbook = readXml(zip, main) ?? '';

    const sheetNames: string[] = [];
    const s = new XmlScanner(workbook);
    while (s.next()) if (!s.closing && s.name === 'sheet') sheetNames.push(s.attr('name') ?? '');

    const out = new TextBuilder(limits.maxTextChars);
    let strings = 0;
    for (const rel of wbRels) {
      if (rel.type !== 'sharedstrings' || rel.external) continue;
      const xml = readXml(zip, rel.target);
      if (xml) strings += scanStrings(xml, out, 'si');
    }
    let comments = 0;
    let tables = 0;
    let images = 0;
    for (const rel of wbRels) {
      if (rel.type !== 'worksheet' || rel.external || out.full) continue;
      const xml = readXml(zip, rel.target);
      if (xml === undefined) continue;
      if (xml.includes('inlineStr')) scanStrings(xml, out, 'is');
      for (const sheetRel of readRelationships(zip, rel.target)) {
        if (sheetRel.type === 'comments') {
          const c = readXml(zip, sheetRel.target) ?? '';
          comments += c.split(/<(?:\w+:)?comment\b/).length - 1;
        } else if (sheetRel.type === 'table') tables++;
        else if (sheetRel.type === 'drawing') images++;
      }
    }
    const facts = packageFacts(zip, pkgRels);
    raw['protected'] = /<(?:\w+:)?workbookProtection\b/.test(workbook);
    raw['hasSignature'] = facts.hasSignature;
    return {
      properties,
      raw,
      text: out.toStringWithoutTrailingNewlines(),
      textTruncated: out.truncated,
      parts: { sheetNames: sheetNames.join('\n') },
      counts: { sheets: sheetNames.length, sharedStrings: strings, tables },
      structure: {
        sheets: sheetNames.length,
        tables,
        drawings: images,
        comments,
        macros: facts.macros,
        hasSignature: facts.hasSignature,
        encrypted: false,
      },
      warnings: [...warnings, ...zip.partWarnings],
    };
  },
};

/** Text of each string item (si / is): its t elements joined, phonetic runs (rPh) skipped. */
function scanStrings(xml: string, out: TextBuilder, item: string): number {
  const s = new XmlScanner(xml);
  let count = 0;
  let textStart = -1;
  let itemHasText = false;
  while (!out.full && s.next()) {
    if (s.closing) {
      if (s.name === 't' && textStart >= 0) {
        const t = innerText(xml, textStart, s.tagStart);
        if (t) {
          out.add(t);
          itemHasText = true;
        }
        textStart = -1;
      } else if (s.name === item) {
        if (itemHasText) out.add('\n');
        itemHasText = false;
      }
      continue;
    }
    if (s.name === item) count++;
    else if (s.name === 't' && !s.selfClosing) textStart = s.tagEnd;
    else if (s.name === 'rPh') s.skipElement();
  }
  return count;
}

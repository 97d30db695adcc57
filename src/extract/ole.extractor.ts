/**
 * Legacy Office (.doc, .xls, .ppt): the OLE property sets, and for Word 97-2003 the body text
 * through the piece table. Excel and PowerPoint binary text is not read (properties only, with
 * a warning); a compound file with neither property sets nor readable text is `unsupported`.
 */
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { decodeWindows1252 } from './charset.ts';
import { applyPropertySets, readPropertySet } from './ole-properties.ts';
import { OleFile } from './ole.ts';
import { TextBuilder } from './text-stats.ts';
import { ExtractionError, type DocumentProperties, type RawValue } from './types.ts';

export const oleExtractor: Extractor = {
  formats: ['doc', 'xls', 'ppt'],
  extract({ bytes, limits, detection }: ExtractInput): ExtractorOutput {
    const ole = detection.ole ?? new OleFile(bytes);
    const properties: DocumentProperties = {};
    const raw: Record<string, RawValue> = {};
    const warnings: string[] = [];
    const summary = ole.readStream('\u0005SummaryInformation');
    const docSummary = ole.readStream('\u0005DocumentSummaryInformation');
    applyPropertySets(summary ? readPropertySet(summary) : new Map(), docSummary ? readPropertySet(docSummary) : new Map(), properties, raw);
    let text = '';
    let truncated = false;
    const structure: Record<string, number | boolean> = { encrypted: false, macros: ole.has('Macros') || ole.has('_VBA_PROJECT_CUR') };
    if (detection.format === 'doc') {
      const word = readWordText(ole, limits.maxTextChars);
      if (word.encrypted) throw new ExtractionError('encrypted', 'Password-protected Word 97-2003 document');
      if (word.error) warnings.push(word.error);
      text = word.text;
      truncated = word.truncated;
    } else {
      warnings.push(`text of legacy ${detection.format} files is not extracted (properties only)`);
    }
    if (Object.keys(properties).length === 0 && text === '') {
      throw new ExtractionError('unsupported', `Unsupported legacy ${detection.format} file: no property sets and no readable text`);
    }
    return { properties, raw, text, textTruncated: truncated, structure, warnings };
  },
};

interface WordText { text: string; truncated: boolean; encrypted: boolean; error?: string }

/** Word 97-2003 text: the FIB points at the CLX in the table stream, whose pieces hold the text. */
function readWordText(ole: OleFile, maxChars: number): WordText {
  const doc = ole.readStream('WordDocument');
  if (!doc || doc.length < 0x1aa) return { text: '', truncated: false, encrypted: false, error: 'WordDocument stream too short' };
  const v = new DataView(doc.buffer, doc.byteOffset, doc.byteLength);
  if (v.getUint16(0, true) !== 0xa5ec) return { text: '', truncated: false, encrypted: false, error: 'not a Word 97+ FIB (Word 6/95 files are not read)' };
  const flags = v.getUint16(0x0a, true);
  if (flags & 0x0100) return { text: '', truncated: false, encrypted: true };
  const table = ole.readStream(flags & 0x0200 ? '1Table' : '0Table');
  const ccpText = v.getInt32(0x4c, true);
  const fcClx = v.getUint32(0x1a2, true);
  const lcbClx = v.getUint32(0x1a6, true);
  if (!table || fcClx + lcbClx > table.length || lcbClx === 0) return { text: '', truncated: false, encrypted: false, error: 'no piece table' };
  const t = new DataView(table.buffer, table.byteOffset, table.byteLength);
  let p = fcClx;
  const end = fcClx + lcbClx;
  while (p < end && table[p] === 0x01) p += 3 + t.getUint16(p + 1, true);
  if (table[p] !== 0x02 || p + 5 > end) return { text: '', truncated: false, encrypted: false, error: 'piece table not found' };
  const lcb = t.getUint32(p + 1, true);
  const plc = p + 5;
  const n = Math.floor((lcb - 4) / 12);
  if (plc + lcb > table.length || n <= 0) return { text: '', truncated: false, encrypted: false, error: 'piece table truncated' };
  const out = new TextBuilder(maxChars);
  const cp1252 = { decode: decodeWindows1252 };
  const utf16 = new TextDecoder('utf-16le');
  let remaining = ccpText > 0 ? ccpText : Number.MAX_SAFE_INTEGER;
  let raw = '';
  for (let i = 0; i < n && remaining > 0 && raw.length < maxChars; i++) {
    const cpStart = t.getUint32(plc + i * 4, true);
    const cpEnd = t.getUint32(plc + (i + 1) * 4, true);
    const pcd = plc + (n + 1) * 4 + i * 8;
    const fcRaw = t.getUint32(pcd + 2, true);
    const compressed = (fcRaw & 0x40000000) !== 0;
    const count = Math.min(Math.max(cpEnd - cpStart, 0), remaining);
    remaining -= count;
    if (compressed) {
      const fc = (fcRaw & 0x3fffffff) / 2;
      if (fc + count > doc.length) break;
      raw += cp1252.decode(doc.subarray(fc, fc + count));
    } else {
      const fc = fcRaw & 0x3fffffff;
      if (fc + count * 2 > doc.length) break;
      raw += utf16.decode(doc.subarray(fc, fc + count * 2));
    }
  }
  out.add(cleanWordText(raw));
  return { text: out.toString().trim(), truncated: out.truncated, encrypted: false };
}

/** Word's in-text control characters: paragraph/cell marks, and field codes to drop. */
function cleanWordText(raw: string): string {
  let s = '';
  let fieldDepth = 0;
  const inCode: boolean[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x13) { fieldDepth++; inCode.push(true); continue; }
    if (c === 0x14) { if (inCode.length) inCode[inCode.length - 1] = false; continue; }
    if (c === 0x15) { if (fieldDepth) { fieldDepth--; inCode.pop(); } continue; }
    if (inCode.includes(true)) continue;
    if (c === 0x0d || c === 0x0b || c === 0x0c) s += '\n';
    else if (c === 0x07) s += '\t';
    else if (c === 0x09 || c >= 0x20) s += raw[i];
  }
  return s.replace(/\t\n/g, '\n');
}

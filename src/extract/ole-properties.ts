/**
 * OLE property sets (\x05SummaryInformation and \x05DocumentSummaryInformation), the property
 * store of legacy .doc/.xls/.ppt. Every offset is bounds-checked: these streams are untrusted.
 */
import { decodeWindows1252 } from './charset.ts';
import type { DocumentProperties, RawValue } from './types.ts';

type Value = string | number | boolean | Date;

/** Reads the first section of a property set into id → value. */
export function readPropertySet(data: Uint8Array): Map<number, Value> {
  const out = new Map<number, Value>();
  if (data.length < 48) return out;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (v.getUint16(0, true) !== 0xfffe) return out;
  const sectionOffset = v.getUint32(44, true);
  if (sectionOffset + 8 > data.length) return out;
  const count = Math.min(v.getUint32(sectionOffset + 4, true), 1000);
  let codepage = 1252;
  const entries: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    const p = sectionOffset + 8 + i * 8;
    if (p + 8 > data.length) break;
    entries.push([v.getUint32(p, true), sectionOffset + v.getUint32(p + 4, true)]);
  }
  const cpEntry = entries.find(([id]) => id === 1);
  if (cpEntry && cpEntry[1] + 6 <= data.length) codepage = v.getUint16(cpEntry[1] + 4, true);
  const decoder = makeDecoder(codepage);
  for (const [id, at] of entries) {
    if (at + 4 > data.length) continue;
    const type = v.getUint32(at, true) & 0xffff;
    const p = at + 4;
    try {
      switch (type) {
        case 2: // VT_I2
          if (p + 2 <= data.length) out.set(id, v.getInt16(p, true));
          break;
        case 3: // VT_I4
        case 22: // VT_INT
          if (p + 4 <= data.length) out.set(id, v.getInt32(p, true));
          break;
        case 11: // VT_BOOL
          if (p + 2 <= data.length) out.set(id, v.getUint16(p, true) !== 0);
          break;
        case 30: { // VT_LPSTR: byte count, then text in the set's code page
          if (p + 4 > data.length) break;
          const len = Math.min(v.getUint32(p, true), data.length - p - 4);
          const s = codepage === 1200
            ? new TextDecoder('utf-16le').decode(data.subarray(p + 4, p + 4 + len))
            : decoder.decode(data.subarray(p + 4, p + 4 + len));
          out.set(id, s.replace(/\0+$/, ''));
          break;
        }
        case 31: { // VT_LPWSTR: character count, UTF-16LE
          if (p + 4 > data.length) break;
          const len = Math.min(v.getUint32(p, true) * 2, data.length - p - 4);
          out.set(id, new TextDecoder('utf-16le').decode(data.subarray(p + 4, p + 4 + len)).replace(/\0+$/, ''));
          break;
        }
        case 64: { // VT_FILETIME: 100 ns ticks since 1601
          if (p + 8 > data.length) break;
          const ticks = v.getBigUint64(p, true);
          out.set(id, ticks < 1_000_000_000_000n ? Number(ticks / 10_000n) : new Date(Number(ticks / 10_000n - 11_644_473_600_000n)));
          break;
        }
        default:
          break;
      }
    } catch (err) {
      // A value that does not decode is skipped; the other properties still count.
      if (!(err instanceof RangeError)) throw err;
    }
  }
  return out;
}

function makeDecoder(codepage: number): { decode(b: Uint8Array): string } {
  if (codepage === 1252) return { decode: decodeWindows1252 };
  const label = codepage === 65001 ? 'utf-8' : codepage === 10000 ? 'macintosh' : `windows-${codepage}`;
  try {
    return new TextDecoder(label);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return { decode: decodeWindows1252 };
  }
}

const SUMMARY: Record<number, [keyof DocumentProperties, string]> = {
  2: ['title', 'dc:title'],
  3: ['subject', 'dc:subject'],
  4: ['creator', 'dc:creator'],
  5: ['keywords', 'meta:keyword'],
  6: ['description', 'dc:description'],
  7: ['template', 'extended-properties:Template'],
  8: ['lastModifiedBy', 'meta:last-author'],
  9: ['revision', 'cp:revision'],
  11: ['lastPrinted', 'meta:print-date'],
  12: ['created', 'dcterms:created'],
  13: ['modified', 'dcterms:modified'],
  14: ['pages', 'meta:page-count'],
  15: ['words', 'meta:word-count'],
  16: ['characters', 'meta:character-count'],
  18: ['application', 'extended-properties:Application'],
};
const DOC_SUMMARY: Record<number, [keyof DocumentProperties, string]> = {
  2: ['category', 'cp:category'],
  5: ['lines', 'meta:line-count'],
  6: ['paragraphs', 'meta:paragraph-count'],
  7: ['slides', 'meta:slide-count'],
  8: ['notes', 'extended-properties:Notes'],
  14: ['manager', 'extended-properties:Manager'],
  15: ['company', 'extended-properties:Company'],
  17: ['charactersWithSpaces', 'meta:character-count-with-spaces'],
};

export function applyPropertySets(
  summary: Map<number, Value>,
  docSummary: Map<number, Value>,
  properties: DocumentProperties,
  raw: Record<string, RawValue>,
): void {
  const apply = (set: Map<number, Value>, table: Record<number, [keyof DocumentProperties, string]>) => {
    for (const [id, value] of set) {
      const target = table[id];
      if (!target) continue;
      const [key, tika] = target;
      let v: string | number | boolean;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime()) || value.getUTCFullYear() < 1980) continue;
        v = value.toISOString().replace('.000Z', 'Z');
      } else v = value;
      if (typeof v === 'string' && v.trim() === '') continue;
      (properties as Record<string, unknown>)[key] = typeof v === 'string' ? v.trim() : v;
      raw[tika] = typeof v === 'string' ? v.trim() : v;
    }
  };
  apply(summary, SUMMARY);
  apply(docSummary, DOC_SUMMARY);
  const editTime = summary.get(10);
  if (typeof editTime === 'number') {
    properties.totalEditingTimeMinutes = Math.round(editTime / 60_000);
    raw['extended-properties:TotalTime'] = properties.totalEditingTimeMinutes;
  }
  const security = summary.get(19);
  if (typeof security === 'number') {
    raw['extended-properties:DocSecurityString'] = ['None', 'PasswordProtected', 'ReadOnlyRecommended', 'Unknown', 'ReadOnlyEnforced'][security] ?? 'Unknown';
  }
}

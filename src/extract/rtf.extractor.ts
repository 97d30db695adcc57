/**
 * RTF: text with control words stripped, and the {\info} group as properties. A linear pass with
 * a group stack; destinations that are not text (font tables, pictures, \* extensions) are
 * skipped whole.
 */
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { decodeWindows1252 } from './charset.ts';
import { TextBuilder } from './text-stats.ts';
import type { DocumentProperties, RawValue } from './types.ts';

const SKIP_DESTINATIONS = new Set([
  'fonttbl', 'colortbl', 'stylesheet', 'listtable', 'listoverridetable', 'revtbl', 'rsidtbl', 'generator',
  'pict', 'object', 'themedata', 'colorschememapping', 'datastore', 'latentstyles', 'xmlnstbl', 'filetbl',
  'header', 'footer', 'headerl', 'headerr', 'headerf', 'footerl', 'footerr', 'footerf', 'fldinst', 'bkmkstart', 'bkmkend',
]);
const INFO_TEXT: Record<string, [keyof DocumentProperties, string]> = {
  title: ['title', 'dc:title'], subject: ['subject', 'dc:subject'], author: ['creator', 'dc:creator'],
  keywords: ['keywords', 'meta:keyword'], doccomm: ['description', 'dc:description'], operator: ['lastModifiedBy', 'meta:last-author'],
  company: ['company', 'extended-properties:Company'], category: ['category', 'cp:category'], manager: ['manager', 'extended-properties:Manager'],
};
const INFO_DATES: Record<string, [keyof DocumentProperties, string]> = {
  creatim: ['created', 'dcterms:created'], revtim: ['modified', 'dcterms:modified'], printim: ['lastPrinted', 'meta:print-date'],
};
const INFO_NUMBERS: Record<string, [keyof DocumentProperties, string]> = {
  nofpages: ['pages', 'meta:page-count'], nofwords: ['words', 'meta:word-count'], nofchars: ['characters', 'meta:character-count'],
  nofcharsws: ['charactersWithSpaces', 'meta:character-count-with-spaces'], edmins: ['totalEditingTimeMinutes', 'extended-properties:TotalTime'],
  version: ['revision', 'cp:revision'],
};

interface Group { skip: boolean; info: string | undefined; uc: number }

export const rtfExtractor: Extractor = {
  formats: ['rtf'],
  extract({ bytes, limits }: ExtractInput): ExtractorOutput {
    const src = new TextDecoder('latin1').decode(bytes);
    let codepage = 'windows-1252';
    // Node's TextDecoder treats windows-1252 as ISO-8859-1; use our table for it.
    const cp1252 = { decode: (b: Uint8Array) => decodeWindows1252(b) };
    const cp = /\\ansicpg(\d+)/.exec(src.slice(0, 2000))?.[1];
    if (cp && cp !== '1252') codepage = cp === '65001' ? 'utf-8' : `windows-${cp}`;
    let decoder: { decode(b: Uint8Array): string } = cp1252;
    try {
      if (codepage !== 'windows-1252') decoder = new TextDecoder(codepage);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
    }
    const out = new TextBuilder(limits.maxTextChars);
    const properties: DocumentProperties = {};
    const raw: Record<string, RawValue> = {};
    const stack: Group[] = [];
    let g: Group = { skip: false, info: undefined, uc: 1 };
    let infoText = '';
    let date: Record<string, number> = {};
    let pendingBytes: number[] = [];
    let skipChars = 0;
    const flushBytes = () => {
      if (pendingBytes.length === 0) return;
      const s = decoder.decode(Uint8Array.from(pendingBytes));
      pendingBytes = [];
      emit(s);
    };
    const emit = (s: string) => {
      if (g.skip) return;
      if (g.info !== undefined) infoText += s;
      else out.add(s);
    };
    let i = 0;
    while (i < src.length && !out.full) {
      const c = src[i];
      if (c === '{') {
        flushBytes();
        stack.push(g);
        g = { ...g };
        i++;
      } else if (c === '}') {
        flushBytes();
        if (g.info !== undefined && !g.skip) finishInfo(g.info, infoText.trim(), date, properties, raw);
        const parent = stack.pop();
        if (parent && parent.info === undefined && g.info !== undefined) { infoText = ''; date = {}; }
        g = parent ?? { skip: false, info: undefined, uc: 1 };
        i++;
      } else if (c === '\\') {
        const next = src[i + 1] ?? '';
        if (next === "'") {
          const hex = parseInt(src.slice(i + 2, i + 4), 16);
          i += 4;
          if (skipChars > 0) { skipChars--; continue; }
          if (!Number.isNaN(hex)) pendingBytes.push(hex);
          continue;
        }
        flushBytes();
        if (next === '*') {
          g.skip = true;
          i += 2;
          continue;
        }
        const m = /^([a-zA-Z]{1,32})(-?\d{1,10})? ?/.exec(src.slice(i + 1, i + 45));
        if (!m) {
          // Control symbol: \\ \{ \} are literal, \~ is a non-breaking space, \- an optional hyphen.
          if (next === '\\' || next === '{' || next === '}') emit(next);
          else if (next === '~') emit('\u00a0');
          else if (next === '\n' || next === '\r') emit('\n');
          i += 2;
          continue;
        }
        i += 1 + m[0].length;
        const word = m[1] ?? '';
        const param = m[2] === undefined ? undefined : Number(m[2]);
        if (SKIP_DESTINATIONS.has(word)) g.skip = true;
        else if (word === 'info') g.info = '';
        else if (g.info !== undefined && (word in INFO_TEXT || word in INFO_DATES || word in INFO_NUMBERS)) {
          g.info = word;
          infoText = '';
          date = {};
          if (word in INFO_NUMBERS && param !== undefined) {
            const [key, tika] = INFO_NUMBERS[word] ?? ['pages', ''];
            (properties as Record<string, unknown>)[key] = param;
            raw[tika] = param;
          }
        } else if (g.info && ['yr', 'mo', 'dy', 'hr', 'min', 'sec'].includes(word) && param !== undefined) date[word] = param;
        else if (word === 'par' || word === 'line' || word === 'sect' || word === 'row') emit('\n');
        else if (word === 'tab' || word === 'cell') emit('\t');
        else if (word === 'uc' && param !== undefined) g.uc = param;
        else if (word === 'u' && param !== undefined) {
          emit(String.fromCharCode(param < 0 ? param + 65536 : param));
          skipChars = g.uc;
        } else if (word === 'emdash') emit('—');
        else if (word === 'endash') emit('–');
        else if (word === 'lquote') emit('‘');
        else if (word === 'rquote') emit('’');
        else if (word === 'ldblquote') emit('“');
        else if (word === 'rdblquote') emit('”');
        else if (word === 'bullet') emit('•');
      } else {
        if (c === '\r' || c === '\n') { i++; continue; }
        flushBytes();
        if (skipChars > 0) { skipChars--; i++; continue; }
        emit(c ?? '');
        i++;
      }
    }
    flushBytes();
    const text = out.toString().replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
    return { properties, raw, text, textTruncated: out.truncated };
  },
};

function finishInfo(field: string, text: string, date: Record<string, number>, properties: DocumentProperties, raw: Record<string, RawValue>): void {
  const t = INFO_TEXT[field];
  if (t && text) {
    (properties as Record<string, unknown>)[t[0]] = text;
    raw[t[1]] = text;
    return;
  }
  const d = INFO_DATES[field];
  if (d && date.yr) {
    const pad = (n: number | undefined) => String(n ?? 0).padStart(2, '0');
    const iso = `${date.yr}-${pad(date.mo ?? 1)}-${pad(date.dy ?? 1)}T${pad(date.hr)}:${pad(date.min)}:${pad(date.sec)}`;
    (properties as Record<string, unknown>)[d[0]] = iso;
    raw[d[1]] = iso;
  }
}

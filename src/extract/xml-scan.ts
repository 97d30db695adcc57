/**
 * A tight, forward-only scanner over XML text. Office parts are machine-written and large, so we
 * walk tags with indexOf instead of building a DOM (a DOM or a SAX parser costs several times
 * more for the same text). Element names are matched by local name so any namespace prefix works
 * (Strict OOXML, odd producers). It never expands entities beyond the five XML ones and numeric
 * references, and ignores a DTD (see safeXml).
 */
import { ExtractionError } from './types.ts';
import { asBuffer, decodeText, isUtf16 } from './zip.ts';

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const ENTITY_RE = /&(#[xX][0-9a-fA-F]{1,8}|#[0-9]{1,10}|lt|gt|amp|quot|apos);/g;

/** Decodes the five predefined XML entities and numeric character references; leaves anything else verbatim. */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(ENTITY_RE, (match, body: string) => {
    if (body.charCodeAt(0) !== 35 /* # */) return NAMED_ENTITIES[body] ?? match;
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\uFFFD';
    return String.fromCodePoint(code);
  });
}

/** An XML part ready to scan, and what was changed in it to make it safe (for the result's warnings). */
export interface SafeXml {
  readonly xml: string;
  /** Set when the part declared a DTD, which was removed. */
  readonly warning?: string;
}

/**
 * Makes a part safe to scan: a DTD (and any stray markup declaration) is removed unread, as Tika
 * and POI ignore it, so no entity it defines is ever expanded and nothing it names is fetched.
 * Office and ODF parts have no use for a DTD; one is there by accident or as an entity-expansion
 * (billion laughs) or external-entity (XXE) attack. References to entities other than the five
 * XML ones are then dropped from the part, as POI drops them ("&ext;" reads as ""), so an
 * attack's entity names never reach the text. A part without a DTD is returned as it is, with
 * its unknown references verbatim.
 *
 * One check per part decides: every '<!' is looked at, found by its '!', which is rare in Office
 * parts (comments, CDATA, the odd '!' in text), where a search for '<!' stops at every tag. Only a
 * part that holds '<!DOCTYPE' or '<!ENTITY' is walked again.
 */
export function safeXml(xml: string, partName: string): SafeXml {
  for (let i = xml.indexOf('!', 1); i >= 0; i = xml.indexOf('!', i + 1)) {
    if (xml.charCodeAt(i - 1) === 60 /* < */ && (xml.startsWith('DOCTYPE', i + 1) || xml.startsWith('ENTITY', i + 1))) return withoutDtd(xml, partName);
  }
  return { xml };
}

/** Decodes an XML part (UTF-8 unless marked UTF-16) and makes it safe as safeXml does. */
export function decodeSafeXml(data: Uint8Array, partName: string): SafeXml {
  return safeXml(decodeText(data), partName);
}

const MARKUP_DECLARATION = /^(?:ENTITY|ELEMENT|ATTLIST|NOTATION)/;
/** An entity reference by name (numeric references start with '#'); whitespace is spelled out so latin1 bytes of UTF-8 text never count as space. */
const NAMED_REFERENCE = /&([^ \t\r\n&;<>"'#][^ \t\r\n&;<>"']*);/g;

/**
 * The part with its DOCTYPE (internal subset included) and stray markup declarations removed and
 * references to entities other than the five XML ones dropped. Comments, CDATA and processing
 * instructions are copied as they are: a '<!DOCTYPE' or '&name;' inside them is text. The walk is
 * linear (every search starts past the last), so a hostile part cannot make it slow.
 */
function withoutDtd(xml: string, partName: string): SafeXml {
  const n = xml.length;
  const kept: string[] = [];
  let copied = 0;
  let declarations = 0;
  let dropped = 0;
  const keepMarkup = (to: number) => {
    if (to <= copied) return;
    kept.push(
      xml.slice(copied, to).replace(NAMED_REFERENCE, (match, name: string) => {
        if (NAMED_ENTITIES[name] !== undefined) return match;
        dropped++;
        return '';
      }),
    );
  };
  for (let lt = xml.indexOf('<'); lt >= 0 && lt + 1 < n; ) {
    let end: number;
    let verbatim = true;
    if (xml.startsWith('<!--', lt)) end = after(xml, '-->', lt + 4);
    else if (xml.startsWith('<![CDATA[', lt)) end = after(xml, ']]>', lt + 9);
    else if (xml.charCodeAt(lt + 1) === 63 /* ? */) end = after(xml, '?>', lt + 2);
    else if (xml.charCodeAt(lt + 1) === 33 /* ! */ && xml.slice(lt + 2, lt + 9).toUpperCase() === 'DOCTYPE') {
      end = doctypeEnd(xml, lt + 9);
      verbatim = false;
    } else if (xml.charCodeAt(lt + 1) === 33 /* ! */ && MARKUP_DECLARATION.test(xml.slice(lt + 2, lt + 10))) {
      end = declarationEnd(xml, lt + 2);
      verbatim = false;
    } else {
      lt = xml.indexOf('<', lt + 1);
      continue;
    }
    if (!verbatim) {
      if (end < 0) throw new ExtractionError('corrupt', `XML part ${partName} has an unterminated DTD or markup declaration`);
      keepMarkup(lt);
      declarations++;
      copied = end;
    } else if (end < 0) {
      break;
    } else {
      keepMarkup(lt);
      kept.push(xml.slice(lt, end));
      copied = end;
    }
    lt = xml.indexOf('<', end);
  }
  // No declaration outside comments and CDATA: the part is as it was.
  if (declarations === 0) return { xml };
  keepMarkup(n);
  return {
    xml: kept.join(''),
    warning: `DTD in ${partName} ignored; ${dropped} entity reference${dropped === 1 ? '' : 's'} not expanded`,
  };
}

/** Index just past the first `marker` at or after `from`; -1 if none. */
function after(xml: string, marker: string, from: number): number {
  const e = xml.indexOf(marker, from);
  return e < 0 ? -1 : e + marker.length;
}

/**
 * Index just past the '>' that ends a DOCTYPE whose keyword ends before `from`; -1 if none. Quoted
 * literals (system ids, entity values) are passed whole, so a ']>' or '>' inside one ends nothing;
 * in the internal subset, comments, processing instructions and markup declarations are passed
 * whole too, and the subset ends at the first ']' outside them.
 */
function doctypeEnd(xml: string, from: number): number {
  const n = xml.length;
  let inSubset = false;
  for (let i = from; i < n; ) {
    const c = xml.charCodeAt(i);
    if (c === 34 /* " */ || c === 39 /* ' */) {
      const close = xml.indexOf(c === 34 ? '"' : "'", i + 1);
      if (close < 0) return -1;
      i = close + 1;
    } else if (!inSubset) {
      if (c === 62 /* > */) return i + 1;
      if (c === 91 /* [ */) inSubset = true;
      i++;
    } else if (c === 93 /* ] */) {
      inSubset = false;
      i++;
    } else if (c === 60 /* < */) {
      const e = xml.startsWith('<!--', i) ? after(xml, '-->', i + 4) : xml.startsWith('<?', i) ? after(xml, '?>', i + 2) : xml.startsWith('<!', i) ? declarationEnd(xml, i + 2) : i + 1;
      if (e < 0) return -1;
      i = e;
    } else {
      i++;
    }
  }
  return -1;
}

/** Index just past the '>' that ends a markup declaration (<!ENTITY ...>), quoted literals passed whole; -1 if none. */
function declarationEnd(xml: string, from: number): number {
  const e = findTagEnd(xml, from);
  return e < 0 ? -1 : e + 1;
}

/**
 * An XML part prepared for one forward scan. For UTF-8 parts (nearly all) `xml` holds one
 * character per byte (a latin1 copy of the bytes, ~15x cheaper than decoding UTF-8, and a
 * one-byte string that searches faster). Markup is ASCII and ASCII bytes in UTF-8 only ever
 * stand for themselves, so tags and attributes sit at the same offsets as in the decoded text;
 * only slices holding other bytes need decoding, which source() does. For UTF-16 parts `xml` is
 * the decoded text and source() a plain slice.
 */
export interface ScannableXml {
  readonly xml: string;
  /** Characters of xml[from, to), decoded; from and to must sit at markup ('<', '>') or ends. */
  source(from: number, to: number): string;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Prepares a part for scanning, made safe as safeXml does. */
export function scannableXml(data: Uint8Array, partName: string): ScannableXml & SafeXml {
  if (isUtf16(data)) {
    const { xml, warning } = decodeSafeXml(data, partName);
    return { xml, warning, source: (from, to) => xml.slice(from, to) };
  }
  const { xml, warning } = safeXml(asBuffer(data).toString('latin1'), partName);
  // A part without its DTD is a new string: its bytes are made from it so offsets agree.
  const bytes = warning === undefined ? asBuffer(data) : Buffer.from(xml, 'latin1');
  return {
    xml,
    warning,
    source(from, to) {
      const raw = xml.slice(from, to);
      const wide = raw.search(NON_ASCII);
      return wide < 0 ? raw : (utf8FromLatin1(xml, from, from + wide, to) ?? bytes.toString('utf8', from, to));
    },
  };
}

/**
 * latin1[from, to) decoded as the UTF-8 bytes it holds one per character; `at` is its first
 * character above 0x7f. A text run holds few such characters, so this is cheaper than a call into
 * Buffer's decoder per run. Undefined when a sequence is not valid UTF-8: the caller then leaves
 * the replacement of bad bytes to that decoder.
 */
function utf8FromLatin1(latin1: string, from: number, at: number, to: number): string | undefined {
  let out = '';
  let copied = from;
  for (let i = at; i < to; ) {
    const b = latin1.charCodeAt(i);
    if (b < 0x80) {
      i++;
      continue;
    }
    let code: number;
    let length: number;
    const b1 = i + 1 < to ? latin1.charCodeAt(i + 1) : -1;
    if (b >= 0xc2 && b <= 0xdf) {
      if (!(b1 >= 0x80 && b1 <= 0xbf)) return undefined;
      code = ((b & 0x1f) << 6) | (b1 & 0x3f);
      length = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      // No overlong forms (E0 80-9F) and no surrogates (ED A0-BF).
      const b2 = i + 2 < to ? latin1.charCodeAt(i + 2) : -1;
      if (!(b1 >= (b === 0xe0 ? 0xa0 : 0x80) && b1 <= (b === 0xed ? 0x9f : 0xbf)) || !(b2 >= 0x80 && b2 <= 0xbf)) return undefined;
      code = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
      length = 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      // No overlong forms (F0 80-8F) and nothing above U+10FFFF (F4 90-BF).
      const b2 = i + 2 < to ? latin1.charCodeAt(i + 2) : -1;
      const b3 = i + 3 < to ? latin1.charCodeAt(i + 3) : -1;
      if (!(b1 >= (b === 0xf0 ? 0x90 : 0x80) && b1 <= (b === 0xf4 ? 0x8f : 0xbf)) || !(b2 >= 0x80 && b2 <= 0xbf) || !(b3 >= 0x80 && b3 <= 0xbf)) {
        return undefined;
      }
      code = ((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
      length = 4;
    } else {
      return undefined;
    }
    out += latin1.slice(copied, i) + String.fromCodePoint(code);
    i += length;
    copied = i;
  }
  return out + latin1.slice(copied, to);
}

/** Walks element tags. After next() returns true, the fields describe the current tag. */
export class XmlScanner {
  /** Local name (prefix stripped). */
  name = '';
  closing = false;
  selfClosing = false;
  /** Index of '<'. */
  tagStart = 0;
  /** Index just after '>'. */
  tagEnd = 0;
  private pos = 0;

  constructor(readonly xml: string, start = 0) {
    this.pos = start;
  }

  next(): boolean {
    const xml = this.xml;
    for (;;) {
      const lt = xml.indexOf('<', this.pos);
      if (lt < 0 || lt + 1 >= xml.length) return false;
      const c = xml.charCodeAt(lt + 1);
      if (c === 33 /* ! */) {
        // Comment or CDATA: skip; text readers pick CDATA up through innerText().
        if (xml.startsWith('<!--', lt)) {
          const e = xml.indexOf('-->', lt + 4);
          this.pos = e < 0 ? xml.length : e + 3;
        } else if (xml.startsWith('<![CDATA[', lt)) {
          const e = xml.indexOf(']]>', lt + 9);
          this.pos = e < 0 ? xml.length : e + 3;
        } else {
          const e = xml.indexOf('>', lt + 2);
          this.pos = e < 0 ? xml.length : e + 1;
        }
        continue;
      }
      if (c === 63 /* ? */) {
        const e = xml.indexOf('?>', lt + 2);
        this.pos = e < 0 ? xml.length : e + 2;
        continue;
      }
      const closing = c === 47; /* / */
      let i = closing ? lt + 2 : lt + 1;
      const nameStart = i;
      let colon = -1;
      for (; i < xml.length; i++) {
        const ch = xml.charCodeAt(i);
        if (ch === 58) colon = i;
        else if (ch === 62 || ch === 47 || ch === 32 || ch === 9 || ch === 10 || ch === 13) break;
      }
      const end = findTagEnd(xml, i);
      if (end < 0) return false;
      this.name = xml.slice(colon >= 0 ? colon + 1 : nameStart, i);
      this.closing = closing;
      this.selfClosing = !closing && xml.charCodeAt(end - 1) === 47;
      this.tagStart = lt;
      this.tagEnd = end + 1;
      this.pos = end + 1;
      return true;
    }
  }

  /** Value of an attribute of the current tag, matched by local name. */
  attr(localName: string): string | undefined {
    return attrOf(this.xml.slice(this.tagStart, this.tagEnd), localName);
  }

  /** Moves past the element whose start tag is current (nested same-name elements included). */
  skipElement(): void {
    if (this.selfClosing || this.closing) return;
    const name = this.name;
    let depth = 1;
    while (this.next()) {
      if (this.name !== name) continue;
      if (this.closing) depth--;
      else if (!this.selfClosing) depth++;
      if (depth === 0) return;
    }
  }

  /** Decoded text of the element whose start tag is current; leaves the scanner on its end tag. */
  elementText(): string {
    if (this.selfClosing) return '';
    const from = this.tagEnd;
    this.skipElement();
    return innerText(this.xml, from, this.tagStart);
  }
}

/** Text between two indexes with nested tags removed, CDATA unwrapped and entities decoded. */
export function innerText(xml: string, from: number, to: number): string {
  return markupText(xml.slice(from, to));
}

/** Text of element content (source text): nested tags removed, CDATA unwrapped, entities decoded. */
export function markupText(raw: string): string {
  if (raw.indexOf('<') < 0) return decodeEntities(raw);
  let out = '';
  let p = 0;
  while (p < raw.length) {
    const lt = raw.indexOf('<', p);
    if (lt < 0) {
      out += decodeEntities(raw.slice(p));
      break;
    }
    out += decodeEntities(raw.slice(p, lt));
    if (raw.startsWith('<![CDATA[', lt)) {
      const e = raw.indexOf(']]>', lt + 9);
      out += raw.slice(lt + 9, e < 0 ? raw.length : e);
      p = e < 0 ? raw.length : e + 3;
    } else {
      const e = raw.indexOf('>', lt);
      p = e < 0 ? raw.length : e + 1;
    }
  }
  return out;
}

/**
 * Index of the '>' that ends a tag, skipping quoted attribute values (which may hold '>'); -1 if
 * none. Each quote is matched with indexOf from where it opens, so the walk stays linear (looking
 * for the next quote of each kind from every tag rescanned the rest of the part for a quote that
 * rarely exists).
 */
export function findTagEnd(xml: string, from: number): number {
  const n = xml.length;
  for (let i = from; i < n; i++) {
    const ch = xml.charCodeAt(i);
    if (ch === 62 /* > */) return i;
    if (ch === 34 /* " */ || ch === 39 /* ' */) {
      const close = xml.indexOf(ch === 34 ? '"' : "'", i + 1);
      if (close < 0) return -1;
      i = close;
    }
  }
  return -1;
}

const ATTR_RE = /([^\s=<>/"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Attribute value from a tag's source text, matched by local name. */
export function attrOf(tag: string, localName: string): string | undefined {
  ATTR_RE.lastIndex = 0;
  for (let m = ATTR_RE.exec(tag); m; m = ATTR_RE.exec(tag)) {
    const qname = m[1] ?? '';
    const colon = qname.indexOf(':');
    if ((colon >= 0 ? qname.slice(colon + 1) : qname) === localName) return decodeEntities(m[2] ?? m[3] ?? '');
  }
  return undefined;
}

/**
 * Values of several attributes of one tag, matched by local name, in one pass over the tag (each
 * attrOf call walks the tag from its start): the first occurrence of each name, as attrOf gives.
 */
export function attrsOf(tag: string, localNames: readonly string[]): Array<string | undefined> {
  const out: Array<string | undefined> = new Array<string | undefined>(localNames.length).fill(undefined);
  let missing = localNames.length;
  ATTR_RE.lastIndex = 0;
  for (let m = ATTR_RE.exec(tag); m && missing > 0; m = ATTR_RE.exec(tag)) {
    const qname = m[1] ?? '';
    const colon = qname.indexOf(':');
    const i = localNames.indexOf(colon >= 0 ? qname.slice(colon + 1) : qname);
    if (i < 0 || out[i] !== undefined) continue;
    out[i] = decodeEntities(m[2] ?? m[3] ?? '');
    missing--;
  }
  return out;
}

/**
 * Text of every leaf element, by local name, in document order. Enough for flat property parts
 * (docProps/core.xml, app.xml, meta.xml) whatever prefixes they use.
 */
export function leafValues(xml: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const s = new XmlScanner(xml);
  let openName = '';
  let openEnd = -1;
  while (s.next()) {
    if (s.closing) {
      if (s.name === openName && openEnd >= 0) push(out, openName, innerText(xml, openEnd, s.tagStart).trim());
      openEnd = -1;
    } else if (s.selfClosing) {
      openEnd = -1;
    } else {
      openName = s.name;
      openEnd = s.tagEnd;
    }
  }
  return out;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

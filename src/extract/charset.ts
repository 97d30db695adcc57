/**
 * Is this text, and in which encoding? Byte-order marks first (UTF-8, UTF-16 LE/BE), then a
 * UTF-16 pattern without BOM, strict UTF-8, EBCDIC, and single-byte code pages for the rest
 * (cp866 vs windows-1251 vs windows-1252 by which byte ranges dominate).
 */
export interface TextSniff {
  encoding: string;
  /** Offset of the first byte after a BOM. */
  offset: number;
  /** The first few KiB decoded, for content checks. */
  sample: string;
}

const SNIFF_BYTES = 8192;

/** EBCDIC code page 037 (US/Canada), bytes 0x40..0xFF; everything else maps to control/space. */
const CP037_HIGH =
  ' \u00a0âäàáãåçñ¢.<(+|&éêëèíîïìß!$*);¬-/ÂÄÀÁÃÅÇÑ¦,%_>?øÉÊËÈÍÎÏÌ`:#@\'="Øabcdefghi«»ðýþ±°jklmnopqrªºæ¸Æ¤µ~stuvwxyz¡¿ÐÝÞ®^£¥·©§¶¼½¾[]¯¨´×{ABCDEFGHI\u00adôöòóõ}JKLMNOPQR¹ûüùúÿ\\÷STUVWXYZ²ÔÖÒÓÕ0123456789³ÛÜÙÚ\u009f';

function isValidUtf8(b: Uint8Array, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    const c = b[i] ?? 0;
    if (c < 0x80) { i++; continue; }
    const n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
    if (n < 0 || c > 0xf4) return false;
    // A sequence cut by the sample window is fine.
    if (i + n >= to) return true;
    for (let k = 1; k <= n; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return false;
    i += n + 1;
  }
  return true;
}

export function sniffText(bytes: Uint8Array): TextSniff | undefined {
  const end = Math.min(bytes.length, SNIFF_BYTES);
  const mk = (encoding: string, offset: number): TextSniff => ({
    encoding,
    offset,
    sample: decodeBytes(bytes.subarray(0, end), encoding, offset),
  });
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return mk('utf-8', 3);
  if (bytes[0] === 0xff && bytes[1] === 0xfe && bytes[2] === 0 && bytes[3] === 0) return mk('utf-32le', 4);
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff) return mk('utf-32be', 4);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return mk('utf-16le', 2);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return mk('utf-16be', 2);
  let nulEven = 0;
  let nulOdd = 0;
  let control = 0;
  let high = 0;
  let ebcdicSpace = 0;
  let asciiLetters = 0;
  const hist = new Uint32Array(256);
  for (let i = 0; i < end; i++) {
    const c = bytes[i] ?? 0;
    hist[c] = (hist[c] ?? 0) + 1;
    if (c === 0) {
      if (i % 2 === 0) nulEven++;
      else nulOdd++;
    } else if (c < 9 || (c > 13 && c < 32 && c !== 27)) control++;
    else if (c >= 0x80) high++;
    if (c === 0x40) ebcdicSpace++;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) asciiLetters++;
  }
  const half = end / 2;
  // UTF-32 without BOM: three of every four bytes are zero.
  if (nulEven + nulOdd > end * 0.7 && end >= 8 && end % 4 === 0) {
    return mk(bytes[0] === 0 ? 'utf-32be' : 'utf-32le', 0);
  }
  if (nulOdd > half * 0.3 && nulEven < half * 0.05) return mk('utf-16le', 0);
  if (nulEven > half * 0.3 && nulOdd < half * 0.05) return mk('utf-16be', 0);
  if (nulEven + nulOdd > 0 || control > end * 0.05) return undefined;
  if (high === 0 || isValidUtf8(bytes, 0, end)) return mk('utf-8', 0);
  // EBCDIC: 0x40 is its space and lower-case letters live at 0x81-0xA9, ASCII letters are rare.
  if (ebcdicSpace > end * 0.08 && high > end * 0.3 && (hist[0x20] ?? 0) < end * 0.01) return mk('ebcdic-cp037', 0);
  // Cyrillic text is made of words of high bytes; Latin-1 text has isolated accented letters.
  let adjacentHigh = 0;
  for (let i = 1; i < end; i++) if ((bytes[i] ?? 0) >= 0x80 && (bytes[i - 1] ?? 0) >= 0x80) adjacentHigh++;
  let cyr866 = 0;
  let cyr1251 = 0;
  for (let c = 0x80; c <= 0xaf; c++) cyr866 += hist[c] ?? 0;
  for (let c = 0xe0; c <= 0xef; c++) cyr866 += hist[c] ?? 0;
  for (let c = 0xc0; c <= 0xff; c++) cyr1251 += hist[c] ?? 0;
  if (high > asciiLetters * 0.5 && adjacentHigh > high * 0.5) {
    if (cyr866 > high * 0.8) return mk('ibm866', 0);
    if (cyr1251 > high * 0.8) return mk('windows-1251', 0);
  }
  return mk('windows-1252', 0);
}

export function decodeBytes(bytes: Uint8Array, encoding: string, offset = 0): string {
  const data = offset ? bytes.subarray(offset) : bytes;
  if (encoding === 'ebcdic-cp037') {
    let s = '';
    for (let i = 0; i < data.length; i++) {
      const c = data[i] ?? 0;
      s += c === 0x25 || c === 0x15 ? '\n' : c === 0x05 ? '\t' : c >= 0x40 ? (CP037_HIGH[c - 0x40] ?? ' ') : '';
    }
    return s;
  }
  if (encoding === 'utf-32le' || encoding === 'utf-32be') {
    // Not in the WHATWG encoding list, so TextDecoder cannot do it.
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const le = encoding === 'utf-32le';
    const parts: string[] = [];
    for (let i = 0; i + 4 <= data.length; i += 4) {
      const cp = v.getUint32(i, le);
      parts.push(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\uFFFD');
    }
    return parts.join('');
  }
  if (encoding === 'windows-1252') return decodeWindows1252(data);
  return new TextDecoder(encoding).decode(data);
}

/** 0x80-0x9F of windows-1252 (Node's TextDecoder treats the label as ISO-8859-1 and gets these wrong). */
const CP1252_C1 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

export function decodeWindows1252(data: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 8192;
  for (let off = 0; off < data.length; off += CHUNK) {
    const end = Math.min(off + CHUNK, data.length);
    let s = '';
    for (let i = off; i < end; i++) {
      const c = data[i] ?? 0;
      s += c >= 0x80 && c <= 0x9f ? (CP1252_C1[c - 0x80] ?? '') : String.fromCharCode(c);
    }
    parts.push(s);
  }
  return parts.join('');
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_EXTRACT_LIMITS, extractFromBytes } from '../../src/extract/index.ts';
import { TextBuilder } from '../../src/extract/text-stats.ts';
import { emptyWordStats, scanWordPart, type WordStats } from '../../src/extract/word-scan.ts';
import { innerText, scannableXml, XmlScanner } from '../../src/extract/xml-scan.ts';
import { buildDocx, wTable } from '../support/extract-fixtures.ts';

const limits = DEFAULT_EXTRACT_LIMITS;

/**
 * The Word scan as it was written on the general XmlScanner (a string per tag), kept as the
 * reference: the hand-rolled scan must agree with it on every input.
 */
function referenceScan(xml: string, out: TextBuilder, stats: WordStats): void {
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
    if (n === 't' && !s.selfClosing) textStart = s.tagEnd;
    else if (n === 'r' && !s.selfClosing) inRun++;
    else if (n === 'p') {
      paraStartLength = out.length;
      if (s.selfClosing) out.add('\n');
    } else if (n === 'tab' && inRun > 0) out.add('\t');
    else if ((n === 'br' || n === 'cr') && inRun > 0) out.add('\n');
    else if (n === 'noBreakHyphen') out.add('-');
    else if (n === 'tbl') stats.tables++;
    else if (n === 'sectPr') stats.sections++;
    else if (n === 'blip' || n === 'imagedata') stats.images++;
    else if (n === 'ins' || n === 'moveTo') stats.insertions++;
    else if (n === 'del' || n === 'moveFrom') stats.deletions++;
    else if (n === 'comment') stats.comments++;
    else if (n === 'Fallback') s.skipElement();
  }
}

function scan(bytes: Uint8Array, maxChars = 1_000_000): { text: string; stats: WordStats } {
  const out = new TextBuilder(maxChars);
  const stats = emptyWordStats();
  scanWordPart(scannableXml(bytes, 'word/document.xml'), out, stats);
  return { text: out.toString(), stats };
}

function reference(xml: string, maxChars = 1_000_000): { text: string; stats: WordStats } {
  const out = new TextBuilder(maxChars);
  const stats = emptyWordStats();
  referenceScan(xml, out, stats);
  return { text: out.toString(), stats };
}

function utf16le(s: string): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]));
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
const doc = (body: string) => `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ${W}><w:body>${body}</w:body></w:document>`;

/** Inputs that have broken hand-written XML scanners before. */
const AWKWARD: Record<string, string> = {
  entities: doc('<w:p><w:r><w:t>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x1F600; &unknown; &#xD800;</w:t></w:r></w:p>'),
  cdata: doc('<w:p><w:r><w:t><![CDATA[<not a tag> & ]]>after</w:t></w:r></w:p>'),
  'split runs': doc('<w:p><w:r><w:t>Hel</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>lo</w:t></w:r><w:r><w:t xml:space="preserve"> world</w:t></w:r></w:p>'),
  'tabs, breaks, hyphens': doc(
    '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t><w:cr/><w:noBreakHyphen/><w:t>d</w:t></w:r></w:p>',
  ),
  'nested tables': doc(
    '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>outer</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>inner</w:t></w:r></w:p></w:tc></w:tr></w:tbl><w:p/></w:tc></w:tr></w:tbl>',
  ),
  'tracked changes': doc(
    '<w:p><w:ins w:id="1" w:author="A"><w:r><w:t>new</w:t></w:r></w:ins><w:del w:id="2"><w:r><w:delText>old</w:delText></w:r></w:del><w:moveFrom><w:r><w:delText>x</w:delText></w:r></w:moveFrom><w:moveTo><w:r><w:t>moved</w:t></w:r></w:moveTo></w:p>',
  ),
  fields: doc(
    '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>3</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:fldSimple w:instr=" DATE "><w:r><w:t>today</w:t></w:r></w:fldSimple></w:p>',
  ),
  multibyte: doc('<w:p><w:r><w:t>Überprüfung café – naïve 日本語 😀 done</w:t></w:r></w:p><w:p><w:r><w:t>ascii after</w:t></w:r></w:p>'),
  'quotes and markup in odd places': doc(
    '<!-- <w:t>in a comment</w:t> --><w:p w:rsidR="a>b" w:x=\'q"uote>\'><?pi <w:t>no</w:t>?><w:r><w:t\txml:space="preserve"\n>x &gt; y</w:t ></w:r></w:p>',
  ),
  'prefixes and Fallback nesting': doc(
    '<w:p><x:r xmlns:x="u"><x:t>prefixed</x:t></x:r><w:r><mc:AlternateContent><mc:Choice><w:t>choice</w:t></mc:Choice><mc:Fallback><mc:Fallback><w:t>inner</w:t></mc:Fallback><w:t>dup</w:t></mc:Fallback></mc:AlternateContent></w:r><w:r><mc:AlternateContent><mc:Choice><w:t>+c2</w:t></mc:Choice><mc:Fallback/></mc:AlternateContent></w:r><w:r><w:t>tail</w:t></w:r></w:p>',
  ),
  'counts and empty elements': doc(
    '<w:p/><w:p><w:r><w:t/></w:r></w:p><w:p><w:r><w:drawing><a:blip xmlns:a="a"/></w:drawing><v:imagedata xmlns:v="v"/></w:r></w:p><w:sectPr/><w:p><w:r><w:t>last</w:t></w:r></w:p><w:sectPr/>',
  ),
  comments: `<w:comments ${W}><w:comment w:id="1"><w:p><w:r><w:t>first</w:t></w:r></w:p></w:comment><w:comment w:id="2"><w:p><w:r><w:t>second</w:t></w:r></w:p></w:comment></w:comments>`,
  truncated: doc('<w:p><w:r><w:t>cut here'),
};

describe('Word part scan', () => {
  for (const [name, xml] of Object.entries(AWKWARD)) {
    it(`agrees with the reference scan: ${name} (UTF-8 and UTF-16)`, () => {
      const want = reference(xml);
      assert.deepEqual(scan(new TextEncoder().encode(xml)), want);
      assert.deepEqual(scan(utf16le(xml)), want);
    });
  }

  it('agrees with the reference scan on generated markup (quotes, apostrophes and > in attributes and text)', () => {
    let x = 99;
    const rnd = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    const pick = <T,>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)] as T;
    const values = ['"1"', "'2'", '"a>b"', "'it''s'", '"say \'hi\'"', "'\"q\">'", '""'];
    const attrs = () => Array.from({ length: Math.floor(rnd() * 3) }, (_, i) => ` w:a${i}=${pick(values)}`).join('');
    const texts = ["it's", 'a > b', 'don\'t "quote"', 'plain', '', 'x &amp; y'];
    for (let d = 0; d < 300; d++) {
      let body = '';
      for (let p = 0; p < 1 + Math.floor(rnd() * 6); p++) {
        body += `<w:p${attrs()}>`;
        for (let r = 0; r < Math.floor(rnd() * 4); r++) {
          body += `<w:r${attrs()}><w:rPr${attrs()}/>${rnd() < 0.2 ? `<w:tab${attrs()}/>` : ''}<w:t${attrs()}>${pick(texts)}</w:t></w:r>`;
        }
        body += rnd() < 0.1 ? `<w:tbl${attrs()}>` : '';
        body += '</w:p>';
      }
      const xml = doc(body);
      assert.deepEqual(scan(new TextEncoder().encode(xml)), reference(xml), xml);
    }
  });

  it('agrees with the reference scan where the text limit cuts', () => {
    const xml = AWKWARD['split runs'] ?? '';
    for (const max of [1, 3, 6, 100]) assert.deepEqual(scan(new TextEncoder().encode(xml), max), reference(xml, max));
  });

  it('reads what a user would expect from awkward markup', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.equal(scan(enc(AWKWARD.entities ?? '')).text, 'a & b <c> "d" \'e\' é😀 &unknown; \uFFFD\n');
    assert.equal(scan(enc(AWKWARD.cdata ?? '')).text, '<not a tag> & after\n');
    assert.equal(scan(enc(AWKWARD['split runs'] ?? '')).text, 'Hello world\n');
    assert.equal(scan(enc(AWKWARD['tabs, breaks, hyphens'] ?? '')).text, 'a\tb\nc\n-d\n');
    const nested = scan(enc(AWKWARD['nested tables'] ?? ''));
    assert.equal(nested.text, 'outer\ninner\n\n');
    assert.equal(nested.stats.tables, 2);
    const tracked = scan(enc(AWKWARD['tracked changes'] ?? ''));
    assert.equal(tracked.text, 'newmoved\n');
    assert.deepEqual([tracked.stats.insertions, tracked.stats.deletions], [2, 2]);
    assert.equal(scan(enc(AWKWARD.fields ?? '')).text, '3today\n');
    assert.equal(scan(enc(AWKWARD.multibyte ?? '')).text, 'Überprüfung café – naïve 日本語 😀 done\nascii after\n');
    assert.equal(scan(enc(AWKWARD['quotes and markup in odd places'] ?? '')).text, 'x > y\n');
    assert.equal(scan(enc(AWKWARD['prefixes and Fallback nesting'] ?? '')).text, 'prefixedchoice+c2tail\n');
    const counts = scan(enc(AWKWARD['counts and empty elements'] ?? ''));
    assert.deepEqual([counts.stats.paragraphs, counts.stats.images, counts.stats.sections], [1, 2, 2]);
    assert.equal(scan(enc(AWKWARD.comments ?? '')).stats.comments, 2);
  });

  it('replaces invalid UTF-8 inside text instead of failing', () => {
    const head = new TextEncoder().encode(doc('<w:p><w:r><w:t>ok '));
    const tail = new TextEncoder().encode('</w:t></w:r></w:p>');
    const bytes = new Uint8Array([...head, 0xc3, 0x28, 0xff, ...tail]);
    assert.equal(scan(bytes).text, 'ok \uFFFD(\uFFFD\n');
  });

  it('decodes text runs as Buffer does, for valid and invalid UTF-8 alike', () => {
    // Valid sequences of every length, and the invalid ones a decoder must not accept: lone
    // continuation bytes, overlong forms, surrogates, code points above U+10FFFF, cut sequences.
    const pieces: number[][] = [
      [0x61], [0x20], [0x26, 0x61, 0x6d, 0x70, 0x3b], [0xc3, 0xa9], [0xdf, 0xbf], [0xe2, 0x80, 0x99], [0xef, 0xbb, 0xbf],
      [0xed, 0x9f, 0xbf], [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x8f, 0xbf, 0xbf],
      [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xc3], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80],
      [0xe2, 0x80], [0xf0, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf0, 0x9f, 0x98], [0xff],
    ];
    let seed = 5;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 3000; i++) {
      const text: number[] = [];
      for (let k = Math.floor(next() * 8); k >= 0; k--) text.push(...(pieces[Math.floor(next() * pieces.length)] ?? []));
      const bytes = Buffer.from([...Buffer.from('<w:t>'), ...text, ...Buffer.from('</w:t>')]);
      const part = scannableXml(bytes, 'word/document.xml');
      assert.equal(part.source(5, 5 + text.length), bytes.toString('utf8', 5, 5 + text.length), Buffer.from(text).toString('hex'));
    }
  });

  it('scans a Word part with its DTD ignored and no entity expanded, UTF-8 or UTF-16', () => {
    const body = '<w:p><w:r><w:t>Größe &amp; € &x;</w:t></w:r></w:p>';
    const want = { text: 'Größe & € \n', stats: { ...emptyWordStats(), paragraphs: 1 } };
    const withDtd = [
      `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><w:document ${W}><w:body>${body}</w:body></w:document>`,
      // A part that opens with the declaration, with no XML declaration before it.
      `<!DOCTYPE w:document SYSTEM "http://example.invalid/x.dtd"><!ENTITY x SYSTEM "file:///etc/passwd"><w:document ${W}><w:body>${body}</w:body></w:document>`,
      // A stray declaration after the root element opens.
      `<w:document ${W}><!-- x --><!ENTITY x "y"><w:body>${body}</w:body></w:document>`,
    ];
    for (const xml of withDtd) {
      assert.deepEqual(scan(new TextEncoder().encode(xml)), want, xml);
      assert.deepEqual(scan(utf16le(xml)), want, xml);
      assert.ok(scannableXml(new TextEncoder().encode(xml), 'word/document.xml').warning?.includes('word/document.xml'), xml);
    }
    // Without a DTD an unknown reference stays as written, as it always has.
    assert.equal(scan(new TextEncoder().encode(doc(body))).text, 'Größe & € &x;\n');
    assert.equal(scannableXml(new TextEncoder().encode(doc(body)), 'word/document.xml').warning, undefined);
  });
});

describe('docx extraction through the Word scan', () => {
  it('keeps body, tables, side parts and comments apart with multibyte text intact', async () => {
    const bytes = buildDocx({
      paragraphs: ['Prijsopgave voor de klant: € 1.250,– incl. BTW', 'Zweite Zeile mit Umlauten: äöü ß'],
      bodyXml: wTable([['Größe', '日本'], ['ok', '😀']]),
      headers: ['Kopregel é'],
      footers: ['Voettekst ç'],
      footnotes: ['Voetnoot ñ'],
      comments: ['Opmerking één', 'Tweede opmerking'],
    });
    const r = await extractFromBytes(bytes, 'nl.docx', limits);
    assert.match(r.text, /^Prijsopgave voor de klant: € 1\.250,– incl\. BTW\nZweite Zeile mit Umlauten: äöü ß\n/);
    assert.match(r.text, /Größe\n日本\nok\n😀$/);
    assert.equal(r.parts?.headers, 'Kopregel é');
    assert.equal(r.parts?.footers, 'Voettekst ç');
    assert.equal(r.parts?.footnotes, 'Voetnoot ñ');
    assert.equal(r.parts?.comments, 'Opmerking één\nTweede opmerking');
    assert.ok(!r.text.includes('Opmerking') && !r.text.includes('Kopregel'));
    assert.equal(r.structure?.comments, 2);
    assert.equal(r.structure?.tables, 1);
  });

  it('reads the whole part when the archive understates its size', async () => {
    const paragraphs = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} of a body whose declared size lies.`);
    const bytes = buildDocx({ paragraphs });
    understateSize(bytes, 'word/document.xml', 100);
    const r = await extractFromBytes(bytes, 'lies.docx', limits);
    assert.equal(r.text.split('\n').length, 40);
    assert.match(r.text, /Paragraph 39 of a body whose declared size lies\.$/);
  });
});

/** Rewrites the uncompressed size an archive declares for one entry (local and central headers). */
function understateSize(zip: Uint8Array, name: string, size: number): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const nameBytes = new TextEncoder().encode(name);
  const matches = (at: number) => nameBytes.every((b, i) => zip[at + i] === b);
  let patched = 0;
  for (let i = 0; i + 46 < zip.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50 && view.getUint16(i + 26, true) === nameBytes.length && matches(i + 30)) {
      view.setUint32(i + 22, size, true);
      patched++;
    } else if (sig === 0x02014b50 && view.getUint16(i + 28, true) === nameBytes.length && matches(i + 46)) {
      view.setUint32(i + 24, size, true);
      patched++;
    }
  }
  assert.equal(patched, 2, 'entry found in both headers');
}

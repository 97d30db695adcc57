/**
 * A DTD in an OOXML or ODF part is ignored, as Tika and POI ignore it: the part is read, nothing
 * the DTD defines is expanded, nothing it names is fetched or read, references to entities other
 * than the five XML ones are dropped (POI reads "&ext;" as ""), and the result records a warning.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { DEFAULT_EXTRACT_LIMITS, ExtractionError, extractFromBytes } from '../../src/extract/index.ts';
import { safeXml } from '../../src/extract/xml-scan.ts';
import { buildDocx, buildOdf, buildPptx, buildXlsx } from '../support/extract-fixtures.ts';

const limits = DEFAULT_EXTRACT_LIMITS;
const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

/** The package with a DTD put in front of the root element of each named part. */
function withDtd(bytes: Uint8Array, dtd: string, parts: string[]): Uint8Array {
  const files = unzipSync(bytes);
  const out: Zippable = {};
  for (const [name, data] of Object.entries(files)) {
    if (!parts.includes(name)) {
      out[name] = name === 'mimetype' ? [data, { level: 0 }] : data;
      continue;
    }
    const xml = strFromU8(data);
    const decl = xml.startsWith('<?xml') ? xml.indexOf('?>') + 2 : 0;
    out[name] = strToU8(xml.slice(0, decl) + dtd + xml.slice(decl));
  }
  for (const p of parts) assert.ok(files[p], `fixture has ${p}`);
  return zipSync(out);
}

const dtdWarnings = (warnings: string[] | undefined) => (warnings ?? []).filter((w) => w.startsWith('DTD')).sort();

describe('a DTD in an XML part', () => {
  it('leaves a part without a DTD as it is, a DOCTYPE in a comment or CDATA included', () => {
    for (const xml of [
      `<w:document ${W}><w:t>a &x; b</w:t></w:document>`,
      `<w:document><w:t><![CDATA[<!DOCTYPE html><!ENTITY a "b">]]>&x;</w:t><!-- <!DOCTYPE d [ ]> --></w:document>`,
      `<?pi <!ENTITY a "b"> ?><w:document>&x;</w:document>`,
    ]) {
      const safe = safeXml(xml, 'p.xml');
      assert.equal(safe.xml, xml);
      assert.equal(safe.warning, undefined);
    }
  });

  it('finds the end of the DTD past quoted "]>", comments, processing instructions and nested declarations', () => {
    const dtds = [
      `<!DOCTYPE d [<!ENTITY a "x]>y<w:t>leak</w:t>">]>`,
      `<!DOCTYPE d [<!ENTITY a '<!ENTITY b "]>leak">'>]>`,
      `<!DOCTYPE d [<!-- ]> leak --><?pi ]> leak ?><!ATTLIST w:t x CDATA "]>leak"><!ELEMENT w:t ANY><!NOTATION n SYSTEM "]>leak">%pe;]>`,
      `<!DOCTYPE d PUBLIC "-//x//]>leak" 'file:///]>leak' [ <!ENTITY a SYSTEM "file:///etc/passwd" > ] >`,
      `<!doctype d [<!ENTITY a "]>leak">]>`,
    ];
    for (const dtd of dtds) {
      const safe = safeXml(`<?xml version="1.0"?>${dtd}<w:document><w:t>ok&a;</w:t></w:document>`, 'word/document.xml');
      assert.equal(safe.xml, '<?xml version="1.0"?><w:document><w:t>ok</w:t></w:document>', dtd);
      assert.equal(safe.warning, 'DTD in word/document.xml ignored; 1 entity reference not expanded');
    }
  });

  it('drops references to undefined entities and keeps the five XML ones, numeric ones, and text in comments and CDATA', () => {
    const safe = safeXml(
      '<!DOCTYPE d [<!ENTITY a "A">]><r x="&a;&quot;" y=\'&amp;&b.c-d;\'><t>&lt;&#65;&#x42;&a;&gt;&apos;</t><!-- &a; --><![CDATA[&a;]]>&notclosed</r>',
      'content.xml',
    );
    assert.equal(safe.xml, '<r x="&quot;" y=\'&amp;\'><t>&lt;&#65;&#x42;&gt;&apos;</t><!-- &a; --><![CDATA[&a;]]>&notclosed</r>');
    assert.equal(safe.warning, 'DTD in content.xml ignored; 3 entity references not expanded');
  });

  it('reports an unterminated DTD as a corrupt part', () => {
    for (const xml of ['<!DOCTYPE d [<!ENTITY a "b">', '<!DOCTYPE d [<!ENTITY a "b]>', '<!DOCTYPE d [<!-- ]><w:document/>', '<w:document><!ENTITY a "b></w:document>']) {
      assert.throws(() => safeXml(xml, 'word/document.xml'), (err: unknown) => err instanceof ExtractionError && err.code === 'corrupt' && /word\/document\.xml/.test(err.message), xml);
    }
  });

  it('expands nothing and finishes on hostile DTDs of every shape', { timeout: 60_000 }, async () => {
    // Ten levels of ten: 10^10 copies if anything expanded them.
    let laughs = '<!ENTITY l0 "lol">';
    for (let i = 1; i <= 10; i++) laughs += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`;
    const hostile = [
      `<!DOCTYPE lolz [${laughs}]>`,
      // Many declarations and quotes, and many '<!' in the subset: each is passed once.
      `<!DOCTYPE d [${'<!ENTITY a "]>\'<!x">'.repeat(50_000)}]>`,
      `<!DOCTYPE d [${'<!-- ]> " \' -->'.repeat(50_000)}]>`,
    ];
    for (const dtd of hostile) {
      const xml = `<?xml version="1.0"?>${dtd}<w:document ${W}><w:body><w:p><w:r><w:t>kept &l10;&a;</w:t></w:r></w:p></w:body></w:document>`;
      const r = await extractFromBytes(buildDocx({ rawMainXml: xml }), 'hostile.docx', limits);
      assert.equal(r.text, 'kept ');
      assert.deepEqual(dtdWarnings(r.warnings), ['DTD in word/document.xml ignored; 2 entity references not expanded']);
    }
  });

  it('never reads a file or fetches a URL an external entity names', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'docsight-xxe-'));
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end('FETCHED-BY-XXE');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const secret = path.join(dir, 'secret.txt');
      await writeFile(secret, 'SECRET-MARKER-7f3a');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
      const dtd = `<!DOCTYPE d [<!ENTITY file SYSTEM "file://${secret}"><!ENTITY web SYSTEM "${url}"><!ENTITY % pe SYSTEM "${url}"> %pe;]>`;
      const bytes = withDtd(
        buildDocx({ bodyXml: '<w:p><w:r><w:t>&file;|&web;</w:t></w:r></w:p>', core: { title: 'T', creator: 'Eva' } }),
        dtd,
        ['word/document.xml', 'docProps/core.xml'],
      );
      const r = await extractFromBytes(bytes, 'xxe.docx', limits);
      const all = JSON.stringify(r);
      assert.doesNotMatch(all, /SECRET-MARKER|FETCHED-BY-XXE/);
      assert.equal(r.text, '|');
      assert.equal(r.properties.creator, 'Eva');
      assert.equal(requests, 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads every Word part with a DTD and warns once per part', async () => {
    const dtd = '<!DOCTYPE x [<!ENTITY e "ENTITY-VALUE-9c1">]>';
    const bytes = withDtd(
      buildDocx({ bodyXml: '<w:p><w:r><w:t>Body&e;</w:t></w:r></w:p>', headers: ['Head'], core: { title: 'Title', creator: 'Eva', revision: '4' }, app: { application: 'Word', pages: 2 }, custom: { Client: { type: 'lpwstr', value: 'Acme' } } }),
      dtd,
      ['word/document.xml', 'word/header1.xml', 'docProps/core.xml', 'docProps/app.xml', 'docProps/custom.xml', '_rels/.rels', 'word/_rels/document.xml.rels', '[Content_Types].xml'],
    );
    const r = await extractFromBytes(bytes, 'all.docx', limits);
    assert.equal(r.text, 'Body');
    assert.equal(r.parts?.headers, 'Head');
    assert.deepEqual([r.properties.title, r.properties.creator, r.properties.revision, r.properties.application, r.properties.pages], ['Title', 'Eva', '4', 'Word', 2]);
    assert.equal(r.properties.custom?.Client, 'Acme');
    assert.deepEqual(
      dtdWarnings(r.warnings),
      // [Content_Types].xml is only looked at by detection here (the relationships name the main part).
      ['_rels/.rels', 'docProps/app.xml', 'docProps/core.xml', 'docProps/custom.xml', 'word/_rels/document.xml.rels', 'word/document.xml', 'word/header1.xml']
        .map((p) => `DTD in ${p} ignored; ${p === 'word/document.xml' ? '1 entity reference' : '0 entity references'} not expanded`)
        .sort(),
    );
    assert.doesNotMatch(JSON.stringify(r), /ENTITY-VALUE/);
  });

  it('reads spreadsheet, presentation and OpenDocument parts with a DTD', async () => {
    const dtd = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>';
    const xlsx = await extractFromBytes(withDtd(buildXlsx({ Sheet1: ['Cell'] }, { title: 'Book' }), dtd, ['xl/sharedStrings.xml', 'xl/workbook.xml', 'docProps/core.xml']), 'a.xlsx', limits);
    assert.match(xlsx.text, /Cell/);
    assert.equal(xlsx.properties.title, 'Book');
    assert.deepEqual(dtdWarnings(xlsx.warnings).length, 3);

    const pptx = await extractFromBytes(withDtd(buildPptx([{ text: ['Slide text'] }], { creator: 'Eva' }), dtd, ['ppt/slides/slide1.xml', 'ppt/presentation.xml']), 'a.pptx', limits);
    assert.match(pptx.text, /Slide text/);
    assert.equal(pptx.properties.creator, 'Eva');
    assert.deepEqual(dtdWarnings(pptx.warnings), ['DTD in ppt/presentation.xml ignored; 0 entity references not expanded', 'DTD in ppt/slides/slide1.xml ignored; 0 entity references not expanded']);

    const odt = await extractFromBytes(withDtd(buildOdf('text', '<text:p>Tekst</text:p>', { title: 'Titel' }), dtd, ['content.xml', 'meta.xml']), 'a.odt', limits);
    assert.match(odt.text, /Tekst/);
    assert.equal(odt.properties.title, 'Titel');
    assert.deepEqual(dtdWarnings(odt.warnings), ['DTD in content.xml ignored; 0 entity references not expanded', 'DTD in meta.xml ignored; 0 entity references not expanded']);
  });
});

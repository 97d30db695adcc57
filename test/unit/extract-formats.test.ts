import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_EXTRACT_LIMITS, detectFormat, extractFromBytes, isIgnoredFileName } from '../../src/extract/index.ts';
import { buildOdf, buildOle, buildPdf, buildPptx, buildSummaryInformation, buildXlsx } from '../support/extract-fixtures.ts';

const limits = DEFAULT_EXTRACT_LIMITS;
const enc = (s: string) => new TextEncoder().encode(s);

describe('other formats', () => {
  it('xlsx: sheet names, shared strings, macros', async () => {
    const r = await extractFromBytes(buildXlsx({ Budget: ['Revenue', 'Costs'], Notes: ['Ünïcödé & more'] }, { title: 'Budget 2024' }, true), 'b.xlsm', limits);
    assert.equal(r.format, 'xlsx');
    assert.equal(r.mimeType, 'application/vnd.ms-excel.sheet.macroEnabled.12');
    assert.equal(r.properties.title, 'Budget 2024');
    assert.equal(r.text, 'Revenue\nCosts\nÜnïcödé & more');
    assert.equal(r.parts?.sheetNames, 'Budget\nNotes');
    assert.equal(r.structure?.sheets, 2);
    assert.equal(r.structure?.macros, true);
  });

  it('pptx: slides in presentation order, notes apart', async () => {
    const r = await extractFromBytes(
      buildPptx([{ text: ['First slide title', 'bullet'], notes: 'Say hello' }, { text: ['Second slide'] }], { creator: 'Presenter' }),
      'deck.pptx',
      limits,
    );
    assert.equal(r.format, 'pptx');
    assert.equal(r.text, 'First slide title\nbullet\n\nSecond slide');
    assert.equal(r.parts?.notes, 'Say hello');
    assert.equal(r.structure?.slides, 2);
    assert.equal(r.structure?.notes, 1);
    assert.equal(r.properties.creator, 'Presenter');
  });

  it('odt/ods/odp: meta.xml and content', async () => {
    const odt = await extractFromBytes(
      buildOdf('text', '<text:h>Heading</text:h><text:p>Some<text:s text:c="2"/>text<text:tab/>here<office:annotation><dc:creator xmlns:dc="d">Bob</dc:creator><text:p>a note</text:p></office:annotation></text:p>', {
        title: 'ODF title', initialCreator: 'Alice', creator: 'Bob', keywords: ['k1', 'k2'], userDefined: { Project: 'X' },
      }),
      'doc.odt',
      limits,
    );
    assert.equal(odt.format, 'odt');
    assert.equal(odt.properties.title, 'ODF title');
    assert.equal(odt.properties.creator, 'Alice');
    assert.equal(odt.properties.lastModifiedBy, 'Bob');
    assert.equal(odt.properties.keywords, 'k1, k2');
    assert.equal(odt.properties.pages, 2);
    assert.equal(odt.properties.totalEditingTimeMinutes, 65);
    assert.deepEqual(odt.properties.custom, { Project: 'X' });
    assert.equal(odt.text, 'Heading\nSome  text\there');
    assert.equal(odt.parts?.comments, 'a note');
    const ods = await extractFromBytes(buildOdf('spreadsheet', '<table:table table:name="Sheet A"><table:table-row><table:table-cell><text:p>v1</text:p></table:table-cell></table:table-row></table:table>'), 's.ods', limits);
    assert.equal(ods.format, 'ods');
    assert.equal(ods.parts?.sheetNames, 'Sheet A');
    const odp = await extractFromBytes(buildOdf('presentation', '<draw:page><draw:frame><draw:text-box><text:p>Slide one</text:p></draw:text-box></draw:frame><presentation:notes><text:p>speaker</text:p></presentation:notes></draw:page>'), 'p.odp', limits);
    assert.equal(odp.format, 'odp');
    assert.equal(odp.text, 'Slide one');
    assert.equal(odp.parts?.notes, 'speaker');
    assert.equal(odp.structure?.slides, 1);
  });

  it('pdf: info dictionary, version, pages and text', async () => {
    const r = await extractFromBytes(buildPdf(['Hello page one', 'Page two text'], { Title: 'PDF Title', Author: 'Writer', CreationDate: "D:20230405060708+02'00'" }), 'f.pdf', limits);
    assert.equal(r.format, 'pdf');
    assert.equal(r.properties.title, 'PDF Title');
    assert.equal(r.properties.creator, 'Writer');
    assert.equal(r.properties.created, '2023-04-05T06:07:08+02:00');
    assert.equal(r.properties.pages, 2);
    assert.equal(r.properties.version, '1.7');
    assert.equal(r.text, 'Hello page one\fPage two text');
    assert.equal(r.structure?.encrypted, false);
  });

  it('plain text in UTF-16 with BOM, windows-1252 and markdown titles', async () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...Buffer.from('Grüße aus Köln', 'utf16le')]);
    assert.equal((await extractFromBytes(utf16, 'a.txt', limits)).text, 'Grüße aus Köln');
    const cp1252 = new Uint8Array([...enc('Caf'), 0xe9, ...enc(' na'), 0xef, ...enc('ve '), 0x93, ...enc('quoted'), 0x94]);
    assert.equal((await extractFromBytes(cp1252, 'b.txt', limits)).text, 'Café naïve “quoted”');
    const md = await extractFromBytes(enc('Intro line\n\n# The Title\n\nBody'), 'c.md', limits);
    assert.equal(md.format, 'md');
    assert.equal(md.properties.title, 'The Title');
    const csv = await extractFromBytes(enc('a,b\n1,2\n'), 'd.csv', limits);
    assert.equal(csv.format, 'csv');
  });

  it('html: title, text without scripts, meta author', async () => {
    const r = await extractFromBytes(
      enc('<!DOCTYPE html><html lang="de"><head><title>Seite &amp; Titel</title><meta name="author" content="Eva"><style>p{}</style></head><body><h1>Kopf</h1><p>Text&nbsp;hier</p><script>var x = 1;</script></body></html>'),
      'page.htm',
      limits,
    );
    assert.equal(r.format, 'html');
    assert.equal(r.properties.title, 'Seite & Titel');
    assert.equal(r.properties.creator, 'Eva');
    assert.match(r.text, /^Kopf\n+Text\u00a0hier$/);
  });

  it('rtf: control words stripped, info group read', async () => {
    const rtf = '{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}}{\\info{\\title My RTF}{\\author Jane}{\\creatim\\yr2020\\mo5\\dy6\\hr7\\min8}}\\f0 Hello \\b world\\b0\\par Caf\\\'e9 \\u8364?5\\par}';
    const r = await extractFromBytes(enc(rtf), 'x.rtf', limits);
    assert.equal(r.format, 'rtf');
    assert.equal(r.properties.title, 'My RTF');
    assert.equal(r.properties.creator, 'Jane');
    assert.equal(r.properties.created, '2020-05-06T07:08:00');
    assert.equal(r.text, 'Hello world\nCafé €5');
  });

  it('legacy .doc: SummaryInformation properties, else unsupported', async () => {
    const doc = buildOle({ WordDocument: new Uint8Array(600), '\u0005SummaryInformation': buildSummaryInformation({ 2: 'Legacy title', 4: 'Old Author' }) });
    assert.deepEqual(detectFormat(doc, 'old.doc'), { format: 'doc', mimeType: 'application/msword' });
    const r = await extractFromBytes(doc, 'old.doc', limits);
    assert.equal(r.properties.title, 'Legacy title');
    assert.equal(r.raw['dc:creator'], 'Old Author');
    const bare = buildOle({ WordDocument: new Uint8Array(600) });
    await assert.rejects(extractFromBytes(bare, 'bare.doc', limits), { code: 'unsupported' });
  });

  it('knows which files are not documents', () => {
    for (const name of ['.DS_Store', 'dir/.hidden', '~$report.docx', '~WRL1234.tmp', 'x.tmp', 'Thumbs.db', 'desktop.ini', '.~lock.a.odt#']) {
      assert.equal(isIgnoredFileName(name), true, name);
    }
    for (const name of ['report.docx', 'a/b/notes.txt', 'tmp.docx']) assert.equal(isIgnoredFileName(name), false, name);
  });
});

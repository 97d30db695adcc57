import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_EXTRACT_LIMITS, detectFormat, extractFromBytes } from '../../src/extract/index.ts';
import { buildDocx, wTable } from '../support/extract-fixtures.ts';

const limits = DEFAULT_EXTRACT_LIMITS;

describe('docx extraction', () => {
  it('reads core, app and typed custom properties with Tika keys', async () => {
    const bytes = buildDocx({
      paragraphs: ['The quarterly report covers revenue, costs and the outlook for the next year in detail.'],
      core: {
        title: 'Quarterly report',
        subject: 'Finance',
        creator: 'Ada Lovelace',
        keywords: 'revenue; costs',
        description: 'Q3 numbers',
        lastModifiedBy: 'Charles Babbage',
        revision: '7',
        created: '2024-01-02T03:04:05Z',
        modified: '2024-02-03T04:05:06Z',
        category: 'Reports',
        contentStatus: 'Final',
        language: 'en-GB',
      },
      app: { application: 'Microsoft Office Word', appVersion: '16.0000', template: 'Normal.dotm', company: 'Acme', manager: 'Grace', pages: 3, words: 999, characters: 5000, totalTime: 42, docSecurity: 0 },
      custom: {
        Client: { type: 'lpwstr', value: 'Initech' },
        Amount: { type: 'r8', value: '12.5' },
        Approved: { type: 'bool', value: 'true' },
        Due: { type: 'filetime', value: '2024-05-01T00:00:00Z' },
      },
    });
    const r = await extractFromBytes(bytes, 'report.docx', limits);
    assert.equal(r.format, 'docx');
    assert.equal(r.mimeType, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    assert.equal(r.properties.title, 'Quarterly report');
    assert.equal(r.properties.creator, 'Ada Lovelace');
    assert.equal(r.properties.lastModifiedBy, 'Charles Babbage');
    assert.equal(r.properties.created, '2024-01-02T03:04:05Z');
    assert.equal(r.properties.contentStatus, 'Final');
    assert.equal(r.properties.company, 'Acme');
    assert.equal(r.properties.pages, 3);
    assert.equal(r.properties.totalEditingTimeMinutes, 42);
    assert.deepEqual(r.properties.custom, { Client: 'Initech', Amount: 12.5, Approved: true, Due: '2024-05-01T00:00:00Z' });
    assert.equal(r.raw['dc:title'], 'Quarterly report');
    assert.equal(r.raw['meta:last-author'], 'Charles Babbage');
    assert.equal(r.raw['meta:keyword'], 'revenue; costs');
    assert.equal(r.raw['extended-properties:Company'], 'Acme');
    assert.equal(r.raw['extended-properties:DocSecurityString'], 'None');
    assert.equal(r.raw['meta:page-count'], 3);
    assert.equal(r.raw['custom:Client'], 'Initech');
    assert.equal(r.language, 'eng');
    // Counts come from the content, not from the stale app.xml value (999).
    assert.equal(r.counts?.words, 15);
  });

  it('finds the main part through relationships and keeps side parts apart', async () => {
    const bytes = buildDocx({
      mainPart: 'word/document22.xml',
      paragraphs: ['Body text here', 'Cell\tafter tab'],
      bodyXml: wTable([['a1', 'b1'], ['a2', 'b2']]),
      headers: ['This is the header text.'],
      footers: ['This is the footer text.'],
      footnotes: ['Footnote appears here'],
      comments: ['A reviewer comment', 'Second comment'],
    });
    const r = await extractFromBytes(bytes, 'x.docx', limits);
    assert.match(r.text, /^Body text here\nCell\tafter tab\n/);
    assert.match(r.text, /a1\nb1\na2\nb2/);
    assert.equal(r.parts?.headers, 'This is the header text.');
    assert.equal(r.parts?.footers, 'This is the footer text.');
    assert.equal(r.parts?.footnotes, 'Footnote appears here');
    assert.equal(r.parts?.comments, 'A reviewer comment\nSecond comment');
    assert.equal(r.structure?.tables, 1);
    assert.equal(r.structure?.comments, 2);
    assert.equal(r.counts?.tables, 1);
    assert.ok(!r.text.includes('header text'), 'headers are not mixed into the body');
  });

  it('tolerates missing core.xml and app.xml', async () => {
    const r = await extractFromBytes(buildDocx({ paragraphs: ['Just text'], core: null, app: null }), 'bare.docx', limits);
    assert.equal(r.text, 'Just text');
    assert.deepEqual(r.properties, {});
    assert.ok(r.warnings?.some((w) => w.includes('core')));
  });

  it('reads Strict OOXML and odd namespace prefixes', async () => {
    const bytes = buildDocx({
      strict: true,
      rawMainXml: '<?xml version="1.0"?><x:document xmlns:x="http://purl.oclc.org/ooxml/wordprocessingml/main"><x:body><x:p><x:r><x:t>Strict body</x:t></x:r></x:p></x:body></x:document>',
      app: { application: 'Word', company: 'StrictCo' },
    });
    const r = await extractFromBytes(bytes, 'strict.docx', limits);
    assert.equal(r.text, 'Strict body');
    assert.equal(r.properties.company, 'StrictCo');
  });

  it('takes the text of an altChunk HTML body', async () => {
    const r = await extractFromBytes(
      buildDocx({ altChunkHtml: '<html><body><p>Imported &amp; embedded</p><script>alert(1)</script></body></html>' }),
      'alt.docx',
      limits,
    );
    assert.equal(r.text, 'Imported & embedded');
  });

  it('skips deleted text, field codes and Fallback copies; counts tracked changes and images', async () => {
    const bodyXml =
      '<w:p><w:ins w:id="1"><w:r><w:t>kept</w:t></w:r></w:ins><w:del w:id="2"><w:r><w:delText>gone</w:delText></w:r></w:del>' +
      '<w:r><w:instrText> HYPERLINK "x" </w:instrText></w:r><w:r><w:t xml:space="preserve"> &lt;b&gt; &#x263A;</w:t></w:r></w:p>' +
      '<w:p><w:r><mc:AlternateContent xmlns:mc="m"><mc:Choice><w:drawing><a:blip xmlns:a="a" r:embed="rId9"/><w:txbxContent><w:p><w:r><w:t>box</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>box</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>';
    const r = await extractFromBytes(buildDocx({ bodyXml }), 'tc.docx', limits);
    assert.match(r.text, /^kept <b> ☺\nbox$/);
    assert.ok(!r.text.includes('gone') && !r.text.includes('HYPERLINK'));
    assert.equal(r.text.match(/box/g)?.length, 1);
    assert.equal(r.structure?.trackedChanges, true);
    assert.equal(r.structure?.images, 1);
  });

  it('labels .docm with macros and .dotx templates by content', async () => {
    const docm = await extractFromBytes(buildDocx({ paragraphs: ['m'], macros: true }), 'macro.docx', limits);
    assert.equal(docm.mimeType, 'application/vnd.ms-word.document.macroEnabled.12');
    assert.equal(docm.structure?.macros, true);
    const dotx = detectFormat(buildDocx({ template: true }), 'template.docx');
    assert.deepEqual(dotx, { format: 'docx', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.template' });
  });

  it('splits several authors for the Tika view and truncates long text', async () => {
    const many = Array.from({ length: 100 }, (_, i) => `paragraph ${i} with some words`);
    const r = await extractFromBytes(buildDocx({ paragraphs: many, core: { creator: 'a1; author2; a3' } }), 'm.docx', { ...limits, maxTextChars: 100 });
    assert.deepEqual(r.raw['dc:creator'], ['a1', 'author2', 'a3']);
    assert.equal(r.text.length, 100);
    assert.equal(r.textTruncated, true);
  });
});

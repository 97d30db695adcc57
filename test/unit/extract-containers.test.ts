/**
 * E-mails (.eml, .msg) and zips as containers of child documents: the message's own facts, each
 * attachment or entry extracted like a file, to the configured depth and under the shared
 * limits; hostile names, links, bombs and encryption; reading a child's bytes again; the page
 * count OCR gets for images; children crossing the extraction pool's thread boundary.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { strToU8, zipSync, type Zippable } from 'fflate';
import MailComposer from 'nodemailer/lib/mail-composer';
import { safeChildName } from '../../src/extract/child-name.ts';
import { htmlToText } from '../../src/extract/html.ts';
import { tiffPageCount } from '../../src/extract/image-pages.ts';
import {
  DEFAULT_EXTRACT_LIMITS,
  ExtractionError,
  detectFormat,
  extractFromBytes,
  imagePageCount,
  readChild,
  type ChildDocument,
  type ExtractionFailureCode,
  type ExtractionResult,
} from '../../src/extract/index.ts';
import { createExtractionPool } from '../../src/extract/pool.ts';
import { buildEml, buildTiff, encodedWord, markEncrypted, PNG_BYTES } from '../support/container-fixtures.ts';
import { buildDocx, buildOdf, buildPdf, buildPptx, buildXlsx, JPEG_BYTES } from '../support/extract-fixtures.ts';

const limits = DEFAULT_EXTRACT_LIMITS;
const MAIL_CORPUS = ['/work/shared/corpus/tika/mail', join(import.meta.dirname, '../../../shared/corpus/tika/mail')].find((d) => existsSync(d));

function extracted(child: ChildDocument | undefined): ExtractionResult {
  assert.ok(child, 'child missing');
  assert.equal(child.outcome.kind, 'extracted', child.outcome.kind === 'failed' ? `${child.outcome.code}: ${child.outcome.message}` : '');
  return child.outcome.result;
}

function failedCode(child: ChildDocument | undefined): ExtractionFailureCode {
  assert.ok(child, 'child missing');
  assert.equal(child.outcome.kind, 'failed');
  return child.outcome.code;
}

async function failsWith(promise: Promise<unknown>, code: ExtractionFailureCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof ExtractionError && err.code === code);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const docx = buildDocx({ paragraphs: ['Offerte voor het project Noorderlicht'], core: { title: 'Offerte Noorderlicht', creator: 'Anna de Vries' } });

function invoiceEml(): Uint8Array {
  return buildEml({
    subject: encodedWord('Factuur 2024-001 — €1.250'),
    from: `${encodedWord('Zoë Müller')} <zoe@example.de>`,
    cc: 'Carol <carol@example.com>, dave@example.com',
    parts: [
      { contentType: 'text/plain; charset=utf-8', encoding: 'quoted-printable', body: 'Beste Bob,\n\nIn de bijlage de offerte en het logo. Groet, Zoë' },
      { contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', encoding: 'base64', disposition: 'attachment; filename="offerte.docx"', body: docx },
      { contentType: 'image/png', encoding: 'base64', disposition: 'attachment; filename="logo.png"', body: PNG_BYTES },
    ],
  });
}

describe('.eml messages', () => {
  it('reads subject, sender, recipients, date, message id and body, with encoded headers and quoted-printable', async () => {
    const r = await extractFromBytes(invoiceEml(), 'mail.eml', limits);
    assert.equal(r.format, 'eml');
    assert.equal(r.mimeType, 'message/rfc822');
    assert.equal(r.properties.title, 'Factuur 2024-001 — €1.250');
    assert.equal(r.properties.creator, 'Zoë Müller <zoe@example.de>');
    assert.equal(r.properties.created, '2024-01-02T09:11:12.000Z');
    assert.equal(r.properties.identifier, '<offerte-1@example.nl>');
    assert.deepEqual(r.raw['Message-To'], ['Bob Jansen <bob@example.com>']);
    assert.deepEqual(r.raw['Message-Cc'], ['Carol <carol@example.com>', 'dave@example.com']);
    assert.equal(r.text, 'Beste Bob,\n\nIn de bijlage de offerte en het logo. Groet, Zoë');
    assert.deepEqual(r.raw['X-Attachment-Names'], ['offerte.docx', 'logo.png']);
    assert.deepEqual(r.raw['X-Attachment-Types'], ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'image/png']);
    assert.deepEqual(r.raw['X-Attachment-Sizes'], [String(docx.length), String(PNG_BYTES.length)]);
  });

  it('extracts each attachment as a child: a .docx with its text and properties, a .png with its OCR need', async () => {
    const r = await extractFromBytes(invoiceEml(), 'mail.eml', limits);
    assert.equal(r.children?.length, 2);
    const [d, p] = r.children ?? [];
    assert.deepEqual({ index: d?.index, name: d?.name, kind: d?.kind, size: d?.size, sha256: d?.sha256 }, { index: 1, name: 'offerte.docx', kind: 'attachment', size: docx.length, sha256: sha(docx) });
    const dr = extracted(d);
    assert.equal(dr.format, 'docx');
    assert.equal(dr.properties.title, 'Offerte Noorderlicht');
    assert.match(dr.text, /Noorderlicht/);
    const pr = extracted(p);
    assert.equal(p?.index, 2);
    assert.equal(pr.format, 'image');
    assert.deepEqual(pr.ocr, { pages: [1], pageCount: 1 });
  });

  it('turns an HTML-only body into text with html.ts, base64-encoded', async () => {
    const html = '<html><head><style>p{color:red}</style></head><body><h1>Vergadering</h1><p>Agenda &amp; notulen</p><script>x()</script></body></html>';
    const r = await extractFromBytes(buildEml({ parts: [{ contentType: 'text/html; charset=utf-8', encoding: 'base64', body: html }] }), 'x.eml', limits);
    assert.equal(r.text, htmlToText(html).text, 'the same text as an .html file gives');
    assert.match(r.text, /^Vergadering\n+Agenda & notulen$/);
    assert.equal(r.structure?.htmlBody, true);
    assert.deepEqual(r.children, []);
  });

  it('keeps an attached message (message/rfc822) as a child and recurses into its attachments', async () => {
    const inner = buildEml({
      subject: 'Doorgestuurd',
      parts: [
        { contentType: 'text/plain', body: 'Zie bijlage.' },
        { contentType: 'text/csv', disposition: 'attachment; filename="cijfers.csv"', body: 'a;b\n1;2\n' },
      ],
    });
    const outer = buildEml({
      subject: 'Fwd: Doorgestuurd',
      parts: [
        { contentType: 'text/plain', body: 'Hierbij.' },
        { contentType: 'message/rfc822', disposition: 'attachment; filename="doorgestuurd.eml"', body: inner },
      ],
    });
    const r = await extractFromBytes(outer, 'fwd.eml', limits);
    assert.equal(r.text, 'Hierbij.');
    const child = extracted(r.children?.[0]);
    assert.equal(child.format, 'eml');
    assert.equal(child.properties.title, 'Doorgestuurd');
    assert.equal(child.text, 'Zie bijlage.');
    const csv = extracted(child.children?.[0]);
    assert.equal(csv.format, 'csv');
    const back = await readChild(outer, [1, 1], limits);
    assert.equal(back.name, 'cijfers.csv');
    assert.equal(new TextDecoder().decode(back.bytes), 'a;b\n1;2\n');
  });

  it('names an unnamed attached message after its type', async () => {
    const inner = buildEml({ subject: 'Zonder naam', parts: [{ contentType: 'text/plain', body: 'x' }] });
    const r = await extractFromBytes(buildEml({ parts: [{ contentType: 'text/plain', body: 'y' }, { contentType: 'message/rfc822', body: inner }] }), 'a.eml', limits);
    assert.equal(r.children?.[0]?.name, 'attachment-1.eml');
    assert.equal(extracted(r.children?.[0]).properties.title, 'Zonder naam');
  });

  it('reads a message composed by nodemailer (alternative text/html, attachments from a library)', async () => {
    const raw = await new MailComposer({
      from: '"Jan Smit" <jan@example.nl>',
      to: ['klant@example.com', 'Ö Ärger <oe@example.de>'],
      cc: 'boekhouding@example.nl',
      subject: 'Jaarrekening 2023 – concept',
      date: new Date('2024-03-04T05:06:07Z'),
      messageId: '<jaarrekening@example.nl>',
      text: 'Geachte klant, bijgaand het concept.',
      html: '<p>Geachte klant, <b>bijgaand</b> het concept.</p>',
      attachments: [
        { filename: 'jaarrekening.pdf', content: Buffer.from(buildPdf(['Balans per 31 december'], { Title: 'Jaarrekening' })) },
        { filename: 'toelichting.txt', content: 'Toelichting bij de jaarrekening', contentTransferEncoding: 'quoted-printable' },
      ],
    })
      .compile()
      .build();
    const r = await extractFromBytes(new Uint8Array(raw), 'mail', limits);
    assert.equal(r.format, 'eml', 'detected from content, without an extension');
    assert.equal(r.properties.title, 'Jaarrekening 2023 – concept');
    assert.equal(r.properties.creator, 'Jan Smit <jan@example.nl>');
    assert.equal(r.properties.created, '2024-03-04T05:06:07.000Z');
    assert.deepEqual(r.raw['Message-To'], ['klant@example.com', 'Ö Ärger <oe@example.de>']);
    assert.equal(r.text, 'Geachte klant, bijgaand het concept.', 'the text/plain alternative wins over the HTML one');
    assert.equal(extracted(r.children?.[0]).properties.title, 'Jaarrekening');
    assert.equal(extracted(r.children?.[1]).text, 'Toelichting bij de jaarrekening');
  });

  it('fails an S/MIME or PGP encrypted message with encrypted, and an opaque-signed one as unsupported', async () => {
    const smime = buildEml({
      parts: [{ contentType: 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"', encoding: 'base64', disposition: 'attachment; filename="smime.p7m"', body: new Uint8Array(300).fill(7) }],
    });
    await failsWith(extractFromBytes(smime, 'secret.eml', limits), 'encrypted');
    const pgp = buildEml({ parts: [{ contentType: 'text/plain', body: '-----BEGIN PGP MESSAGE-----\nhQEMA...\n-----END PGP MESSAGE-----' }] });
    await failsWith(extractFromBytes(pgp, 'pgp.eml', limits), 'encrypted');
    const opaque = buildEml({ parts: [{ contentType: 'application/pkcs7-mime; smime-type=signed-data', encoding: 'base64', body: new Uint8Array(50) }] });
    await failsWith(extractFromBytes(opaque, 'signed.eml', limits), 'unsupported');
  });

  it('an encrypted attached message fails alone; its parent is read', async () => {
    const smime = buildEml({ parts: [{ contentType: 'application/x-pkcs7-mime; name="smime.p7m"', encoding: 'base64', body: new Uint8Array(64) }] });
    const r = await extractFromBytes(buildEml({ parts: [{ contentType: 'text/plain', body: 'ok' }, { contentType: 'message/rfc822', disposition: 'attachment; filename="x.eml"', body: smime }] }), 'p.eml', limits);
    assert.equal(r.text, 'ok');
    assert.equal(failedCode(r.children?.[0]), 'encrypted');
  });

  it('does not list a signature part as a document', async () => {
    const r = await extractFromBytes(
      buildEml({ parts: [{ contentType: 'text/plain', body: 'signed' }, { contentType: 'application/pkcs7-signature; name=smime.p7s', encoding: 'base64', disposition: 'attachment; filename="smime.p7s"', body: new Uint8Array(40) }] }),
      's.eml',
      limits,
    );
    assert.deepEqual(r.children, []);
    assert.equal(r.structure?.signed, true);
  });

  it('detects a message from its headers, not from a note that starts with a Subject line', () => {
    assert.equal(detectFormat(invoiceEml(), 'mail.txt').format, 'eml');
    assert.equal(detectFormat(strToU8('Subject: boodschappen\nmelk, brood\n'), 'note.txt').format, 'txt');
    assert.equal(detectFormat(strToU8('Title: x\nAuthor: y\n\nbody'), 'notes.md').format, 'md');
  });
});

describe('Outlook .msg (corpus)', { skip: MAIL_CORPUS === undefined && 'no shared corpus' }, () => {
  const read = (name: string) => new Uint8Array(readFileSync(join(MAIL_CORPUS ?? '', name)));

  it('reads the fields Tika reads from testMSG.msg', async () => {
    const r = await extractFromBytes(read('testMSG.msg'), 'testMSG.msg', limits);
    assert.equal(r.format, 'msg');
    assert.equal(r.properties.title, 'MIME registry use cases');
    assert.equal(r.properties.creator, 'Jukka Zitting <jukka.zitting@gmail.com>');
    assert.equal(r.properties.created, '2009-01-29T19:16:40.000Z');
    assert.deepEqual(r.raw['Message-To'], ['tika-dev@lucene.apache.org']);
    assert.match(r.text, /As discussed, I've been working on making the type detection code more/);
    assert.deepEqual(r.children, []);
  });

  it('extracts a .doc and a .txt attachment', async () => {
    const r = await extractFromBytes(read('testMSG_att_doc.msg'), 'a.msg', limits);
    assert.equal(r.properties.title, 'test pièce jointe 1');
    assert.deepEqual(r.children?.map((c) => c.name), ['test-unicode.doc', 'pj1.txt']);
    assert.equal(extracted(r.children?.[0]).format, 'doc');
    assert.match(extracted(r.children?.[0]).text, /euro : €/);
    assert.equal(extracted(r.children?.[1]).format, 'txt');
  });

  it('extracts an attached message (embedded .msg) and a PDF, and reads the embedded one again', async () => {
    const bytes = read('testMSG_att_msg.msg');
    const r = await extractFromBytes(bytes, 'm.msg', limits);
    const inner = extracted(r.children?.[0]);
    assert.equal(r.children?.[0]?.name, 'Test Attachment.msg');
    assert.equal(inner.format, 'msg');
    assert.equal(inner.properties.title, 'Test Attachment');
    assert.equal(inner.text, 'Blah blah blah');
    assert.equal(extracted(r.children?.[1]).format, 'pdf');
    const again = await readChild(bytes, [1], limits, 'm.msg');
    assert.equal(sha(again.bytes), r.children?.[0]?.sha256);
  });

  it('reads a Big5 message in its own code page', async () => {
    const r = await extractFromBytes(read('testMSG_chinese.msg'), 'c.msg', limits);
    assert.equal(r.properties.title, 'Alfresco MSG format testing ( MSG 格式測試 )');
    assert.match(r.text, /中文測試/);
  });

  it('lists JPEG attachments of an Outlook 2003 message as images OCR must read', async () => {
    const r = await extractFromBytes(read('test-outlook2003.msg'), 'o.msg', limits);
    assert.equal(r.children?.length, 11);
    for (const c of r.children ?? []) assert.deepEqual(extracted(c).ocr, { pages: [1], pageCount: 1 });
  });

  it('reads the corpus .eml files, an mbox "From " line first included', async () => {
    const png = await extractFromBytes(read('testEmailWithPNGAtt.eml'), 'x.eml', limits);
    assert.equal(png.format, 'eml');
    assert.equal(png.properties.title, 'Test Attachment Email');
    assert.equal(extracted(png.children?.[0]).format, 'image');
    const multi = await extractFromBytes(read('testRFC822_multipart_attachments.eml'), 'y.eml', limits);
    assert.deepEqual(multi.children?.map((c) => extracted(c).text), ['This is Test TXTA File for parser', 'This is Test TXTB File for parser']);
  });
});

/** A zip of every supported document type (and a message and a nested zip). */
function everyTypeZip(): Zippable {
  return {
    'offerte.docx': docx,
    'begroting.xlsx': buildXlsx({ Blad1: ['Omzet 2024'] }, { title: 'Begroting' }),
    'presentatie.pptx': buildPptx([{ text: ['Kwartaalcijfers'] }]),
    'notitie.odt': buildOdf('text', '<text:p>Notitie over het project</text:p>', { title: 'Notitie' }),
    'contract.pdf': buildPdf(['Overeenkomst van opdracht'], { Title: 'Contract' }),
    'lees.txt': strToU8('Lees mij eerst'),
    'README.md': strToU8('# Handleiding\n\nTekst'),
    'cijfers.csv': strToU8('a,b\n1,2\n'),
    'pagina.html': strToU8('<html><head><title>Pagina</title></head><body><p>Hallo</p></body></html>'),
    'brief.rtf': strToU8('{\\rtf1\\ansi{\\info{\\title Brief}}Geachte heer,\\par}'),
    'scan.png': PNG_BYTES,
    'foto.jpg': JPEG_BYTES,
    'bericht.eml': invoiceEml(),
    'binnen.zip': zipSync({ 'diep.txt': strToU8('diep') }),
  };
}

describe('.zip archives', () => {
  it('extracts every entry of every supported type as an archive-entry child', async () => {
    const files = everyTypeZip();
    const r = await extractFromBytes(zipSync(files), 'map.zip', limits);
    assert.equal(r.format, 'zip');
    assert.equal(r.text, '');
    const byName = new Map((r.children ?? []).map((c) => [c.name, c]));
    const expected: Record<string, string> = {
      'offerte.docx': 'docx', 'begroting.xlsx': 'xlsx', 'presentatie.pptx': 'pptx', 'notitie.odt': 'odt', 'contract.pdf': 'pdf', 'lees.txt': 'txt',
      'README.md': 'md', 'cijfers.csv': 'csv', 'pagina.html': 'html', 'brief.rtf': 'rtf', 'scan.png': 'image', 'foto.jpg': 'image', 'bericht.eml': 'eml', 'binnen.zip': 'zip',
    };
    assert.deepEqual(Object.fromEntries([...byName].map(([n, c]) => [n, extracted(c).format])), expected);
    for (const c of r.children ?? []) {
      assert.equal(c.kind, 'archive-entry');
      const bytes = files[c.name] as Uint8Array;
      assert.equal(c.size, bytes.length);
      assert.equal(c.sha256, sha(bytes));
    }
    assert.equal(extracted(byName.get('contract.pdf')).properties.title, 'Contract');
    assert.equal(extracted(byName.get('brief.rtf')).properties.title, 'Brief');
    assert.equal(extracted(byName.get('bericht.eml')).children?.length, 2, 'the message inside opens too');
    assert.equal(extracted(extracted(byName.get('binnen.zip')).children?.[0]).text, 'diep');
    assert.deepEqual(r.structure, { entries: 14, directories: 0, links: 0, skipped: 0, encryptedEntries: 0 });
  });

  it('reads a child again by its index path, across containers', async () => {
    const zip = zipSync({ 'a.txt': strToU8('een'), 'mail.eml': invoiceEml() });
    const r = await extractFromBytes(zip, 'z.zip', limits);
    const png = r.children?.[1]?.outcome.kind === 'extracted' ? r.children[1].outcome.result.children?.[1] : undefined;
    const got = await readChild(zip, [2, 2], limits);
    assert.equal(got.name, 'logo.png');
    assert.equal(got.kind, 'attachment');
    assert.equal(sha(got.bytes), png?.sha256);
    assert.deepEqual(got.bytes, PNG_BYTES);
    await failsWith(readChild(zip, [3], limits), 'corrupt');
    await failsWith(readChild(zip, [2, 1, 1, 1], limits), 'too_deep');
  });

  it('flattens folders into one safe name and never keeps .., absolute paths, drive letters or control characters', async () => {
    const zip = zipSync({
      'sub/dir/file.txt': strToU8('in een map'),
      '../../etc/passwd': strToU8('root:x:0:0'),
      '/abs/path.txt': strToU8('absoluut'),
      'C:\\Windows\\win.ini': strToU8('[fonts]'),
      'fac\u202Etxt.exe': strToU8('bidi'),
      'nul\u0000byte.txt': strToU8('nul'),
    });
    const r = await extractFromBytes(zip, 'evil.zip', limits);
    assert.deepEqual(r.children?.map((c) => c.name), ['sub∕dir∕file.txt', 'etc∕passwd', 'abs∕path.txt', 'Windows∕win.ini', 'factxt.exe', 'nulbyte.txt']);
    for (const c of r.children ?? []) {
      assert.doesNotMatch(c.name, /[/\\\u0000-\u001f\u202e]|\.\./);
      extracted(c);
    }
    assert.ok(r.warnings?.some((w) => w.includes('"../../etc/passwd"')), 'the rename is reported');
    assert.ok(!r.warnings?.some((w) => w.includes('sub/dir/file.txt')), 'plain folders are not a warning');
  });

  it('makes names safe in one place (unit)', () => {
    assert.equal(safeChildName('..', 3, 'archive-entry'), 'archive-entry-3');
    assert.equal(safeChildName('a/./../b', 1, 'attachment'), 'a∕b');
    assert.equal(safeChildName('\\\\server\\share\\x.docx', 1, 'attachment'), 'server∕share∕x.docx');
    const long = safeChildName(`${'x'.repeat(400)}.docx`, 1, 'attachment');
    assert.equal([...long].length, 255);
    assert.ok(long.endsWith('….docx'));
  });

  it('never follows a symbolic link entry, skips directories and OS metadata', async () => {
    const zip = zipSync({
      'link-to-passwd': [strToU8('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }],
      'map/': [new Uint8Array(0), { os: 3, attrs: (0o040755 << 16) >>> 0 }],
      'map/echt.txt': [strToU8('echt'), { os: 3, attrs: (0o100644 << 16) >>> 0 }],
      '__MACOSX/map/._echt.txt': strToU8('resource fork'),
      '.DS_Store': strToU8('junk'),
    });
    const r = await extractFromBytes(zip, 'links.zip', limits);
    assert.deepEqual(r.children?.map((c) => c.name), ['map∕echt.txt']);
    assert.deepEqual(r.structure, { entries: 1, directories: 1, links: 1, skipped: 2, encryptedEntries: 0 });
    assert.ok(r.warnings?.some((w) => /symbolic link/.test(w)));
  });

  it('fails an encrypted entry alone, and an archive whose every entry is encrypted as encrypted', async () => {
    const some = markEncrypted(zipSync({ 'open.txt': strToU8('open'), 'secret.txt': strToU8('geheim') }), (n) => n === 'secret.txt');
    const r = await extractFromBytes(some, 'some.zip', limits);
    assert.equal(extracted(r.children?.[0]).text, 'open');
    assert.equal(failedCode(r.children?.[1]), 'encrypted');
    assert.equal(r.children?.[1]?.sha256, '', 'unread bytes have no hash');
    const all = markEncrypted(zipSync({ 'a.txt': strToU8('a'), 'b.txt': strToU8('b') }), () => true);
    await failsWith(extractFromBytes(all, 'all.zip', limits), 'encrypted');
  });

  it('fails a bomb entry as zip_bomb and keeps the other entries', async () => {
    const zip = zipSync({ 'ok.txt': strToU8('klein'), 'bomb.txt': new Uint8Array(20 * 1024 * 1024).fill(65) });
    assert.ok(zip.length < 100_000);
    const r = await extractFromBytes(zip, 'bomb.zip', limits);
    assert.equal(extracted(r.children?.[0]).text, 'klein');
    assert.equal(failedCode(r.children?.[1]), 'zip_bomb');
  });

  it('refuses a zip of zips that passes the total size only when added up across levels', async () => {
    const small = { ...limits, maxUncompressedBytes: 1024 * 1024 };
    const inner = zipSync({ 'x.txt': new Uint8Array(400 * 1024).fill(66) });
    // Each inner archive inflates 400 KiB (under its own 1 MiB cap); together they pass it.
    const outer = zipSync({ 'a.zip': inner, 'b.zip': inner, 'c.zip': inner });
    const r = await extractFromBytes(outer, 'nest.zip', small);
    const codes = (r.children ?? []).map((c) => (c.outcome.kind === 'failed' ? c.outcome.code : extracted(c).children?.[0]?.outcome.kind === 'failed' ? 'child-failed' : 'ok'));
    assert.deepEqual(codes.slice(0, 2), ['ok', 'ok']);
    assert.ok(codes.slice(2).every((c) => c !== 'ok'), `the third must not be read: ${codes.join(',')}`);
    assert.ok(r.warnings?.some((w) => /total size/.test(w)) || JSON.stringify(r).includes('zip_bomb'));
  });

  it('stops listing at maxEntries documents across all levels', async () => {
    const few = { ...limits, maxEntries: 4 };
    const files: Zippable = {};
    for (let i = 0; i < 3; i++) files[`f${i}.txt`] = strToU8(`tekst ${i}`);
    const outer = zipSync({ 'inner.zip': zipSync(files), 'late.txt': strToU8('laat') });
    const r = await extractFromBytes(outer, 'count.zip', few);
    assert.equal(extracted(r.children?.[0]).children?.length, 3);
    assert.equal(r.children?.length, 1, 'the budget was spent by the inner archive');
    assert.ok(r.warnings?.some((w) => /more documents inside not listed/.test(w)));
  });

  it('records a child past maxDepth as failed too_deep (zip in zip in zip in zip)', async () => {
    const level3 = zipSync({ 'deepest.txt': strToU8('te diep') });
    const level2 = zipSync({ 'l3.zip': level3 });
    const level1 = zipSync({ 'l2.zip': level2 });
    const top = zipSync({ 'l1.zip': level1 });
    const r = await extractFromBytes(top, 'top.zip', limits);
    const l1 = extracted(r.children?.[0]);
    const l2 = extracted(l1.children?.[0]);
    const l3 = extracted(l2.children?.[0]);
    const deepest = l3.children?.[0];
    assert.equal(failedCode(deepest), 'too_deep');
    assert.equal(deepest?.name, 'deepest.txt');
    assert.equal(deepest?.sha256, sha(strToU8('te diep')), 'listed with its hash even though not read');
    const shallow = await extractFromBytes(top, 'top.zip', { ...limits, maxDepth: 1 });
    assert.equal(failedCode(extracted(shallow.children?.[0]).children?.[0]), 'too_deep');
  });
});

describe('images and their pages', () => {
  it('counts the pages of a TIFF by its directories, and stops on a looping chain', () => {
    assert.equal(tiffPageCount(buildTiff(3)), 3);
    assert.equal(tiffPageCount(buildTiff(2, true)), 2);
    assert.equal(imagePageCount(buildTiff(1), 'image/tiff'), 1);
    assert.equal(imagePageCount(buildTiff(4).subarray(0, 30), 'image/tiff'), 2, 'a truncated chain counts what it has');
    assert.equal(imagePageCount(PNG_BYTES, 'image/png'), 1);
  });

  it('gives every top-level image format OCR reads an ocr need, and no text', async () => {
    const bmp = new Uint8Array(58);
    bmp.set([0x42, 0x4d]);
    new DataView(bmp.buffer).setUint32(2, bmp.length, true);
    const webp = strToU8('RIFF\u0000\u0000\u0000\u0000WEBPVP8 ');
    const cases: Array<[string, Uint8Array, number]> = [['a.png', PNG_BYTES, 1], ['b.jpg', JPEG_BYTES, 1], ['c.tif', buildTiff(3), 3], ['d.bmp', bmp, 1], ['e.webp', webp, 1]];
    for (const [name, bytes, pages] of cases) {
      const r = await extractFromBytes(bytes, name, limits);
      assert.equal(r.format, 'image', name);
      assert.equal(r.text, '');
      assert.deepEqual(r.ocr, { pages: Array.from({ length: pages }, (_, i) => i + 1), pageCount: pages }, name);
    }
    const gif = await extractFromBytes(strToU8('GIF89a\u0001\u0000\u0001\u0000'), 'f.gif', limits);
    assert.equal(gif.format, 'image');
    assert.equal(gif.ocr, undefined, 'OCR does not read GIF');
  });
});

describe('children across the extraction pool', () => {
  it('moves an e-mail with its children out of the worker thread intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docsight-containers-'));
    const pool = createExtractionPool(1);
    try {
      const path = join(dir, 'mail.eml');
      writeFileSync(path, zipSync({ 'mail.eml': invoiceEml() }));
      const out = await pool.run({ path, previousSha256: null, limits });
      assert.equal(out.kind, 'extracted');
      const direct = await extractFromBytes(new Uint8Array(readFileSync(path)), 'mail.eml', limits);
      assert.deepEqual(out.kind === 'extracted' ? out.result.children : undefined, direct.children);
      assert.equal(out.kind === 'extracted' ? extracted(extracted(out.result.children?.[0]).children?.[0]).format : '', 'docx');
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

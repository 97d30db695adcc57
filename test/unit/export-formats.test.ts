/** The export writers: CSV cells (RFC 4180, formula injection, BOM) and the streamed XLSX workbook. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { strFromU8, unzipSync } from 'fflate';
import { CSV_BOM, csvCell, csvLine } from '../../src/services/export/csv.ts';
import { columnName, xlsxStream } from '../../src/services/export/xlsx.ts';
import { exportFileName } from '../../src/services/export.service.ts';
import { EXPORT_HEADER, exportCells, exportJson, type ExportRow } from '../../src/services/export/columns.ts';

describe('CSV cells', () => {
  it('prefixes a single quote to text that a spreadsheet would run as a formula', () => {
    assert.equal(csvCell('=1+1'), "'=1+1");
    assert.equal(csvCell('+31 20 123'), "'+31 20 123");
    assert.equal(csvCell('-5'), "'-5");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell('\tcmd'), "'\tcmd");
    assert.equal(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
    assert.equal(csvCell('\r=1'), `"'\r=1"`);
    assert.equal(csvCell('a=1'), 'a=1');
  });

  it('leaves numbers as numbers, also negative ones', () => {
    assert.equal(csvCell(-5), '-5');
    assert.equal(csvCell(1024), '1024');
    assert.equal(csvCell(null), '');
  });

  it('encloses quotes, commas and line breaks, doubling quotes', () => {
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('plain text'), 'plain text');
  });

  it('ends each record with CRLF and starts the file with a UTF-8 BOM', () => {
    assert.equal(csvLine(['a', 1, null, 'b,c']), 'a,1,,"b,c"\r\n');
    assert.deepEqual([...Buffer.from(CSV_BOM, 'utf8')], [0xef, 0xbb, 0xbf]);
  });
});

describe('XLSX workbook', () => {
  async function workbook(rows: (string | number | null)[][][]): Promise<Record<string, string>> {
    async function* batches() {
      for (const b of rows) yield b;
    }
    const chunks: Uint8Array[] = [];
    for await (const c of xlsxStream(['path', 'size'], batches())) chunks.push(c);
    const parts = unzipSync(new Uint8Array(Buffer.concat(chunks)));
    return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, strFromU8(v)]));
  }

  it('is a zip with the parts a spreadsheet needs, and the sheet holds every row', async () => {
    const parts = await workbook([[['a.txt', 10], ['b & <c>.txt', null]], [['=SUM(1)', 3.5]]]);
    for (const p of ['[Content_Types].xml', '_rels/.rels', 'xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/worksheets/sheet1.xml']) {
      assert.ok(parts[p], p);
    }
    const sheet = parts['xl/worksheets/sheet1.xml'] ?? '';
    assert.equal((sheet.match(/<row /g) ?? []).length, 4);
    assert.ok(sheet.includes('<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve">path</t></is></c>'));
    assert.ok(sheet.includes('<c r="B2"><v>10</v></c>'));
    assert.ok(sheet.includes('b &amp; &lt;c&gt;.txt'));
    assert.ok(!sheet.includes('r="B3"'), 'an empty cell is left out');
    assert.ok(sheet.includes('<c r="A4" t="inlineStr"><is><t xml:space="preserve">=SUM(1)</t></is></c><c r="B4"><v>3.5</v></c>'));
    assert.ok(sheet.endsWith('</sheetData></worksheet>'));
  });

  it('records each part\'s CRC-32 and size in the zip\'s directory, as a spreadsheet checks them', async () => {
    async function* batches() {
      for (let b = 0; b < 3; b++) yield Array.from({ length: 500 }, (_, i) => [`row ${b}-${i} & more`, i * b]);
    }
    const chunks: Uint8Array[] = [];
    for await (const c of xlsxStream(['path', 'size'], batches())) chunks.push(c);
    const zip = Buffer.concat(chunks);
    const parts = unzipSync(new Uint8Array(zip));
    // The central directory: one record per part (signature 0x02014b50), CRC and sizes at fixed places.
    const listed: Record<string, { crc: number; size: number }> = {};
    for (let at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0; at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 46)) {
      const name = zip.toString('utf8', at + 46, at + 46 + zip.readUInt16LE(at + 28));
      listed[name] = { crc: zip.readUInt32LE(at + 16), size: zip.readUInt32LE(at + 24) };
    }
    assert.deepEqual(Object.keys(listed).sort(), Object.keys(parts).sort());
    for (const [name, bytes] of Object.entries(parts)) assert.deepEqual(listed[name], { crc: crc32(bytes), size: bytes.length }, name);
  });

  it('drops characters XML cannot hold', async () => {
    const sheet = (await workbook([[['bell\u0007 and \uD800 lone', 1]]]))['xl/worksheets/sheet1.xml'] ?? '';
    assert.ok(sheet.includes('>bell and  lone<'));
  });

  it('names columns as spreadsheets do', () => {
    assert.deepEqual([0, 25, 26, 27, 701, 702].map(columnName), ['A', 'Z', 'AA', 'AB', 'ZZ', 'AAA']);
  });
});

describe('export file names', () => {
  it('keep letters, digits, dots, dashes and underscores only', () => {
    const now = new Date('2026-05-01T12:00:00Z');
    assert.equal(exportFileName('Clients/Jansen & Zn "BV"', 'csv', now), 'docsight-Jansen_Zn_BV-2026-05-01.csv');
    assert.equal(exportFileName('', 'xlsx', now), 'docsight-all-2026-05-01.xlsx');
    assert.equal(exportFileName('Café', 'jsonl', now), 'docsight-Cafe-2026-05-01.jsonl');
  });
});

describe('export columns', () => {
  const row: ExportRow = {
    id: '00000000-0000-4000-8000-000000000001',
    path: 'A/=copy.docx',
    name: '=copy.docx',
    folder: 'A',
    extension: 'docx',
    size: 10,
    modified: new Date('2024-01-01T00:00:00Z'),
    format: 'docx',
    status: 'extracted',
    title: null,
    author: null,
    created: null,
    language: null,
    pages: null,
    words: null,
    origin: 'file',
    parentPath: null,
    textSource: 'text-layer',
    tags: null,
    primaryCategory: null,
    summary: null,
    fields: null,
    personalData: { iban: 2, email: 1 },
    duplicate: { group: 'ab12', kind: 'exact', duplicateOf: '@A/=original.docx', similarity: 1 },
  };
  const cell = (header: string) => exportCells(row)[EXPORT_HEADER.indexOf(header)];

  it('write the duplicate group and a count per kind of personal data (0 when none)', () => {
    assert.deepEqual(
      ['duplicate_group', 'duplicate_kind', 'duplicate_of', 'duplicate_similarity'].map(cell),
      ['ab12', 'exact', '@A/=original.docx', 1],
    );
    assert.deepEqual(
      ['bsn', 'iban', 'card', 'email', 'phone', 'birthdate'].map((k) => cell(`personal_data_${k}`)),
      [0, 2, 0, 1, 0, 0],
    );
    assert.equal(exportJson({ ...row, duplicate: null }).duplicate_group, null);
  });

  it('keep duplicate paths formula-safe in CSV', () => {
    const line = csvLine(exportCells(row));
    assert.ok(line.includes(",ab12,exact,'@A/=original.docx,1,"), line);
    assert.ok(line.startsWith("A/=copy.docx,'=copy.docx,"), line);
  });
});

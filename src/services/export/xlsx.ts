/**
 * A one-sheet XLSX workbook written as a stream: the sheet's XML is deflated into the zip as rows
 * arrive and the compressed bytes are handed on, so a workbook of any length holds one batch of
 * rows at a time. Cells are inline strings and numbers: no shared-string table to hold in memory,
 * and nothing in a cell is ever read as a formula.
 *
 * fflate writes the zip (headers, CRC, sizes); the sheet is deflated by Node's zlib, natively and
 * off the main thread, while the next batch's XML is built: deflating it in JavaScript took longer
 * than building it.
 */
import { once } from 'node:events';
import { crc32, createDeflateRaw, type DeflateRaw } from 'node:zlib';
import { strToU8, Zip, ZipPassThrough } from 'fflate';
import type { Cell } from './csv.ts';

/**
 * A zip entry deflated by zlib. `push` counts the size and CRC of what is pushed (the XML), the
 * CRC by zlib's native crc32 (fflate's own, in JavaScript, took a tenth of an export's time);
 * `process` hands the XML to zlib, whose output goes into the zip as it comes.
 */
class ZlibZipDeflate extends ZipPassThrough {
  readonly deflate: DeflateRaw;
  /** zlib's failure, thrown by the stream at its next step. */
  error: Error | null = null;
  /** The CRC-32 of what was pushed so far. */
  private running = 0;

  constructor(filename: string, level: number) {
    super(filename);
    this.compression = 8;
    this.deflate = createDeflateRaw({ level });
    this.deflate.on('data', (chunk: Buffer<ArrayBuffer>) => this.ondata(null, chunk, false));
    this.deflate.on('end', () => this.ondata(null, new Uint8Array(0), true));
    this.deflate.on('error', (err: Error) => {
      this.error = err;
    });
  }

  override push(chunk: Uint8Array, final = false): void {
    if (!this.ondata) throw new Error('the sheet was pushed before it was added to the zip');
    this.running = crc32(chunk, this.running);
    this.size += chunk.length;
    if (final) this.crc = this.running;
    this.process(chunk, final);
  }

  protected override process(chunk: Uint8Array, final: boolean): void {
    this.deflate.write(chunk);
    if (final) this.deflate.end();
  }
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

const STATIC_PARTS: Record<string, string> = {
  '[Content_Types].xml':
    `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
    '</Types>',
  '_rels/.rels':
    `${XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>' +
    '</Relationships>',
  'xl/_rels/workbook.xml.rels':
    `${XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>' +
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>' +
    '</Relationships>',
  'xl/styles.xml':
    `${XML_HEAD}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>' +
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>' +
    '<borders count="1"><border/></borders>' +
    '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="1"><xf/></cellXfs>' +
    '</styleSheet>',
};

const workbookXml = (sheetName: string) =>
  `${XML_HEAD}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
  'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
  `<sheets><sheet name="${escapeXml(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`;

/** Excel's limit on the characters of one cell. */
const MAX_CELL_CHARS = 32_767;

/** Characters XML 1.0 cannot hold at all (controls other than tab and line breaks, lone surrogates). */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Anything escapeXml would change. */
const XML_SPECIAL = /[&<>"\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/;

function escapeXml(text: string): string {
  if (!XML_SPECIAL.test(text)) return text;
  return text.replace(NOT_XML, '').replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** Column letters of a zero-based index: 0 → A, 26 → AA. */
export function columnName(index: number): string {
  let n = index + 1;
  let name = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    name = String.fromCharCode(65 + r) + name;
    n = Math.floor((n - 1) / 26);
  }
  return name;
}

/** Column letters by index, computed once per column. */
const COLUMN_NAMES: string[] = [];
const columnAt = (i: number) => (COLUMN_NAMES[i] ??= columnName(i));

function rowXml(rowNo: number, cells: readonly Cell[]): string {
  let xml = `<row r="${rowNo}">`;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (cell === null) continue;
    const ref = columnAt(i) + rowNo;
    if (typeof cell === 'number' && Number.isFinite(cell)) xml += `<c r="${ref}"><v>${cell}</v></c>`;
    else xml += `<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">${escapeXml(String(cell).slice(0, MAX_CELL_CHARS))}</t></is></c>`;
  }
  return `${xml}</row>`;
}

/**
 * Deflate level of the sheet. The sheet's XML is repetitive markup: level 3 deflates it about
 * 3.5 times faster than level 6 for about a sixth more bytes (measured on export rows), and at
 * level 6 deflating was most of an XLSX export's CPU (issue 19: 20,000 rows/s or more).
 */
const SHEET_LEVEL = 3;

/**
 * The workbook's bytes: `header` as the first row, then every batch of `batches`. The zip's
 * chunks are yielded after each batch, so the consumer's pace (the reply's backpressure) sets how
 * fast batches are read; a batch waits while zlib still holds more than its buffer of XML.
 */
export async function* xlsxStream(
  header: readonly string[],
  batches: AsyncIterable<readonly (readonly Cell[])[]>,
  sheetName = 'Documents',
  level = SHEET_LEVEL,
): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let failure: Error | null = null;
  let finished = false;
  const zip = new Zip((err, chunk, final) => {
    if (err) failure = err;
    else out.push(chunk);
    if (final) finished = true;
  });
  const sheet = new ZlibZipDeflate('xl/worksheets/sheet1.xml', level);
  const drain = function* () {
    if (failure ?? sheet.error) throw failure ?? sheet.error;
    yield* out.splice(0);
  };
  for (const [name, text] of Object.entries({ ...STATIC_PARTS, 'xl/workbook.xml': workbookXml(sheetName) })) {
    const part = new ZipPassThrough(name);
    zip.add(part);
    part.push(strToU8(text), true);
  }
  zip.add(sheet);
  try {
    sheet.push(Buffer.from(`${XML_HEAD}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rowXml(1, header)}`));
    yield* drain();
    let rowNo = 1;
    for await (const batch of batches) {
      let xml = '';
      for (const cells of batch) xml += rowXml(++rowNo, cells);
      sheet.push(Buffer.from(xml));
      if (sheet.deflate.writableNeedDrain) await once(sheet.deflate, 'drain');
      yield* drain();
    }
    const ended = once(sheet.deflate, 'end');
    sheet.push(Buffer.from('</sheetData></worksheet>'), true);
    await ended;
    zip.end();
    if (!finished) throw new Error('the workbook did not end');
    yield* drain();
  } finally {
    // A consumer that stops early (a closed connection) leaves no zlib stream behind.
    sheet.deflate.destroy();
  }
}

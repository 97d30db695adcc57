/**
 * Generated documents for the extraction tests and benchmark: every format we read, and the
 * hostile files we must refuse. Built from hand-written XML with fflate's zipSync so each test
 * controls exactly which parts exist (no real-world files are copied into the repo).
 */
import { zipSync, strToU8, type Zippable } from 'fflate';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const REL_TYPE = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface CoreProps {
  title?: string;
  subject?: string;
  creator?: string;
  keywords?: string;
  description?: string;
  lastModifiedBy?: string;
  revision?: string;
  created?: string;
  modified?: string;
  category?: string;
  contentStatus?: string;
  language?: string;
}

export function coreXml(p: CoreProps, prefixes = { cp: 'cp', dc: 'dc', dcterms: 'dcterms' }): string {
  const { cp, dc, dcterms } = prefixes;
  const el = (prefix: string, name: string, v: string | undefined, attrs = '') =>
    v === undefined ? '' : `<${prefix}:${name}${attrs}>${escapeXml(v)}</${prefix}:${name}>`;
  const w3c = ' xsi:type="dcterms:W3CDTF"';
  return `${XML_DECL}<${cp}:coreProperties xmlns:${cp}="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:${dc}="http://purl.org/dc/elements/1.1/" xmlns:${dcterms}="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${el(dc, 'title', p.title)}${el(dc, 'subject', p.subject)}${el(dc, 'creator', p.creator)}${el(cp, 'keywords', p.keywords)}${el(dc, 'description', p.description)}${el(cp, 'lastModifiedBy', p.lastModifiedBy)}${el(cp, 'revision', p.revision)}${el(dcterms, 'created', p.created, w3c)}${el(dcterms, 'modified', p.modified, w3c)}${el(cp, 'category', p.category)}${el(cp, 'contentStatus', p.contentStatus)}${el(dc, 'language', p.language)}</${cp}:coreProperties>`;
}

export interface AppProps {
  application?: string;
  appVersion?: string;
  template?: string;
  company?: string;
  manager?: string;
  pages?: number;
  words?: number;
  characters?: number;
  totalTime?: number;
  docSecurity?: number;
}

export function appXml(p: AppProps): string {
  const el = (name: string, v: string | number | undefined) => (v === undefined ? '' : `<${name}>${escapeXml(String(v))}</${name}>`);
  return `${XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">${el('Template', p.template)}${el('TotalTime', p.totalTime)}${el('Pages', p.pages)}${el('Words', p.words)}${el('Characters', p.characters)}${el('Application', p.application)}${el('DocSecurity', p.docSecurity)}<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Title</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector></HeadingPairs>${el('Manager', p.manager)}${el('Company', p.company)}${el('AppVersion', p.appVersion)}</Properties>`;
}

export type CustomValue = { type: 'lpwstr' | 'i4' | 'r8' | 'bool' | 'filetime'; value: string };

export function customXml(props: Record<string, CustomValue>): string {
  let pid = 2;
  const items = Object.entries(props)
    .map(([name, v]) => `<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="${pid++}" name="${escapeXml(name)}"><vt:${v.type}>${escapeXml(v.value)}</vt:${v.type}></property>`)
    .join('');
  return `${XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">${items}</Properties>`;
}

function relsXml(rels: Array<{ id: string; type: string; target: string; external?: boolean }>): string {
  return `${XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels
    .map((r) => `<Relationship Id="${r.id}" Type="${r.type}" Target="${escapeXml(r.target)}"${r.external ? ' TargetMode="External"' : ''}/>`)
    .join('')}</Relationships>`;
}

function contentTypes(overrides: Record<string, string>): string {
  return `${XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>${Object.entries(
    overrides,
  )
    .map(([part, ct]) => `<Override PartName="/${part}" ContentType="${ct}"/>`)
    .join('')}</Types>`;
}

/** A Word paragraph; `\t` becomes w:tab. */
export function wParagraph(text: string, prefix = 'w'): string {
  const runs = text
    .split('\t')
    .map((t, i) => `${i > 0 ? `<${prefix}:tab/>` : ''}<${prefix}:t xml:space="preserve">${escapeXml(t)}</${prefix}:t>`)
    .join('');
  return `<${prefix}:p><${prefix}:pPr><${prefix}:tabs><${prefix}:tab ${prefix}:val="left" ${prefix}:pos="720"/></${prefix}:tabs></${prefix}:pPr><${prefix}:r w:rsidR="00AB12CD">${runs}</${prefix}:r></${prefix}:p>`;
}

export function wTable(rows: string[][]): string {
  return `<w:tbl><w:tblPr/>${rows.map((r) => `<w:tr>${r.map((c) => `<w:tc>${wParagraph(c)}</w:tc>`).join('')}</w:tr>`).join('')}</w:tbl>`;
}

export interface DocxSpec {
  paragraphs?: string[];
  /** Raw XML appended to the body (tables, tracked changes, text boxes ...). */
  bodyXml?: string;
  core?: CoreProps | null;
  app?: AppProps | null;
  custom?: Record<string, CustomValue>;
  mainPart?: string;
  headers?: string[];
  footers?: string[];
  footnotes?: string[];
  comments?: string[];
  altChunkHtml?: string;
  /** Strict OOXML namespaces and relationship types. */
  strict?: boolean;
  macros?: boolean;
  template?: boolean;
  /** Replaces the main part's XML entirely (hostile tests). */
  rawMainXml?: string;
  extraFiles?: Record<string, Uint8Array>;
}

export function buildDocx(spec: DocxSpec = {}): Uint8Array {
  const relBase = spec.strict ? 'http://purl.oclc.org/ooxml/officeDocument/relationships' : REL_TYPE;
  const wNs = spec.strict ? 'http://purl.oclc.org/ooxml/wordprocessingml/main' : W;
  const main = spec.mainPart ?? 'word/document.xml';
  const dir = main.slice(0, main.lastIndexOf('/'));
  const mainName = main.slice(main.lastIndexOf('/') + 1);
  const files: Zippable = {};
  const pkgRels: Array<{ id: string; type: string; target: string }> = [{ id: 'rId1', type: `${relBase}/officeDocument`, target: main }];
  const mainRels: Array<{ id: string; type: string; target: string }> = [];
  const overrides: Record<string, string> = {};
  const mainCt = spec.macros
    ? 'application/vnd.ms-word.document.macroEnabled.main+xml'
    : spec.template
      ? 'application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml'
      : 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml';
  overrides[main] = mainCt;
  if (spec.core !== null) {
    files['docProps/core.xml'] = strToU8(coreXml(spec.core ?? { title: 'Untitled' }));
    pkgRels.push({ id: 'rId2', type: 'http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties', target: 'docProps/core.xml' });
  }
  if (spec.app !== null) {
    files['docProps/app.xml'] = strToU8(appXml(spec.app ?? { application: 'Microsoft Office Word' }));
    pkgRels.push({ id: 'rId3', type: spec.strict ? `${relBase}/extendedProperties` : `${relBase}/extended-properties`, target: 'docProps/app.xml' });
  }
  if (spec.custom) {
    files['docProps/custom.xml'] = strToU8(customXml(spec.custom));
    pkgRels.push({ id: 'rId4', type: `${relBase}/custom-properties`, target: 'docProps/custom.xml' });
  }
  let n = 10;
  const side = (kind: string, root: string, item: string, texts: string[] | undefined) => {
    if (!texts?.length) return;
    texts.forEach((t, i) => {
      const single = kind === 'header' || kind === 'footer';
      const part = single ? `${kind}${i + 1}.xml` : `${kind}.xml`;
      if (!single && i > 0) return;
      const body = single
        ? wParagraph(t)
        : texts.map((x, j) => `<w:${item} w:id="${j + 1}"${item === 'comment' ? ' w:author="Reviewer"' : ''}>${wParagraph(x)}</w:${item}>`).join('');
      files[`${dir}/${part}`] = strToU8(`${XML_DECL}<w:${root} xmlns:w="${wNs}">${body}</w:${root}>`);
      mainRels.push({ id: `rId${n++}`, type: `${relBase}/${kind}`, target: part });
    });
  };
  side('header', 'hdr', '', spec.headers);
  side('footer', 'ftr', '', spec.footers);
  side('footnotes', 'footnotes', 'footnote', spec.footnotes);
  side('comments', 'comments', 'comment', spec.comments);
  let altChunk = '';
  if (spec.altChunkHtml !== undefined) {
    files[`${dir}/afchunk.htm`] = strToU8(spec.altChunkHtml);
    mainRels.push({ id: 'rIdAlt', type: `${relBase}/aFChunk`, target: 'afchunk.htm' });
    altChunk = '<w:altChunk r:id="rIdAlt"/>';
  }
  if (spec.macros) files[`${dir}/vbaProject.bin`] = new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 1, 2, 3]);
  const body = (spec.paragraphs ?? []).map((p) => wParagraph(p)).join('') + (spec.bodyXml ?? '') + altChunk;
  files[main] = strToU8(
    spec.rawMainXml ??
      `${XML_DECL}<w:document xmlns:w="${wNs}" xmlns:r="${R}"><w:body>${body}<w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr></w:body></w:document>`,
  );
  files['_rels/.rels'] = strToU8(relsXml(pkgRels));
  if (mainRels.length) files[`${dir}/_rels/${mainName}.rels`] = strToU8(relsXml(mainRels));
  files['[Content_Types].xml'] = strToU8(contentTypes(overrides));
  for (const [k, v] of Object.entries(spec.extraFiles ?? {})) files[k] = v;
  return zipSync(files);
}

export function buildXlsx(sheets: Record<string, string[]>, core: CoreProps = {}, macros = false): Uint8Array {
  const names = Object.keys(sheets);
  const all = names.flatMap((n) => sheets[n] ?? []);
  const files: Zippable = {
    '[Content_Types].xml': strToU8(contentTypes({ 'xl/workbook.xml': macros ? 'application/vnd.ms-excel.sheet.macroEnabled.main+xml' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml' })),
    '_rels/.rels': strToU8(relsXml([
      { id: 'rId1', type: `${REL_TYPE}/officeDocument`, target: 'xl/workbook.xml' },
      { id: 'rId2', type: 'http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties', target: 'docProps/core.xml' },
    ])),
    'docProps/core.xml': strToU8(coreXml(core)),
    'xl/workbook.xml': strToU8(`${XML_DECL}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${R}"><sheets>${names.map((n, i) => `<sheet name="${escapeXml(n)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('')}</sheets></workbook>`),
    'xl/_rels/workbook.xml.rels': strToU8(relsXml([
      ...names.map((_, i) => ({ id: `rId${i + 1}`, type: `${REL_TYPE}/worksheet`, target: `worksheets/sheet${i + 1}.xml` })),
      { id: 'rIdS', type: `${REL_TYPE}/sharedStrings`, target: 'sharedStrings.xml' },
    ])),
    'xl/sharedStrings.xml': strToU8(`${XML_DECL}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${all.length}" uniqueCount="${all.length}">${all.map((s) => `<si><t>${escapeXml(s)}</t></si>`).join('')}</sst>`),
  };
  let idx = 0;
  names.forEach((n, i) => {
    const cells = (sheets[n] ?? []).map((_, r) => `<row r="${r + 1}"><c r="A${r + 1}" t="s"><v>${idx++}</v></c></row>`).join('');
    files[`xl/worksheets/sheet${i + 1}.xml`] = strToU8(`${XML_DECL}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${cells}</sheetData></worksheet>`);
  });
  if (macros) files['xl/vbaProject.bin'] = new Uint8Array([1, 2, 3]);
  return zipSync(files);
}

export function buildPptx(slides: Array<{ text: string[]; notes?: string }>, core: CoreProps = {}): Uint8Array {
  const A = 'http://schemas.openxmlformats.org/drawingml/2006/main';
  const P = 'http://schemas.openxmlformats.org/presentationml/2006/main';
  const files: Zippable = {
    '[Content_Types].xml': strToU8(contentTypes({ 'ppt/presentation.xml': 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml' })),
    '_rels/.rels': strToU8(relsXml([
      { id: 'rId1', type: `${REL_TYPE}/officeDocument`, target: 'ppt/presentation.xml' },
      { id: 'rId2', type: 'http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties', target: 'docProps/core.xml' },
    ])),
    'docProps/core.xml': strToU8(coreXml(core)),
    // Slide ids deliberately out of part-name order: order must follow sldIdLst.
    'ppt/presentation.xml': strToU8(`${XML_DECL}<p:presentation xmlns:p="${P}" xmlns:r="${R}"><p:sldIdLst>${slides.map((_, i) => `<p:sldId id="${256 + i}" r:id="rId${i + 1}"/>`).join('')}</p:sldIdLst></p:presentation>`),
    'ppt/_rels/presentation.xml.rels': strToU8(relsXml(slides.map((_, i) => ({ id: `rId${i + 1}`, type: `${REL_TYPE}/slide`, target: `slides/slide${slides.length - i}.xml` })))),
  };
  const shape = (paras: string[]) => `<p:sp><p:txBody>${paras.map((t) => `<a:p><a:r><a:t>${escapeXml(t)}</a:t></a:r></a:p>`).join('')}</p:txBody></p:sp>`;
  slides.forEach((s, i) => {
    const part = `slide${slides.length - i}.xml`;
    files[`ppt/slides/${part}`] = strToU8(`${XML_DECL}<p:sld xmlns:p="${P}" xmlns:a="${A}"><p:cSld><p:spTree>${shape(s.text)}</p:spTree></p:cSld></p:sld>`);
    if (s.notes) {
      files[`ppt/notesSlides/notesSlide${i + 1}.xml`] = strToU8(`${XML_DECL}<p:notes xmlns:p="${P}" xmlns:a="${A}"><p:cSld><p:spTree><p:sp><p:nvSpPr><p:nvPr><p:ph type="sldNum"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>${i + 1}</a:t></a:r></a:p></p:txBody></p:sp>${shape([s.notes])}</p:spTree></p:cSld></p:notes>`);
      files[`ppt/slides/_rels/${part}.rels`] = strToU8(relsXml([{ id: 'rId1', type: `${REL_TYPE}/notesSlide`, target: `../notesSlides/notesSlide${i + 1}.xml` }]));
    }
  });
  return zipSync(files);
}

export function buildOdf(kind: 'text' | 'spreadsheet' | 'presentation', body: string, meta: { title?: string; creator?: string; initialCreator?: string; keywords?: string[]; userDefined?: Record<string, string> } = {}): Uint8Array {
  const m = `${XML_DECL}<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><meta:generator>LibreOffice/24.8</meta:generator>${meta.title ? `<dc:title>${escapeXml(meta.title)}</dc:title>` : ''}${meta.initialCreator ? `<meta:initial-creator>${escapeXml(meta.initialCreator)}</meta:initial-creator>` : ''}${meta.creator ? `<dc:creator>${escapeXml(meta.creator)}</dc:creator>` : ''}${(meta.keywords ?? []).map((k) => `<meta:keyword>${escapeXml(k)}</meta:keyword>`).join('')}<meta:creation-date>2024-03-01T10:00:00</meta:creation-date><meta:editing-duration>PT1H5M0S</meta:editing-duration><meta:document-statistic meta:page-count="2" meta:word-count="42" meta:character-count="250"/>${Object.entries(meta.userDefined ?? {}).map(([k, v]) => `<meta:user-defined meta:name="${escapeXml(k)}">${escapeXml(v)}</meta:user-defined>`).join('')}</office:meta></office:document-meta>`;
  const content = `${XML_DECL}<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"><office:body><office:${kind}>${body}</office:${kind}></office:body></office:document-content>`;
  return zipSync({
    mimetype: [strToU8(`application/vnd.oasis.opendocument.${kind}`), { level: 0 }],
    'meta.xml': strToU8(m),
    'content.xml': strToU8(content),
  });
}

/** A minimal PDF with an Info dictionary and one page per string (pdf.js rebuilds the xref). */
export function buildPdf(pages: string[], info: Record<string, string> = {}): Uint8Array {
  const objs: string[] = [];
  const kids = pages.map((_, i) => `${4 + i * 2} 0 R`).join(' ');
  objs.push('<< /Type /Catalog /Pages 2 0 R >>');
  objs.push(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  objs.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  pages.forEach((text, i) => {
    objs.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + i * 2} 0 R >>`);
    const stream = `BT /F1 12 Tf 72 720 Td (${text.replace(/[()\\]/g, (c) => `\\${c}`)}) Tj ET`;
    objs.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  });
  const infoEntries = Object.entries(info).map(([k, v]) => `/${k} (${v.replace(/[()\\]/g, (c) => `\\${c}`)})`).join(' ');
  objs.push(`<< ${infoEntries} >>`);
  let out = '%PDF-1.7\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R /Info ${objs.length} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}

/**
 * A minimal OLE compound file (512-byte sectors, no mini stream: every stream is padded to
 * 4096 bytes so it lives in regular sectors).
 */
export function buildOle(streams: Record<string, Uint8Array>): Uint8Array {
  const SECTOR = 512;
  const entries = Object.entries(streams).map(([name, data]) => {
    const padded = new Uint8Array(Math.max(4096, Math.ceil(data.length / SECTOR) * SECTOR));
    padded.set(data);
    return { name, data: padded, size: Math.max(4096, data.length) };
  });
  const dirSectors = Math.ceil(((entries.length + 1) * 128) / SECTOR);
  const streamSectors = entries.reduce((n, e) => n + e.data.length / SECTOR, 0);
  const fatSectors = Math.ceil((dirSectors + streamSectors + 1) / (SECTOR / 4)) ;
  const total = fatSectors + dirSectors + streamSectors;
  const fat = new Uint32Array(fatSectors * (SECTOR / 4)).fill(0xffffffff);
  for (let i = 0; i < fatSectors; i++) fat[i] = 0xfffffffd;
  let s = fatSectors;
  const dirStart = s;
  for (let i = 0; i < dirSectors; i++, s++) fat[s] = i === dirSectors - 1 ? 0xfffffffe : s + 1;
  const starts: number[] = [];
  for (const e of entries) {
    starts.push(s);
    const n = e.data.length / SECTOR;
    for (let i = 0; i < n; i++, s++) fat[s] = i === n - 1 ? 0xfffffffe : s + 1;
  }
  const out = new Uint8Array(SECTOR * (1 + total));
  const v = new DataView(out.buffer);
  out.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
  v.setUint16(0x18, 0x3e, true);
  v.setUint16(0x1a, 3, true);
  v.setUint16(0x1c, 0xfffe, true);
  v.setUint16(0x1e, 9, true);
  v.setUint16(0x20, 6, true);
  v.setUint32(0x2c, fatSectors, true);
  v.setUint32(0x30, dirStart, true);
  v.setUint32(0x38, 4096, true);
  v.setUint32(0x3c, 0xfffffffe, true);
  v.setUint32(0x44, 0xfffffffe, true);
  for (let i = 0; i < 109; i++) v.setUint32(0x4c + i * 4, i < fatSectors ? i : 0xffffffff, true);
  const fatBytes = new Uint8Array(fat.buffer);
  out.set(fatBytes, SECTOR);
  const dirOff = SECTOR * (1 + dirStart);
  const writeEntry = (i: number, name: string, type: number, start: number, size: number, child: number, right: number) => {
    const off = dirOff + i * 128;
    for (let c = 0; c < name.length; c++) v.setUint16(off + c * 2, name.charCodeAt(c), true);
    v.setUint16(off + 64, (name.length + 1) * 2, true);
    out[off + 66] = type;
    out[off + 67] = 1;
    v.setUint32(off + 68, 0xffffffff, true);
    v.setUint32(off + 72, right, true);
    v.setUint32(off + 76, child, true);
    v.setUint32(off + 116, start, true);
    v.setUint32(off + 120, size, true);
  };
  writeEntry(0, 'Root Entry', 5, 0xfffffffe, 0, entries.length ? 1 : 0xffffffff, 0xffffffff);
  entries.forEach((e, i) => {
    writeEntry(i + 1, e.name, 2, starts[i] ?? 0, e.size, 0xffffffff, i + 2 <= entries.length ? i + 2 : 0xffffffff);
    out.set(e.data, SECTOR * (1 + (starts[i] ?? 0)));
  });
  return out;
}

/** A SummaryInformation property set with string properties (ids: 2 title, 4 author, ...). */
export function buildSummaryInformation(props: Record<number, string>): Uint8Array {
  const ids = Object.keys(props).map(Number);
  const values = ids.map((id) => {
    const text = new TextEncoder().encode(`${props[id] ?? ''}\0`);
    const len = Math.ceil(text.length / 4) * 4;
    const b = new Uint8Array(8 + len);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 30, true);
    dv.setUint32(4, text.length, true);
    b.set(text, 8);
    return b;
  });
  const cp = new Uint8Array(8);
  new DataView(cp.buffer).setUint32(0, 2, true);
  new DataView(cp.buffer).setUint16(4, 65001, true);
  const all = [cp, ...values];
  const headerLen = 8 + all.length * 8;
  const sectionLen = headerLen + all.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(48 + sectionLen);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xfffe, true);
  v.setUint32(24, 1, true);
  v.setUint32(44, 48, true);
  v.setUint32(48, sectionLen, true);
  v.setUint32(52, all.length, true);
  let off = headerLen;
  [1, ...ids].forEach((id, i) => {
    v.setUint32(56 + i * 8, id, true);
    v.setUint32(60 + i * 8, off, true);
    out.set(all[i] ?? new Uint8Array(0), 48 + off);
    off += all[i]?.length ?? 0;
  });
  return out;
}

export const JPEG_BYTES = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9]);

/** Deterministic pseudo-random bytes (tests must be repeatable). */
export function randomBytes(n: number, seed = 42): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Generated .docx files for tests and benchmarks: real OOXML packages (content types,
 * relationships, core and app properties, body with paragraphs and a table), built with fflate
 * so that thousands can be written per second. `makeWordDocx` uses the `docx` library instead,
 * for a package shaped the way a real producer writes it.
 */
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Document, Packer, Paragraph, TextRun } from 'docx';
import { strToU8, zipSync } from 'fflate';

export interface DocxSpec {
  title?: string;
  subject?: string;
  creator?: string;
  keywords?: string;
  description?: string;
  lastModifiedBy?: string;
  revision?: number;
  created?: Date;
  modified?: Date;
  application?: string;
  company?: string;
  pages?: number;
  paragraphs: string[];
  /** Rows of cells for one table after the paragraphs. */
  table?: string[][];
  /** Bytes of style definitions (Word writes ~20-30 KB of them, compressing to a few KB). */
  stylesBytes?: number;
  /** Bytes of an embedded picture (stored, not parsed): a logo, as many business letters have. */
  imageBytes?: number;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

export function buildDocx(spec: DocxSpec): Uint8Array {
  const body = spec.paragraphs.map((p) => `<w:p><w:r><w:t xml:space="preserve">${esc(p)}</w:t></w:r></w:p>`).join('');
  const table = spec.table
    ? `<w:tbl>${spec.table
        .map((row) => `<w:tr>${row.map((c) => `<w:tc><w:p><w:r><w:t>${esc(c)}</w:t></w:r></w:p></w:tc>`).join('')}</w:tr>`)
        .join('')}</w:tbl>`
    : '';
  const words = spec.paragraphs.join(' ').split(/\s+/).filter(Boolean).length;
  const chars = spec.paragraphs.join('').length;
  const core = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${
    spec.title !== undefined ? `<dc:title>${esc(spec.title)}</dc:title>` : ''
  }${spec.subject !== undefined ? `<dc:subject>${esc(spec.subject)}</dc:subject>` : ''}${
    spec.creator !== undefined ? `<dc:creator>${esc(spec.creator)}</dc:creator>` : ''
  }${spec.keywords !== undefined ? `<cp:keywords>${esc(spec.keywords)}</cp:keywords>` : ''}${
    spec.description !== undefined ? `<dc:description>${esc(spec.description)}</dc:description>` : ''
  }${spec.lastModifiedBy !== undefined ? `<cp:lastModifiedBy>${esc(spec.lastModifiedBy)}</cp:lastModifiedBy>` : ''}${
    spec.revision !== undefined ? `<cp:revision>${spec.revision}</cp:revision>` : ''
  }${spec.created ? `<dcterms:created xsi:type="dcterms:W3CDTF">${iso(spec.created)}</dcterms:created>` : ''}${
    spec.modified ? `<dcterms:modified xsi:type="dcterms:W3CDTF">${iso(spec.modified)}</dcterms:modified>` : ''
  }</cp:coreProperties>`;
  const app = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Template>Normal.dotm</Template><TotalTime>12</TotalTime><Pages>${
    spec.pages ?? Math.max(1, Math.ceil(words / 450))
  }</Pages><Words>${words}</Words><Characters>${chars}</Characters><Application>${esc(
    spec.application ?? 'Microsoft Office Word',
  )}</Application><Lines>${Math.ceil(chars / 80)}</Lines><Paragraphs>${spec.paragraphs.length}</Paragraphs>${
    spec.company ? `<Company>${esc(spec.company)}</Company>` : ''
  }<AppVersion>16.0000</AppVersion></Properties>`;
  const styleUnit =
    '<w:style w:type="paragraph" w:styleId="Heading"><w:name w:val="heading"/><w:basedOn w:val="Normal"/><w:rPr><w:rFonts w:ascii="Calibri"/><w:sz w:val="28"/></w:rPr></w:style>';
  const styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">${styleUnit.repeat(
    Math.ceil((spec.stylesBytes ?? 0) / styleUnit.length),
  )}</w:styles>`;
  const files: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {
    '[Content_Types].xml': strToU8(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>',
    ),
    '_rels/.rels': strToU8(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    ),
    'word/_rels/document.xml.rels': strToU8(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
    ),
    'word/document.xml': strToU8(
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}${table}<w:sectPr/></w:body></w:document>`,
    ),
    'word/styles.xml': strToU8(styles),
    'docProps/core.xml': strToU8(core),
    'docProps/app.xml': strToU8(app),
  };
  if (spec.imageBytes) {
    const img = new Uint8Array(spec.imageBytes);
    const rand = seeded(spec.imageBytes);
    for (let i = 0; i < img.length; i++) img[i] = Math.floor(rand() * 256);
    files['word/media/image1.png'] = [img, { level: 0 }];
  }
  return zipSync(files, { level: 6 });
}

/** A .docx written by the `docx` library (the shape real producers write). */
export async function makeWordDocx(spec: Pick<DocxSpec, 'title' | 'creator' | 'subject' | 'keywords' | 'description' | 'lastModifiedBy' | 'revision' | 'paragraphs'>): Promise<Buffer> {
  const doc = new Document({
    title: spec.title,
    creator: spec.creator,
    subject: spec.subject,
    keywords: spec.keywords,
    description: spec.description,
    lastModifiedBy: spec.lastModifiedBy,
    revision: spec.revision,
    sections: [{ children: spec.paragraphs.map((p) => new Paragraph({ children: [new TextRun(p)] })) }],
  });
  return Packer.toBuffer(doc);
}

const WORDS_EN =
  'project report meeting budget risk analysis contract supplier quarterly review policy compliance procurement decision client proposal timeline delivery invoice strategy training'.split(
    ' ',
  );
const WORDS_NL =
  'project rapport vergadering begroting risico analyse contract leverancier kwartaal beoordeling beleid aanbesteding besluit klant voorstel planning levering factuur strategie opleiding gemeente'.split(
    ' ',
  );

const GLUE_EN = 'the of and to for with on is in that this are by from'.split(' ');
const GLUE_NL = 'de het van en voor met op is in dat een zijn door aan'.split(' ');

/** A deterministic pseudo-random generator, so generated folders are the same on every run. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export interface GeneratedDoc {
  rel: string;
  title: string;
  creator: string;
  modified: Date;
  language: 'en' | 'nl';
}

export const AUTHORS = ['Sanne de Vries', 'Jan Jansen', 'Emma Bakker', 'Lucas Visser', 'Olivia Smith', 'Noah Williams'];

/**
 * Write `count` .docx files of about `targetKb` KB across client/project folders under `root`,
 * each with its own title, author and dates. Returns what was written, for assertions.
 */
export async function generateDocxFolder(
  root: string,
  count: number,
  opts: { seed?: number; targetKb?: number; companies?: number; projectsPerCompany?: number } = {},
): Promise<GeneratedDoc[]> {
  const rand = seeded(opts.seed ?? 42);
  const companies = opts.companies ?? 3;
  const projects = opts.projectsPerCompany ?? 2;
  const targetKb = opts.targetKb ?? 40;
  const out: GeneratedDoc[] = [];
  for (let i = 0; i < count; i++) {
    const company = `Company ${String.fromCharCode(65 + (i % companies))}`;
    const project = `Project ${1 + (Math.floor(i / companies) % projects)}`;
    const language = rand() < 0.5 ? 'nl' : 'en';
    const vocab = language === 'nl' ? WORDS_NL : WORDS_EN;
    const glue = language === 'nl' ? GLUE_NL : GLUE_EN;
    // Content words joined by the function words running text is made of, as in a real letter.
    const sentence = () =>
      Array.from({ length: 12 }, (_, k) => (k % 2 === 1 ? glue : vocab)[Math.floor(rand() * (k % 2 === 1 ? glue : vocab).length)]).join(' ') + '.';
    const paragraphs = Array.from({ length: 30 }, () => Array.from({ length: 4 }, sentence).join(' '));
    const creator = AUTHORS[i % AUTHORS.length] as string;
    const modified = new Date(Date.UTC(2019 + (i % 6), i % 12, 1 + (i % 27), 9, 30));
    const title = `${language === 'nl' ? 'Rapport' : 'Report'} ${i + 1}`;
    const bytes = buildDocx({
      title,
      creator,
      lastModifiedBy: AUTHORS[(i + 1) % AUTHORS.length],
      subject: `${company} ${project}`,
      keywords: vocab.slice(0, 3).join(', '),
      revision: 1 + (i % 9),
      created: new Date(modified.getTime() - 86_400_000 * 30),
      modified,
      company,
      paragraphs,
      table: [
        ['Item', 'Amount'],
        ['A', String(i)],
      ],
      stylesBytes: 20_000,
      imageBytes: Math.max(0, targetKb * 1024 - 6_000),
    });
    const rel = `${company}/${project}/${title}.docx`;
    const abs = path.join(root, rel);
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, bytes);
    await utimes(abs, modified, modified);
    out.push({ rel, title, creator, modified, language });
  }
  return out;
}

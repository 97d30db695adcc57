/**
 * Extraction benchmark: generates a corpus (≥2,000 typical ~40 KB .docx plus a mix of other
 * formats) under ./data/bench-extract, then measures in one process, per format:
 *   floor: read each file and inflate the parts the extractor needs (no parsing),
 *   full:  read each file and run detectFormat + extractFromBytes,
 * printing docs/s, MB/s and peak RSS. Usage: npm run bench:extract [-- --docx 2000]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { DEFAULT_EXTRACT_LIMITS, extractFromBytes } from '../src/extract/index.ts';
import { buildDocx, buildOdf, buildPdf, buildPptx, buildXlsx, randomBytes, wTable, escapeXml } from '../test/support/extract-fixtures.ts';
import { machine, rssSampler, table } from './support.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const COUNTS: Record<string, number> = {
  docx: arg('docx', 2000),
  xlsx: arg('xlsx', 200),
  pptx: arg('pptx', 200),
  odt: arg('odt', 200),
  pdf: arg('pdf', 100),
  txt: arg('txt', 200),
  html: arg('html', 100),
  rtf: arg('rtf', 100),
};
const dir = resolve(import.meta.dirname, '../data/bench-extract');

const WORDS = (
  'the report project client budget review quarter contract policy meeting revenue invoice risk team market strategy ' +
  'customer delivery schedule approval legal compliance audit data security training product release support service ' +
  'agreement proposal analysis summary objective result performance cost growth plan milestone deadline update status ' +
  'de het een van en rapport klant offerte factuur vergadering planning budget überprüfung vertrag kunden projekt'
).split(' ');

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function sentence(rnd: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(rnd() * WORDS.length)] ?? 'x');
  const s = out.join(' ');
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;
}

function generate(): void {
  const marker = join(dir, `.generated-${JSON.stringify(COUNTS).replace(/\W/g, '')}`);
  if (existsSync(marker)) return;
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  for (let i = 0; i < (COUNTS.docx ?? 0); i++) {
    const rnd = prng(i + 1);
    const paragraphs = Array.from({ length: 50 + Math.floor(rnd() * 40) }, () => sentence(rnd, 15 + Math.floor(rnd() * 40)));
    const runs = paragraphs.map((p) => {
      // Real Word output splits paragraphs into several runs with properties and rsids.
      const cut = p.indexOf(' ', Math.floor(p.length / 2));
      const r = (t: string, b: boolean) => `<w:r w:rsidRPr="00${(i % 97).toString(16)}A1B2C"><w:rPr>${b ? '<w:b/>' : ''}<w:lang w:val="en-US"/></w:rPr><w:t xml:space="preserve">${escapeXml(t)}</w:t></w:r>`;
      return `<w:p w:rsidR="00AB12CD" w:rsidRDefault="00AB12CD"><w:pPr><w:spacing w:after="120"/></w:pPr>${r(p.slice(0, cut), false)}${r(p.slice(cut), rnd() < 0.3)}</w:p>`;
    });
    const bytes = buildDocx({
      bodyXml: runs.join('') + wTable([[sentence(rnd, 3), sentence(rnd, 4)], [sentence(rnd, 2), sentence(rnd, 5)]]),
      core: { title: sentence(rnd, 4), creator: `Author ${i % 37}`, lastModifiedBy: `Editor ${i % 11}`, created: '2023-01-02T03:04:05Z', modified: '2024-05-06T07:08:09Z', revision: String(1 + (i % 20)), keywords: sentence(rnd, 3) },
      app: { application: 'Microsoft Office Word', appVersion: '16.0000', company: `Company ${i % 13}`, pages: 2, words: 900 },
      custom: { Client: { type: 'lpwstr', value: `Client ${i % 50}` }, Amount: { type: 'r8', value: String(i * 1.5) } },
      headers: [`Header ${i}`],
      footers: ['Confidential'],
      // An embedded picture makes the package look like real ones (media is never inflated).
      extraFiles: { 'word/media/image1.png': randomBytes(28000 + Math.floor(rnd() * 8000), i + 7) },
    });
    writeFileSync(join(dir, `doc-${i}.docx`), bytes);
  }
  for (let i = 0; i < (COUNTS.xlsx ?? 0); i++) {
    const rnd = prng(10_000 + i);
    writeFileSync(join(dir, `sheet-${i}.xlsx`), buildXlsx({ Data: Array.from({ length: 300 }, () => sentence(rnd, 3)), Summary: [sentence(rnd, 6)] }, { title: `Sheet ${i}` }));
  }
  for (let i = 0; i < (COUNTS.pptx ?? 0); i++) {
    const rnd = prng(20_000 + i);
    writeFileSync(join(dir, `deck-${i}.pptx`), buildPptx(Array.from({ length: 12 }, () => ({ text: [sentence(rnd, 5), sentence(rnd, 20), sentence(rnd, 20)], notes: sentence(rnd, 15) }))));
  }
  for (let i = 0; i < (COUNTS.odt ?? 0); i++) {
    const rnd = prng(30_000 + i);
    writeFileSync(join(dir, `text-${i}.odt`), buildOdf('text', Array.from({ length: 60 }, () => `<text:p>${escapeXml(sentence(rnd, 30))}</text:p>`).join(''), { title: `Odt ${i}`, creator: 'Bench' }));
  }
  for (let i = 0; i < (COUNTS.pdf ?? 0); i++) {
    const rnd = prng(40_000 + i);
    writeFileSync(join(dir, `file-${i}.pdf`), buildPdf(Array.from({ length: 5 }, () => sentence(rnd, 12)), { Title: `Pdf ${i}`, Author: 'Bench' }));
  }
  for (let i = 0; i < (COUNTS.txt ?? 0); i++) {
    const rnd = prng(50_000 + i);
    writeFileSync(join(dir, `note-${i}.txt`), Array.from({ length: 80 }, () => sentence(rnd, 25)).join('\n'));
  }
  for (let i = 0; i < (COUNTS.html ?? 0); i++) {
    const rnd = prng(60_000 + i);
    writeFileSync(join(dir, `page-${i}.html`), `<!DOCTYPE html><html><head><title>Page ${i}</title></head><body>${Array.from({ length: 60 }, () => `<p>${sentence(rnd, 25)}</p>`).join('')}</body></html>`);
  }
  for (let i = 0; i < (COUNTS.rtf ?? 0); i++) {
    const rnd = prng(70_000 + i);
    writeFileSync(join(dir, `memo-${i}.rtf`), `{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}{\\info{\\title Memo ${i}}}${Array.from({ length: 60 }, () => `${sentence(rnd, 25)}\\par `).join('')}}`);
  }
  writeFileSync(marker, '');
  console.log(`generated corpus in ${Math.round(performance.now() - t0)} ms`);
}

const ZIP_FORMATS = new Set(['docx', 'xlsx', 'pptx', 'odt']);

/** The floor: read + inflate the XML parts (what the extractor needs), no parsing. */
function floorOne(path: string, ext: string): number {
  const bytes = readFileSync(path);
  if (ZIP_FORMATS.has(ext)) {
    const parts = unzipSync(bytes, { filter: (f) => f.name.endsWith('.xml') || f.name.endsWith('.rels') });
    let n = 0;
    for (const k in parts) n += parts[k]?.length ?? 0;
    return n;
  }
  return bytes.length;
}

async function main(): Promise<void> {
  generate();
  const byExt = new Map<string, string[]>();
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const list = byExt.get(ext) ?? [];
    list.push(join(dir, name));
    byExt.set(ext, list);
  }
  const rss = rssSampler(50);
  const rows: Record<string, string | number>[] = [];
  for (const [ext, files] of byExt) {
    const mb = files.reduce((n, f) => n + readFileSync(f).length, 0) / 2 ** 20;
    // Warm the JIT and the page cache so both phases see the same conditions.
    for (const f of files.slice(0, 50)) {
      floorOne(f, ext);
      await extractFromBytes(new Uint8Array(readFileSync(f)), f, DEFAULT_EXTRACT_LIMITS);
    }
    let t = performance.now();
    for (const f of files) floorOne(f, ext);
    const floorS = (performance.now() - t) / 1000;
    t = performance.now();
    let words = 0;
    for (const f of files) {
      const r = await extractFromBytes(new Uint8Array(readFileSync(f)), f, DEFAULT_EXTRACT_LIMITS);
      words += r.counts?.words ?? 0;
    }
    const fullS = (performance.now() - t) / 1000;
    rows.push({
      format: ext,
      files: files.length,
      'avg KB': Math.round((mb * 1024) / files.length),
      'floor docs/s': Math.round(files.length / floorS),
      'floor MB/s': (mb / floorS).toFixed(1),
      'full docs/s': Math.round(files.length / fullS),
      'full MB/s': (mb / fullS).toFixed(1),
      'full/floor': `${Math.round((floorS / fullS) * 100)}%`,
      'words/doc': Math.round(words / files.length),
    });
  }
  const peak = rss.stop();
  console.log(`machine: ${machine()}`);
  console.log(table(rows));
  console.log(`peak RSS: ${peak} MB (one process, sampled every 50 ms)`);
}

await main();

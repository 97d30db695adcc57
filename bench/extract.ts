/**
 * Extraction benchmark: generates a corpus (≥2,000 typical ~40 KB .docx plus a mix of other
 * formats) under ./data/bench-extract, then measures in one process, per format:
 *   floor:      read each file and inflate the parts the extractor needs (no parsing) with fflate,
 *               as this benchmark always has;
 *   zlib floor: the same with node:zlib, the inflater the engine uses (about 3x faster than
 *               fflate here), so the engine's own inflate is not counted as parsing speed;
 *   bare:       read each file and run detectFormat + extractFromBytes without MinHash signatures
 *               and personal-data detectors (no `piiKinds`, `signature: false`);
 *   full:       the same with both, as the service runs it by default (PII_DETECTION=on, every kind),
 * printing docs/s, MB/s, what signatures and detectors add to the bare extraction (issue 19: at
 * most 15 % for .docx), their own cost per document (each run alone over the texts the bare phase
 * extracted) and peak RSS. For .eml and .zip, "full" includes extracting the
 * documents inside (two attachments, five entries), and the floors only read the file. The phases alternate for --rounds rounds and each keeps its
 * best round, so load from other processes on a shared machine skews the ratios less.
 * With --threads N it then runs the .docx files through the service's extraction pool
 * (src/extract/pool.ts: worker threads that read, hash and extract, as a scan does) with 1 and N
 * threads, to show how extraction scales with cores.
 * Usage: npm run bench:extract [-- --docx 2000 --rounds 3 --formats docx,xlsx --threads 2]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { PII_KINDS } from '../src/domain/vocabulary.ts';
import { DEFAULT_EXTRACT_LIMITS, type ExtractionResult, type ExtractLimits, extractFromBytes } from '../src/extract/index.ts';
import { scanText } from '../src/extract/minhash.ts';
import { countText } from '../src/extract/text-stats.ts';
import { detectPersonalData } from '../src/pii/index.ts';
import { createExtractionPool } from '../src/extract/pool.ts';
import { openZip } from '../src/extract/zip.ts';
import { buildDocx, buildOdf, buildPdf, buildPptx, buildXlsx, randomBytes, wTable, escapeXml } from '../test/support/extract-fixtures.ts';
import { buildEml } from '../test/support/container-fixtures.ts';
import { machine, rssSampler, table } from './support.ts';

if (process.argv.includes('--help')) {
  console.log(`npm run bench:extract [-- options]
  --docx N --xlsx N --pptx N --odt N --pdf N --txt N --html N --rtf N --eml N --zip N
                     corpus size per format (generated once); an .eml carries two attachments
                     (.docx, .pdf), a .zip five documents (.docx, .xlsx, .pdf, .txt, .odt)
  --rounds N         alternating floor/bare/full rounds, best of each kept (default 3)
  --formats a,b      measure only these formats (default: all in the corpus)
  --threads N        also run the .docx files through the extraction pool with 1 and N threads`);
  process.exit(0);
}
const text = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Math.max(1, Number(text('rounds') ?? 3));
const ONLY = text('formats')?.split(',');
const THREADS = Number(text('threads') ?? 0);
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
  eml: arg('eml', 200),
  zip: arg('zip', 100),
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
  for (let i = 0; i < (COUNTS.eml ?? 0); i++) {
    const rnd = prng(80_000 + i);
    writeFileSync(join(dir, `mail-${i}.eml`), buildEml({
      subject: sentence(rnd, 5),
      messageId: `<bench-${i}@example.nl>`,
      parts: [
        { contentType: 'text/plain; charset=utf-8', encoding: 'quoted-printable', body: Array.from({ length: 12 }, () => sentence(rnd, 20)).join('\n') },
        { contentType: MIME_DOCX, encoding: 'base64', disposition: `attachment; filename="offerte-${i}.docx"`, body: smallDocx(rnd, i) },
        { contentType: 'application/pdf', encoding: 'base64', disposition: `attachment; filename="factuur-${i}.pdf"`, body: buildPdf(Array.from({ length: 2 }, () => sentence(rnd, 12)), { Title: `Factuur ${i}` }) },
      ],
    }));
  }
  for (let i = 0; i < (COUNTS.zip ?? 0); i++) {
    const rnd = prng(90_000 + i);
    writeFileSync(join(dir, `bundle-${i}.zip`), zipSync({
      [`map/offerte-${i}.docx`]: smallDocx(rnd, i),
      'begroting.xlsx': buildXlsx({ Data: Array.from({ length: 50 }, () => sentence(rnd, 3)) }, { title: `Begroting ${i}` }),
      'factuur.pdf': buildPdf(Array.from({ length: 2 }, () => sentence(rnd, 12)), { Title: `Factuur ${i}` }),
      'notitie.txt': strToU8(Array.from({ length: 30 }, () => sentence(rnd, 20)).join('\n')),
      'verslag.odt': buildOdf('text', Array.from({ length: 20 }, () => `<text:p>${escapeXml(sentence(rnd, 25))}</text:p>`).join(''), { title: `Verslag ${i}` }),
    }));
  }
  writeFileSync(marker, '');
  console.log(`generated corpus in ${Math.round(performance.now() - t0)} ms`);
}

const MIME_DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** The documents inside the e-mails and zips: a page of text with properties. */
function smallDocx(rnd: () => number, i: number): Uint8Array {
  return buildDocx({
    paragraphs: Array.from({ length: 20 }, () => sentence(rnd, 25)),
    core: { title: sentence(rnd, 4), creator: `Author ${i % 37}`, created: '2023-01-02T03:04:05Z' },
  });
}

const ZIP_FORMATS = new Set(['docx', 'xlsx', 'pptx', 'odt']);

const isNeededPart = (name: string) => name.endsWith('.xml') || name.endsWith('.rels');

/** The floor: read + inflate the XML parts (what the extractor needs) with fflate, no parsing. */
function floorOne(path: string, ext: string): number {
  const bytes = readFileSync(path);
  if (ZIP_FORMATS.has(ext)) {
    const parts = unzipSync(bytes, { filter: (f) => isNeededPart(f.name) });
    let n = 0;
    for (const k in parts) n += parts[k]?.length ?? 0;
    return n;
  }
  return bytes.length;
}

/** The same floor with node:zlib (through the engine's zip reader: central directory + inflate). */
function zlibFloorOne(path: string, ext: string): number {
  const bytes = readFileSync(path);
  if (!ZIP_FORMATS.has(ext)) return bytes.length;
  const zip = openZip(bytes, DEFAULT_EXTRACT_LIMITS);
  let n = 0;
  for (const e of zip.entries) if (isNeededPart(e.name)) n += zip.readEntry(e).length;
  return n;
}

/** Extraction as the service runs it by default: personal data of every kind, and a signature. */
const FULL_LIMITS: ExtractLimits = { ...DEFAULT_EXTRACT_LIMITS, piiKinds: PII_KINDS };
/** The same extraction without signatures and detectors, to measure what they add. */
const BARE_LIMITS: ExtractLimits = { ...DEFAULT_EXTRACT_LIMITS, piiKinds: [], signature: false };

async function fullOne(path: string): Promise<number> {
  const r = await extractFromBytes(new Uint8Array(readFileSync(path)), path, FULL_LIMITS);
  return r.counts?.words ?? 0;
}

async function bareOne(path: string): Promise<ExtractionResult> {
  return extractFromBytes(new Uint8Array(readFileSync(path)), path, BARE_LIMITS);
}

/** CPU microseconds a document for fn over every extracted result. */
function perDocument(results: readonly ExtractionResult[], fn: (r: ExtractionResult) => unknown): number {
  const t = process.cpuUsage();
  for (const r of results) fn(r);
  const used = process.cpuUsage(t);
  return (used.user + used.system) / results.length;
}

/**
 * Signatures and detectors over one document's text, as extractFromBytes runs them (children
 * aside). The signing pass also counts the text, which extraction without signatures does by
 * countText: what signing adds is the pass less countText.
 */
const signOne = (r: ExtractionResult) => scanText(r.text);
const countOne = (r: ExtractionResult) => countText(r.text);
const detectOne = (r: ExtractionResult) => detectPersonalData(r, PII_KINDS);

/**
 * Peak RSS seen by samples taken inside the measured loops. The timer-based sampler never fires
 * while a loop runs (extraction never yields to the event loop), so it only sees the phase ends.
 */
let loopPeakRss = 0;
const sampleRss = () => {
  loopPeakRss = Math.max(loopPeakRss, process.memoryUsage.rss());
};

/** Seconds for one pass of fn over the files. */
async function timed(files: string[], fn: (f: string) => unknown): Promise<number> {
  return (await timedBoth(files, fn)).wall;
}

/**
 * Wall and CPU seconds (user + system of this process) for one pass of fn over the files. On a
 * machine shared with other work, CPU time leaves out the time this process waited for a core.
 */
async function timedBoth(files: string[], fn: (f: string) => unknown): Promise<{ wall: number; cpu: number }> {
  const t = performance.now();
  const c = process.cpuUsage();
  for (let i = 0; i < files.length; i++) {
    await fn(files[i] ?? '');
    if (i % 250 === 0) sampleRss();
  }
  const used = process.cpuUsage(c);
  return { wall: (performance.now() - t) / 1000, cpu: (used.user + used.system) / 1e6 };
}

/** Seconds for the pool to read, hash and extract every file, keeping 4 tasks a thread in flight. */
async function timedPool(files: string[], threads: number): Promise<number> {
  const pool = createExtractionPool(threads);
  try {
    // Start the threads (and their module loading) before the clock runs.
    await Promise.all(files.slice(0, threads * 4).map((path) => pool.run({ path, previousSha256: null, limits: FULL_LIMITS })));
    const t = performance.now();
    let next = 0;
    let failed = 0;
    const lane = async () => {
      while (next < files.length) {
        const path = files[next++] ?? '';
        const out = await pool.run({ path, previousSha256: null, limits: FULL_LIMITS });
        if (out.kind !== 'extracted') failed++;
        if (next % 250 === 0) sampleRss();
      }
    };
    await Promise.all(Array.from({ length: threads * 4 }, lane));
    const s = (performance.now() - t) / 1000;
    if (failed > 0) throw new Error(`${failed} documents failed in the pool`);
    return s;
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  generate();
  const byExt = new Map<string, string[]>();
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const ext = name.slice(name.lastIndexOf('.') + 1);
    // The folder may hold a larger corpus from an earlier run: measure only the files asked for.
    const index = Number(/-(\d+)\.\w+$/.exec(name)?.[1] ?? -1);
    if (index >= (COUNTS[ext] ?? 0)) continue;
    const list = byExt.get(ext) ?? [];
    list.push(join(dir, name));
    byExt.set(ext, list);
  }
  const rss = rssSampler(50);
  const rows: Record<string, string | number>[] = [];
  const addedRows: Record<string, string | number>[] = [];
  for (const [ext, files] of byExt) {
    if (ONLY && !ONLY.includes(ext)) continue;
    const mb = files.reduce((n, f) => n + readFileSync(f).length, 0) / 2 ** 20;
    // Warm the JIT and the page cache so every phase sees the same conditions.
    for (const f of files.slice(0, 50)) {
      floorOne(f, ext);
      zlibFloorOne(f, ext);
      await bareOne(f);
      await fullOne(f);
    }
    // The texts the bare phase extracts, for timing signatures and detectors alone.
    const results: ExtractionResult[] = [];
    for (const f of files) results.push(await bareOne(f));
    let floorS = Infinity;
    let zlibS = Infinity;
    let bareS = Infinity;
    let fullS = Infinity;
    let bareCpu = Infinity;
    let fullCpu = Infinity;
    let signUs = Infinity;
    let countUs = Infinity;
    let detectUs = Infinity;
    const added: number[] = [];
    const addedCpu: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      floorS = Math.min(floorS, await timed(files, (f) => floorOne(f, ext)));
      zlibS = Math.min(zlibS, await timed(files, (f) => zlibFloorOne(f, ext)));
      // Bare and full side by side, each first in turn, so a change of load weighs on both alike.
      const order = round % 2 === 0 ? [false, true] : [true, false];
      let bare = { wall: 0, cpu: 0 };
      let full = { wall: 0, cpu: 0 };
      for (const withBoth of order) {
        if (withBoth) full = await timedBoth(files, fullOne);
        else bare = await timedBoth(files, bareOne);
      }
      bareS = Math.min(bareS, bare.wall);
      fullS = Math.min(fullS, full.wall);
      bareCpu = Math.min(bareCpu, bare.cpu);
      fullCpu = Math.min(fullCpu, full.cpu);
      added.push(full.wall / bare.wall - 1);
      addedCpu.push(full.cpu / bare.cpu - 1);
      signUs = Math.min(signUs, perDocument(results, signOne));
      countUs = Math.min(countUs, perDocument(results, countOne));
      detectUs = Math.min(detectUs, perDocument(results, detectOne));
    }
    let words = 0;
    for (const f of files.slice(0, 200)) words += await fullOne(f);
    const pct = (floor: number) => `${Math.round((floor / fullS) * 100)}%`;
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return ((sorted[(sorted.length - 1) >> 1] ?? 0) + (sorted[sorted.length >> 1] ?? 0)) / 2;
    };
    const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
    rows.push({
      format: ext,
      files: files.length,
      'avg KB': Math.round((mb * 1024) / files.length),
      'floor docs/s': Math.round(files.length / floorS),
      'zlib floor docs/s': Math.round(files.length / zlibS),
      'bare docs/s': Math.round(files.length / bareS),
      'full docs/s': Math.round(files.length / fullS),
      'full MB/s': (mb / fullS).toFixed(1),
      'full/floor': pct(floorS),
      'full/zlib floor': pct(zlibS),
      'words/doc': Math.round(words / Math.min(files.length, 200)),
    });
    const bareCpuUs = (bareCpu / files.length) * 1e6;
    addedRows.push({
      format: ext,
      'bare µs/doc': `${Math.round((bareS / files.length) * 1e6)} (${Math.round(bareCpuUs)})`,
      'full µs/doc': `${Math.round((fullS / files.length) * 1e6)} (${Math.round((fullCpu / files.length) * 1e6)})`,
      'added, best rounds': `${percent(fullS / bareS - 1)} (${percent(fullCpu / bareCpu - 1)})`,
      'added, median pair': `${percent(median(added))} (${percent(median(addedCpu))})`,
      'signing pass µs/doc': signUs.toFixed(1),
      'countText µs/doc': countUs.toFixed(1),
      'detectors µs/doc': detectUs.toFixed(1),
      'alone / bare': percent((signUs - countUs + detectUs) / bareCpuUs),
    });
  }
  const poolRows: Record<string, string | number>[] = [];
  const docx = byExt.get('docx') ?? [];
  if (THREADS > 0 && docx.length > 0) {
    const counts = THREADS > 1 ? [1, THREADS] : [1];
    const best = new Map<number, number>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of counts) best.set(n, Math.min(best.get(n) ?? Infinity, await timedPool(docx, n)));
    }
    const one = best.get(1) ?? Infinity;
    for (const n of counts) {
      const s = best.get(n) ?? Infinity;
      poolRows.push({ format: 'docx', files: docx.length, threads: n, 'docs/s': Math.round(docx.length / s), 'x 1 thread': (one / s).toFixed(2) });
    }
  }
  const peak = rss.stop();
  sampleRss();
  console.log(`machine: ${machine()}`);
  console.log(table(rows));
  console.log(
    '\nwhat signatures and detectors add ("bare": extraction without them; wall time, CPU time in brackets; "alone": their CPU time a document,\n' +
      'run alone over the texts the bare phase extracted, against the bare CPU time; best of the rounds, or the median of the bare/full pairs;\n' +
      'the signing pass also counts the text, which the bare extraction does by countText, so "alone" takes the pass less countText):',
  );
  console.log(table(addedRows));
  if (poolRows.length > 0) {
    console.log('\nextraction pool (worker threads: read + sha256 + extract, as a scan runs it):');
    console.log(table(poolRows));
  }
  console.log(`peak RSS: ${peak} MB (one process, sampled every 50 ms); best of ${ROUNDS} alternating rounds per phase`);
  console.log(`peak RSS sampled inside the measured loops (every 250 documents): ${Math.round(Math.max(loopPeakRss, peak * 2 ** 20) / 2 ** 20)} MB`);
}

await main();

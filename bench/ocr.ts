/**
 * OCR benchmark: A4 pages at 300 DPI (English and Dutch text in DejaVu Serif, alternating, every
 * fourth page turned upside down so orientation detection is exercised), read by tesseract.js and
 * by the native `tesseract` binary (Debian's tesseract-ocr, the floor) on the same normalised pages.
 * Prints, per engine and pool size: pages/s, pages/s per core, mean CER against the ground truth and
 * peak RSS. Time counts recognition only (orientation detection included), not page generation.
 * Memory: tesseract.js runs its pool over N pages and then N more, and peak RSS is read after each
 * half, to show it is flat in the number of pages. Native children are other processes: their
 * memory is not in this process's RSS.
 * Usage: npm run bench:ocr [-- --pages N --concurrency C]
 */
import { cpus } from 'node:os';
import {
  createNativeTesseractEngine,
  createTesseractJsEngine,
  findTesseractBinary,
  normaliseImage,
  rotatePage,
  type OcrEngine,
  type PageImage,
} from '../src/ocr/index.ts';
import { characterErrorRate, DEBIAN_TESSDATA, dutchDataAvailable, type FixtureLanguage, GROUND_TRUTH, normaliseWhitespace, renderA4Page } from '../test/support/ocr-fixtures.ts';
import { machine, rssSampler, table } from './support.ts';

if (process.argv.includes('--help')) {
  console.log(`npm run bench:ocr [-- options]
  --pages N          pages per run (default 6); the memory run reads 2N
  --concurrency C    pool size of the parallel runs (default: the number of cores)`);
  process.exit(0);
}
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PAGES = Math.max(1, arg('pages', 6));
const CONCURRENCY = Math.max(1, arg('concurrency', cpus().length));
const TIMEOUT_MS = 300_000;
const languages: FixtureLanguage[] = dutchDataAvailable() ? ['eng', 'nld'] : ['eng'];

interface BenchPage {
  image: PageImage;
  lang: FixtureLanguage;
  truth: string;
}

async function makePages(count: number): Promise<BenchPage[]> {
  const rendered = new Map<FixtureLanguage, PageImage>();
  for (const lang of languages) rendered.set(lang, await normaliseImage(await renderA4Page(GROUND_TRUTH[lang], 300)));
  const pages: BenchPage[] = [];
  for (let i = 0; i < count; i++) {
    const lang = languages[i % languages.length]!;
    const upright = rendered.get(lang)!;
    const image = i % 4 === 3 ? await rotatePage(upright, 180) : upright;
    pages.push({ image, lang, truth: normaliseWhitespace(Array.from({ length: 9 }, () => GROUND_TRUTH[lang]).join(' ')) });
  }
  return pages;
}

interface RunResult {
  seconds: number;
  cer: number;
  peakRssMb: number;
}

/** Reads `pages` through the engine with `concurrency` pages in flight. */
async function run(engine: OcrEngine, pages: readonly BenchPage[], concurrency: number): Promise<RunResult> {
  const rss = rssSampler();
  const cers: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < pages.length) {
        const page = pages[next++]!;
        const r = await engine.recognize(page.image, { languages: [page.lang], timeoutMs: TIMEOUT_MS });
        cers.push(characterErrorRate(r.text, page.truth));
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, cer: cers.reduce((a, b) => a + b, 0) / cers.length, peakRssMb: rss.stop() };
}

const row = (engine: string, workers: number, pages: number, r: RunResult) => ({
  engine,
  workers,
  pages,
  'pages/s': (pages / r.seconds).toFixed(3),
  'pages/s/core': (pages / r.seconds / workers).toFixed(3),
  's/page/core': ((r.seconds * workers) / pages).toFixed(2),
  'mean CER %': (r.cer * 100).toFixed(2),
  'peak RSS MB': r.peakRssMb,
});

console.log(`OCR benchmark on ${machine()}`);
console.log(`${PAGES} A4 pages at 300 DPI per run (${languages.join(', ')}; every fourth page upside down), parallel runs with ${CONCURRENCY} workers\n`);
const pages = await makePages(2 * PAGES);
const first = pages.slice(0, PAGES);
const rows: ReturnType<typeof row>[] = [];
const languageDirs = dutchDataAvailable() ? [DEBIAN_TESSDATA] : [];

// Warm-up: each engine loads its code and language data once before it is timed.
const js1 = createTesseractJsEngine({ workers: 1, languages, languageDirs });
await run(js1, first.slice(0, 1), 1);
const js1Result = await run(js1, first, 1);
rows.push(row('tesseract.js', 1, PAGES, js1Result));
await js1.close();

let native1Result: RunResult | undefined;
let nativeNResult: RunResult | undefined;
if (findTesseractBinary()) {
  const native = await createNativeTesseractEngine({ concurrency: CONCURRENCY });
  await run(native, first.slice(0, 1), 1);
  native1Result = await run(native, first, 1);
  rows.push(row('tesseract (native)', 1, PAGES, native1Result));
  nativeNResult = await run(native, pages, CONCURRENCY);
  rows.push(row('tesseract (native)', CONCURRENCY, 2 * PAGES, nativeNResult));
  await native.close();
} else {
  console.log('no tesseract binary on PATH: the native floor is not measured (apt-get install tesseract-ocr)\n');
}

const jsN = createTesseractJsEngine({ workers: CONCURRENCY, languages, languageDirs });
await run(jsN, first.slice(0, CONCURRENCY), CONCURRENCY);
const firstHalf = await run(jsN, first, CONCURRENCY);
const secondHalf = await run(jsN, pages.slice(PAGES), CONCURRENCY);
await jsN.close();
const jsNResult: RunResult = {
  seconds: firstHalf.seconds + secondHalf.seconds,
  cer: (firstHalf.cer + secondHalf.cer) / 2,
  peakRssMb: Math.max(firstHalf.peakRssMb, secondHalf.peakRssMb),
};
rows.push(row('tesseract.js', CONCURRENCY, 2 * PAGES, jsNResult));

console.log(table(rows));
console.log(`\nmemory, tesseract.js with ${CONCURRENCY} workers: peak RSS ${firstHalf.peakRssMb} MB after ${PAGES} pages, ${secondHalf.peakRssMb} MB after ${2 * PAGES} pages`);
if (native1Result && nativeNResult) {
  const ratio1 = native1Result.seconds / js1Result.seconds;
  const ratioN = nativeNResult.seconds / jsNResult.seconds;
  console.log(`tesseract.js / native pages/s: ${(ratio1 * 100).toFixed(0)}% with one worker, ${(ratioN * 100).toFixed(0)}% with ${CONCURRENCY} (goal: at least 70% at equal CER)`);
}

/**
 * The OCR engines on the generated test set: character error rate under 3% on clean pages and
 * under 8% on noisy ones, in English and Dutch, pages scanned sideways or upside down turned
 * upright first, every page of a multi-page TIFF and of an image-only PDF read; a language with no
 * local data fails at once (nothing is downloaded); timeouts and cancels stop the page's work; and
 * the native binary answers in the same shape. A child process under `unshare -rn` (no network
 * at all, not even loopback) proves tesseract.js needs none.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  createNativeTesseractEngine,
  createTesseractJsEngine,
  findTesseractBinary,
  imagePages,
  normaliseImage,
  OcrError,
  openPdfForOcr,
  type OcrEngine,
  type PageImage,
} from '../../src/ocr/index.ts';
import {
  asImageOnlyPdf,
  asJpeg,
  asMultiPageTiff,
  characterErrorRate,
  DEBIAN_TESSDATA,
  dutchDataAvailable,
  type FixtureLanguage,
  GROUND_TRUTH,
  noisy,
  ocrFixturesAvailable,
  rejectsWithOcrCode,
  renderTextPage,
  rotated,
} from '../support/ocr-fixtures.ts';

const CLEAN_CER = 0.03;
const NOISY_CER = 0.08;
const TIMEOUT_MS = 60_000;

const skip = ocrFixturesAvailable() ? false : 'the DejaVu font is not installed (apt-get install fonts-dejavu-core)';
const LANGUAGES: FixtureLanguage[] = dutchDataAvailable() ? ['eng', 'nld'] : ['eng'];

describe('OCR with tesseract.js', { skip }, () => {
  let engine: OcrEngine;
  const clean = new Map<FixtureLanguage, Buffer>();

  before(async () => {
    engine = createTesseractJsEngine({ workers: 2, languages: LANGUAGES, languageDirs: [DEBIAN_TESSDATA] });
    for (const lang of LANGUAGES) clean.set(lang, await renderTextPage(GROUND_TRUTH[lang], { dpi: 300 }));
  });
  after(async () => {
    await engine.close();
  });

  const read = async (bytes: Buffer, lang: FixtureLanguage) => engine.recognize(await normaliseImage(bytes), { languages: [lang], timeoutMs: TIMEOUT_MS });

  for (const lang of LANGUAGES) {
    it(`${lang}: clean pages at 300 and 150 DPI (PNG, JPEG) read with a CER under 3%`, async () => {
      const page300 = clean.get(lang)!;
      const pages = [page300, await asJpeg(page300), await renderTextPage(GROUND_TRUTH[lang], { dpi: 150 })];
      const results = await Promise.all(pages.map((p) => read(p, lang)));
      for (const r of results) {
        const cer = characterErrorRate(r.text, GROUND_TRUTH[lang]);
        assert.ok(cer < CLEAN_CER, `CER ${cer} on: ${r.text}`);
        assert.equal(r.rotationApplied, 0);
        assert.deepEqual(r.languages, [lang]);
        assert.ok(r.meanConfidence > 80 && r.meanConfidence <= 100, `confidence ${r.meanConfidence}`);
        assert.ok(Math.abs(r.words - GROUND_TRUTH[lang].split(' ').length) <= 3, `words ${r.words}`);
      }
    });

    it(`${lang}: noisy, skewed pages at 300 and 150 DPI read with a CER under 8%`, async () => {
      const pages = [await noisy(clean.get(lang)!), await noisy(await renderTextPage(GROUND_TRUTH[lang], { dpi: 150 }), 11)];
      const results = await Promise.all(pages.map((p) => read(p, lang)));
      for (const r of results) {
        const cer = characterErrorRate(r.text, GROUND_TRUTH[lang]);
        assert.ok(cer < NOISY_CER, `CER ${cer} on: ${r.text}`);
      }
    });

    it(`${lang}: pages turned 90, 180 and 270 degrees are turned upright and read with a CER under 3%`, async () => {
      const turns = [90, 180, 270] as const;
      const results = await Promise.all(turns.map(async (t) => read(await rotated(clean.get(lang)!, t), lang)));
      results.forEach((r, i) => {
        // A page turned t clockwise is put right by turning it 360 - t further.
        assert.equal(r.rotationApplied, (360 - turns[i]!) % 360);
        const cer = characterErrorRate(r.text, GROUND_TRUTH[lang]);
        assert.ok(cer < CLEAN_CER, `turned ${turns[i]}: CER ${cer} on: ${r.text}`);
      });
    });
  }

  it('reads every page of a multi-page TIFF and of an image-only PDF', async () => {
    const eng = clean.get('eng')!;
    const tiff = await asMultiPageTiff([eng, await rotated(eng, 90)], 300);
    const texts: string[] = [];
    for await (const page of imagePages(tiff)) {
      texts.push((await engine.recognize(page, { languages: ['eng'], timeoutMs: TIMEOUT_MS })).text);
    }
    assert.equal(texts.length, 2);
    for (const t of texts) assert.ok(characterErrorRate(t, GROUND_TRUTH.eng) < CLEAN_CER, t);

    const pdf = await openPdfForOcr(await asImageOnlyPdf([eng], 300));
    try {
      assert.equal((await pdf.pageText(1)).needsOcr, true);
      const r = await engine.recognize(await pdf.renderPage(1, 300), { languages: ['eng'], timeoutMs: TIMEOUT_MS });
      assert.ok(characterErrorRate(r.text, GROUND_TRUTH.eng) < CLEAN_CER, r.text);
    } finally {
      await pdf.close();
    }
  });

  it('fails a language with no local traineddata at once with ocr_language_missing, instead of downloading it', async () => {
    const page = await normaliseImage(clean.get('eng')!);
    const started = Date.now();
    await rejectsWithOcrCode(engine.recognize(page, { languages: ['fra'], timeoutMs: TIMEOUT_MS }), 'ocr_language_missing');
    await rejectsWithOcrCode(engine.recognize(page, { languages: ['eng', 'zzz'], timeoutMs: TIMEOUT_MS }), 'ocr_language_missing');
    await rejectsWithOcrCode(engine.recognize(page, { languages: ['../eng'], timeoutMs: TIMEOUT_MS }), 'ocr_language_missing');
    // Resolution is a look at the disk: a download attempt would wait on the network for far longer.
    assert.ok(Date.now() - started < 5_000);
    assert.throws(() => createTesseractJsEngine({ workers: 1, languages: ['fra'] }), (err: unknown) => err instanceof OcrError && err.code === 'ocr_language_missing');
  });

  it('stops a page at its timeout, on cancel or when the engine fails it, and the slot reads the next page', async () => {
    const page = await normaliseImage(clean.get('eng')!);
    await rejectsWithOcrCode(engine.recognize(page, { languages: ['eng'], timeoutMs: 1 }), 'timeout');
    const aborted = new AbortController();
    aborted.abort();
    await rejectsWithOcrCode(engine.recognize(page, { languages: ['eng'], timeoutMs: TIMEOUT_MS, signal: aborted.signal }), 'cancelled');
    const cancel = new AbortController();
    const pending = engine.recognize(page, { languages: ['eng'], timeoutMs: TIMEOUT_MS, signal: cancel.signal });
    setImmediate(() => cancel.abort());
    await rejectsWithOcrCode(pending, 'cancelled');
    // Bytes no engine can read fail the page alone; the slot's workers are replaced.
    const garbage: PageImage = { png: Buffer.from('not an image at all'), width: 100, height: 100, dpi: 300 };
    await rejectsWithOcrCode(engine.recognize(garbage, { languages: ['eng'], timeoutMs: TIMEOUT_MS }), 'ocr_engine_failed');
    const after = await engine.recognize(page, { languages: ['eng'], timeoutMs: TIMEOUT_MS });
    assert.ok(characterErrorRate(after.text, GROUND_TRUTH.eng) < CLEAN_CER);
  });

  it('names itself and its language data for the cache key', () => {
    assert.equal(engine.name, 'tesseract.js');
    assert.match(engine.version, /^tesseract\.js 7\.\d+\.\d+ .*eng:npm:/);
    assert.match(engine.version, /osd:npm:/);
  });
});

const unshareWorks = spawnSync('unshare', ['-rn', 'true']).status === 0;

describe('OCR with tesseract.js and no network', { skip: skip || (unshareWorks ? false : 'unshare -rn is not permitted here') }, () => {
  it('reads a page in a process that has no network interface at all', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const from = (file: string) => JSON.stringify(pathToFileURL(path.join(root, file)).href);
    const script = [
      `import { createTesseractJsEngine, normaliseImage, rotatePage } from ${from('src/ocr/index.ts')};`,
      `import { renderTextPage, GROUND_TRUTH, characterErrorRate } from ${from('test/support/ocr-fixtures.ts')};`,
      "const engine = createTesseractJsEngine({ workers: 1, languages: ['eng'] });",
      'const page = await normaliseImage(await renderTextPage(GROUND_TRUTH.eng, { dpi: 300 }));',
      "const r = await engine.recognize(await rotatePage(page, 180), { languages: ['eng'], timeoutMs: 60000 });",
      'await engine.close();',
      'console.log(JSON.stringify({ cer: characterErrorRate(r.text, GROUND_TRUTH.eng), rotation: r.rotationApplied }));',
    ].join('\n');
    // A file, not --eval: tesseract.js's worker threads inherit the process's flags, and --input-type breaks them.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'docsight-ocr-test-'));
    const file = path.join(dir, 'no-network.mts');
    writeFileSync(file, script);
    const child = spawnSync('unshare', ['-rn', process.execPath, '--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(child.status, 0, child.stderr);
    const line = child.stdout.trim().split('\n').find((l) => l.startsWith('{'));
    const { cer, rotation } = JSON.parse(line ?? '{}') as { cer: number; rotation: number };
    assert.ok(cer < CLEAN_CER, `CER ${cer}`);
    assert.equal(rotation, 180);
  });
});

const binary = findTesseractBinary();

describe('OCR with the native tesseract binary', { skip: skip || (binary ? false : 'no tesseract binary on PATH (apt-get install tesseract-ocr)') }, () => {
  let engine: OcrEngine;
  let js: OcrEngine;
  let page: PageImage;

  before(async () => {
    engine = await createNativeTesseractEngine({ concurrency: 2 });
    js = createTesseractJsEngine({ workers: 1, languages: ['eng'] });
    page = await normaliseImage(await renderTextPage(GROUND_TRUTH.eng, { dpi: 300 }));
  });
  after(async () => {
    await engine.close();
    await js.close();
  });

  it('answers in the same shape as tesseract.js, with the page turned upright', async () => {
    const sideways = await normaliseImage(await rotated(await renderTextPage(GROUND_TRUTH.eng, { dpi: 300 }), 90));
    const [native, wasm] = await Promise.all([
      engine.recognize(sideways, { languages: ['eng'], timeoutMs: TIMEOUT_MS }),
      js.recognize(sideways, { languages: ['eng'], timeoutMs: TIMEOUT_MS }),
    ]);
    assert.deepEqual(Object.keys(native).sort(), Object.keys(wasm).sort());
    assert.equal(native.rotationApplied, 270);
    assert.ok(characterErrorRate(native.text, GROUND_TRUTH.eng) < CLEAN_CER, native.text);
    assert.ok(native.meanConfidence > 80);
    assert.match(engine.version, /^tesseract \d/);
  });

  it('kills the child at the timeout or on cancel, and fails a language it has no data for', async () => {
    await rejectsWithOcrCode(engine.recognize(page, { languages: ['eng'], timeoutMs: 1 }), 'timeout');
    const cancel = new AbortController();
    const pending = engine.recognize(page, { languages: ['eng'], timeoutMs: TIMEOUT_MS, signal: cancel.signal });
    setImmediate(() => cancel.abort());
    await rejectsWithOcrCode(pending, 'cancelled');
    await rejectsWithOcrCode(engine.recognize(page, { languages: ['qqq'], timeoutMs: TIMEOUT_MS }), 'ocr_language_missing');
    const r = await engine.recognize(page, { languages: ['eng'], timeoutMs: TIMEOUT_MS });
    assert.ok(characterErrorRate(r.text, GROUND_TRUTH.eng) < CLEAN_CER);
  });
});

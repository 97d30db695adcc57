/**
 * The native `tesseract` binary (Debian's tesseract-ocr) as an OCR engine: one child process per
 * page reading the PNG on stdin and writing TSV (per-word confidences) on stdout, so the result
 * has the same shape as tesseract.js's. Orientation comes from `--psm 0`. A timeout or a cancel
 * kills the child. Each child runs one OpenMP thread: the pool's size is the parallelism.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { downscalePage, rotatePage } from './image.ts';
import { Slots, withDeadline } from './scheduling.ts';
import { asRotation, resultFromTsv } from './tsv.ts';
import { OcrError, type OcrEngine, type OcrResult, type PageImage, type RecognizeOptions, type Rotation } from './types.ts';

/** Niceness of the tesseract children: lower priority than the process that starts them. */
const OCR_NICENESS = 10;

export interface NativeTesseractOptions {
  /** Pages read at once, one child process each. */
  concurrency: number;
  /** The binary; default: `tesseract` found on PATH. */
  binary?: string;
  /** A tessdata folder instead of the binary's own (it must hold `osd` too when orientation is detected). */
  tessdataDir?: string;
  detectOrientation?: boolean;
  minOrientationConfidence?: number;
}

const run = promisify(execFile);
const ORIENTATION_MAX_DIMENSION = 2000;
/** Standard error kept from a failing child, for its message. */
const MAX_STDERR = 4096;

/** The `tesseract` binary on PATH, or undefined when there is none. */
export function findTesseractBinary(pathVariable = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVariable.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'tesseract');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

export async function createNativeTesseractEngine(options: NativeTesseractOptions): Promise<OcrEngine> {
  const binary = options.binary ?? findTesseractBinary();
  if (!binary) throw new OcrError('ocr_engine_failed', 'no tesseract binary on PATH');
  const dataArgs = options.tessdataDir ? ['--tessdata-dir', options.tessdataDir] : [];
  const env = { ...process.env, OMP_THREAD_LIMIT: '1' };
  let version: string;
  let installed: Set<string>;
  try {
    const v = await run(binary, ['--version'], { env });
    version = /tesseract\s+(\S+)/i.exec(`${v.stdout}\n${v.stderr}`)?.[1] ?? 'unknown';
    const l = await run(binary, [...dataArgs, '--list-langs'], { env });
    installed = new Set(l.stdout.split('\n').slice(1).map((s) => s.trim()).filter(Boolean));
  } catch (err) {
    throw new OcrError('ocr_engine_failed', `tesseract does not run: ${err instanceof Error ? err.message : String(err)}`);
  }
  const detectOrientation = options.detectOrientation ?? true;
  if (detectOrientation && !installed.has('osd')) throw new OcrError('ocr_language_missing', 'the tesseract binary has no osd data for orientation detection');
  const minConfidence = options.minOrientationConfidence ?? 2;
  const pool = new Slots(Array.from({ length: Math.max(1, options.concurrency) }, (_, i) => i));
  const closing = new AbortController();

  /** Runs one child on the PNG; `stop` kills it. Resolves with stdout, rejects with its exit and stderr. */
  const child = (args: string[], png: Buffer, stop: AbortSignal): Promise<string> =>
    new Promise((resolve, reject) => {
      const proc = spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'], signal: stop, killSignal: 'SIGKILL' });
      // OCR is background work: the scheduler gives the cores to extraction and the API first.
      if (proc.pid !== undefined) {
        try {
          setPriority(proc.pid, OCR_NICENESS);
        } catch {
          // Not allowed here (a container without CAP_SYS_NICE may refuse): OCR runs at normal priority.
        }
      }
      const out: Buffer[] = [];
      let err = '';
      proc.stdout.on('data', (c: Buffer) => out.push(c));
      proc.stderr.on('data', (c: Buffer) => {
        if (err.length < MAX_STDERR) err += c.toString('utf8');
      });
      proc.on('error', (e) => reject(e));
      proc.stdin.on('error', () => undefined);
      proc.on('close', (code, sig) => {
        if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
        else reject(new OcrError('ocr_engine_failed', `tesseract exited with ${code ?? sig}: ${err.trim().slice(0, 500)}`));
      });
      proc.stdin.end(png);
    });

  const orientationOf = async (page: PageImage, stop: AbortSignal): Promise<Rotation> => {
    const small = await downscalePage(page, ORIENTATION_MAX_DIMENSION);
    let out: string;
    try {
      out = await child([...dataArgs, 'stdin', 'stdout', '--psm', '0'], small.png, stop);
    } catch (err) {
      // Too few characters to tell: the page is read as it is.
      if (err instanceof OcrError && /too few characters|osd/i.test(err.message)) return 0;
      throw err;
    }
    const rotate = Number(/Rotate:\s*(\d+)/.exec(out)?.[1]);
    const confidence = Number(/Orientation confidence:\s*([\d.]+)/.exec(out)?.[1]);
    return Number.isFinite(confidence) && confidence >= minConfidence ? asRotation(rotate) : 0;
  };

  const read = async (page: PageImage, languages: string[], stop: AbortSignal): Promise<OcrResult> => {
    const rotation = detectOrientation ? await orientationOf(page, stop) : 0;
    const upright = await rotatePage(page, rotation);
    const tsv = await child([...dataArgs, 'stdin', 'stdout', '-l', languages.join('+'), '--psm', '3', '--dpi', String(upright.dpi), 'tsv'], upright.png, stop);
    return resultFromTsv(tsv, rotation, languages);
  };

  return {
    name: 'tesseract',
    version: `tesseract ${version} (${options.tessdataDir ?? 'system tessdata'})`,
    async recognize(page: PageImage, { languages, timeoutMs, signal }: RecognizeOptions): Promise<OcrResult> {
      if (closing.signal.aborted) throw new OcrError('cancelled', 'the OCR engine is closed');
      if (languages.length === 0) throw new OcrError('ocr_language_missing', 'no language asked for');
      const missing = languages.filter((l) => !installed.has(l));
      if (missing.length > 0) throw new OcrError('ocr_language_missing', `the tesseract binary has no data for ${missing.join(', ')}`);
      const outer = signal ? AbortSignal.any([signal, closing.signal]) : closing.signal;
      const slot = await pool.acquire(outer);
      // The children's own signal: aborted by the deadline's stop as well as by the caller.
      const kill = new AbortController();
      const stop = AbortSignal.any([outer, kill.signal]);
      try {
        return await withDeadline(() => read(page, [...languages], stop), timeoutMs, outer, () => kill.abort());
      } finally {
        pool.release(slot);
      }
    },
    async close(): Promise<void> {
      closing.abort(new Error('the OCR engine is closed'));
      pool.close();
    },
  };
}

/**
 * Where tesseract.js finds its language data, always on local disk: the `@tesseract.js-data/<lang>`
 * npm packages (gzip'd traineddata in `4.0.0/`, with the legacy model orientation detection
 * needs, and `4.0.0_best_int/`, LSTM only) and then the caller's folders of `<lang>.traineddata`
 * (plain or gzip'd; Debian's tesseract-ocr-nld installs /usr/share/tesseract-ocr/5/tessdata/nld.traineddata).
 * A language found nowhere fails at once with `ocr_language_missing`: nothing is ever downloaded.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { OcrError } from './types.ts';

/** Which model of a language: recognition reads the LSTM model, orientation detection the legacy one. */
export type LanguageModel = 'lstm' | 'legacy';

export interface LanguageFile {
  code: string;
  file: string;
  /** Identifies the data in a cache key: package name and version, or file size and modification time. */
  id: string;
}

const LANGUAGE_CODE = /^[a-z_]{3,16}$/i;
const require = createRequire(import.meta.url);

export function resolveLanguage(code: string, model: LanguageModel, extraDirs: readonly string[]): LanguageFile {
  if (!LANGUAGE_CODE.test(code)) throw new OcrError('ocr_language_missing', `"${code}" is not a tesseract language code`);
  const fromNpm = npmLanguage(code, model);
  if (fromNpm) return fromNpm;
  for (const dir of extraDirs) {
    for (const name of [`${code}.traineddata`, `${code}.traineddata.gz`]) {
      const file = path.resolve(dir, name);
      if (existsSync(file)) {
        const st = statSync(file);
        return { code, file, id: `${code}:file:${st.size}:${Math.trunc(st.mtimeMs)}` };
      }
    }
  }
  const where = ['@tesseract.js-data/' + code, ...extraDirs].join(', ');
  throw new OcrError('ocr_language_missing', `no traineddata for language "${code}" (looked in ${where})`);
}

function npmLanguage(code: string, model: LanguageModel): LanguageFile | undefined {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`@tesseract.js-data/${code}/package.json`);
  } catch {
    return undefined;
  }
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version?: string }).version ?? '?';
  // The osd package has one model; best_int is LSTM only, so the legacy engine reads 4.0.0.
  const folders = model === 'lstm' && code !== 'osd' ? ['4.0.0_best_int', '4.0.0'] : ['4.0.0'];
  for (const folder of folders) {
    const file = path.join(path.dirname(pkgJson), folder, `${code}.traineddata.gz`);
    if (existsSync(file)) return { code, file, id: `${code}:npm:${version}/${folder}` };
  }
  return undefined;
}

/**
 * Tesseract's TSV output (the same columns from the native binary and from tesseract.js) as one
 * result: both engines are read by this parser, so their text and confidences have the same shape.
 * Columns: level page_num block_num par_num line_num word_num left top width height conf text;
 * level 5 rows are words.
 */
import type { OcrResult, Rotation } from './types.ts';

export function resultFromTsv(tsv: string, rotationApplied: Rotation, languages: readonly string[]): OcrResult {
  const paragraphs: string[][][] = [];
  let lastPar = '';
  let lastLine = '';
  let words = 0;
  let confSum = 0;
  for (const row of tsv.split('\n')) {
    const cols = row.split('\t');
    if (cols[0] !== '5' || cols.length < 12) continue;
    const word = cols.slice(11).join('\t').trim();
    const conf = Number(cols[10]);
    if (word === '' || !Number.isFinite(conf) || conf < 0) continue;
    const par = `${cols[1]}.${cols[2]}.${cols[3]}`;
    const line = `${par}.${cols[4]}`;
    if (par !== lastPar) paragraphs.push([]);
    const lines = paragraphs[paragraphs.length - 1]!;
    if (line !== lastLine || par !== lastPar) lines.push([]);
    lines[lines.length - 1]!.push(word);
    lastPar = par;
    lastLine = line;
    words++;
    confSum += conf;
  }
  return {
    text: paragraphs.map((p) => p.map((l) => l.join(' ')).join('\n')).join('\n\n'),
    meanConfidence: words === 0 ? 0 : Math.round((confSum / words) * 100) / 100,
    words,
    rotationApplied,
    languages: [...languages],
  };
}

/** Tesseract's orientation answer ("rotate clockwise by") as a quarter turn, or 0 when it is not one. */
export function asRotation(degrees: number | null | undefined): Rotation {
  return degrees === 90 || degrees === 180 || degrees === 270 ? degrees : 0;
}

/** Text output of the CLI: aligned tables, sizes, durations, and the live progress line. */
import { isFinal, type Job } from '../contract.ts';

export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export const num = (n: number) => n.toLocaleString('en-US');
export const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '–');
export const minute = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '–');
export const folderName = (f: string | null) => (!f || f === '.' ? '. (documents root)' : f);

/** Columns aligned; `right` lists the columns to right-align (numbers). */
export function table(head: string[], rows: string[][], right: number[] = [], indent = '  '): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

/** Label/value rows. */
export function pairs(rows: [string, string][], indent = '  '): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

const counts = (j: Job) => {
  const p = j.progress;
  const finished = p.done + p.failed + p.skipped;
  return `${num(finished)}/${num(p.total)}`;
};

const rateEta = (j: Job) =>
  [j.rate !== null ? `${j.rate} docs/s` : null, j.etaSeconds !== null ? `ETA ${duration(j.etaSeconds)}` : null].filter(Boolean).join('  ');

/**
 * A scan's OCR stage, apart from extraction (null until the job has OCR work): pages read of the
 * pages found, documents finished, pace and time left.
 */
export function ocrProgressText(j: Job): string | null {
  const o = j.ocr;
  if (!o) return null;
  const pace = o.pagesPerSecond !== null ? `  ${o.pagesPerSecond} pages/s` : '';
  const eta = o.etaSeconds !== null && !isFinal(j.status) ? `  ETA ${duration(o.etaSeconds)}` : '';
  return `OCR ${num(o.pagesDone)}/${num(o.pagesTotal)} pages (${num(o.documentsDone)}/${num(o.documents)} documents)${pace}${eta}`;
}

/**
 * Live progress: a redrawn bar on a terminal; on a pipe or file, one plain line per change at
 * most every `everyMs` (and always on a status change), so logs stay readable.
 */
export function createProgress(out: Out, label: string, everyMs = 1000) {
  let lastLine = 0;
  let lastStatus = '';
  let drawn = false;
  return {
    update(j: Job) {
      const p = j.progress;
      if (out.isTTY) {
        const width = Math.max(10, Math.min(40, (out.columns ?? 80) - 70));
        const filled = Math.round((p.percent / 100) * width);
        const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
        const failed = p.failed ? `  ${num(p.failed)} failed` : '';
        const ocr = ocrProgressText(j);
        out.write(`\r\x1b[2K${label} ${bar} ${p.percent.toFixed(1).padStart(5)}%  ${counts(j)}  ${rateEta(j)}${failed}${ocr ? `  |  ${ocr}` : ''}`);
        drawn = true;
        return;
      }
      const now = Date.now();
      if (j.status === lastStatus && now - lastLine < everyMs) return;
      lastLine = now;
      lastStatus = j.status;
      const failed = p.failed ? `, ${num(p.failed)} failed` : '';
      out.write(`${label}: ${j.status} ${p.percent}% (${counts(j)} documents${failed}) ${rateEta(j)}`.trimEnd() + '\n');
      const ocr = ocrProgressText(j);
      if (ocr) out.write(`${label}: ${ocr}\n`);
    },
    done() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}

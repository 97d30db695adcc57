/** Labelled progress bars (role=progressbar) that screen readers can follow. */
import type { OcrProgress, Progress } from '../lib/types.ts';

export function ProgressBar({ value, label, tone = 'accent' }: { value: number; label: string; tone?: 'accent' | 'ok' | 'bad' | 'muted' }) {
  const v = Math.max(0, Math.min(100, value));
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(v * 10) / 10}
      aria-valuetext={`${v.toFixed(1)}%`}
    >
      <div className={`progress-fill tone-${tone}`} style={{ width: `${v}%` }} />
    </div>
  );
}

/**
 * A job's bar in parts: done, skipped and failed side by side, so one failure in a thousand
 * shows as a sliver of red instead of turning the whole bar red.
 */
export function JobBar({ progress: p, label, running }: { progress: Progress; label: string; running: boolean }) {
  const total = p.total || 1;
  const part = (n: number) => `${(Math.min(n, total) / total) * 100}%`;
  return (
    <div
      className={`progress stacked${running ? ' running' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={p.percent}
      aria-valuetext={`${p.percent}%: ${p.done} done, ${p.skipped} skipped, ${p.failed} failed of ${p.total}`}
    >
      <div className="progress-fill tone-ok" style={{ width: p.total ? part(p.done) : `${p.percent}%` }} />
      <div className="progress-fill tone-skip" style={{ width: part(p.skipped) }} />
      <div className="progress-fill tone-bad" style={{ width: part(p.failed) }} />
    </div>
  );
}

/** A scan's OCR stage in pages read of pages found (whole when every document has ended, pages or not). */
export function OcrBar({ ocr: o, label }: { ocr: OcrProgress; label: string }) {
  const ended = o.documentsDone >= o.documents;
  const percent = o.pagesTotal > 0 ? (o.pagesDone / o.pagesTotal) * 100 : ended ? 100 : 0;
  return <ProgressBar value={percent} label={label} tone={ended ? 'ok' : 'accent'} />;
}

/**
 * One job, live: progress bar, counters, rate, ETA; a scan's OCR stage apart, in pages; cancel and
 * retry when the server has them.
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError, post } from '../lib/api.ts';
import { duration, folderLabel, num, usd } from '../lib/format.ts';
import { useJob, useOptionalRoutes } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { type Job, type OcrProgress, isFinal } from '../lib/types.ts';
import { JobBar, OcrBar } from './ProgressBar.tsx';
import { StatusBadge } from './StatusBadge.tsx';

interface Props {
  initial: Job;
  onEnd?: (job: Job) => void;
  /** Every update of the job, for pages that show more of it. */
  onChange?: (job: Job) => void;
  compact?: boolean;
}

/** A retried or cancelled job is followed again from the server's answer (a fresh stream). */
export function JobProgress(props: Props) {
  const [start, setStart] = useState<{ job: Job; gen: number }>({ job: props.initial, gen: 0 });
  return (
    <LiveJob
      key={`${start.job.id}:${start.gen}`}
      {...props}
      initial={start.job}
      onRestart={(job) => setStart((s) => ({ job, gen: s.gen + 1 }))}
    />
  );
}

function LiveJob({ initial, onEnd, onChange, compact = false, onRestart }: Props & { onRestart(job: Job): void }) {
  const { job: live, error } = useJob(isFinal(initial.status) ? null : initial.id, initial, onEnd);
  const job = live ?? initial;
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  useEffect(() => onChangeRef.current?.(job), [job]);
  const routes = useOptionalRoutes();
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const p = job.progress;
  const open = !isFinal(job.status);

  const act = async (action: 'cancel' | 'retry') => {
    setBusy(true);
    setActionError(null);
    try {
      onRestart(await post<Job>(`/v1/jobs/${job.id}/${action}`, {}));
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="job" data-testid="job-progress" data-status={job.status}>
      <div className="job-head">
        <span className="job-title">
          <Link to={`/jobs/${job.id}`}>
            {job.kind === 'scan' ? 'Scan' : 'Classification'} of {folderLabel(job.folder)}
          </Link>
        </span>
        <StatusBadge status={job.status} />
      </div>
      {job.ocr && <div className="job-stage">Extraction</div>}
      <JobBar progress={p} label={`${job.kind === 'scan' ? 'Scan' : 'Classification'} progress`} running={open} />
      <div className="job-stats" aria-live="polite">
        <span data-testid="job-percent">{p.percent.toFixed(p.percent === 100 ? 0 : 1)}%</span>
        <span>
          {num(p.done + p.failed + p.skipped)} / {num(p.total)} documents
        </span>
        {p.failed > 0 && <span className="text-bad">{num(p.failed)} failed</span>}
        {p.skipped > 0 && <span>{num(p.skipped)} skipped</span>}
        {job.rate !== null && <span>{job.rate} docs/s</span>}
        {open && job.etaSeconds !== null && <span>ETA {duration(job.etaSeconds)}</span>}
        {!open && job.durationMs !== null && <span>took {duration(job.durationMs / 1000)}</span>}
        {!compact && job.kind === 'classify' && job.usage.costUsd > 0 && <span>{usd(job.usage.costUsd)}</span>}
      </div>
      {job.ocr && <OcrStage ocr={job.ocr} open={open} />}
      {job.error && <p className="text-bad">{job.error.message}</p>}
      {error && <p className="text-bad">Live progress stopped: {error.message}</p>}
      {(routes.cancel || routes.retry) && (
        <div className="row">
          {routes.cancel && open && (
            <button type="button" className="btn" disabled={busy} onClick={() => void act('cancel')}>
              Cancel
            </button>
          )}
          {routes.retry && (job.status === 'failed' || job.status === 'cancelled' || (job.status === 'completed' && p.failed > 0)) && (
            <button type="button" className="btn" disabled={busy} onClick={() => void act('retry')}>
              Retry
            </button>
          )}
        </div>
      )}
      {actionError && <p className="text-bad">{actionError}</p>}
    </div>
  );
}

/** OCR runs after extraction at its own pace (seconds a page): its pages, documents, pace and time left. */
function OcrStage({ ocr: o, open }: { ocr: OcrProgress; open: boolean }) {
  return (
    <div data-testid="job-ocr">
      <div className="job-stage">OCR</div>
      <OcrBar ocr={o} label="OCR progress" />
      <div className="job-stats">
        <span data-testid="job-ocr-pages">
          {num(o.pagesDone)} / {num(o.pagesTotal)} pages
        </span>
        <span>
          {num(o.documentsDone)} / {num(o.documents)} documents
        </span>
        {o.pagesPerSecond !== null && <span>{o.pagesPerSecond} pages/s</span>}
        {open && o.etaSeconds !== null && <span>ETA {duration(o.etaSeconds)}</span>}
      </div>
    </div>
  );
}

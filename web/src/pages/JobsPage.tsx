/** All jobs, newest first, filterable; running ones move live. */
import { useEffect, useState } from 'react';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { JobBar, OcrBar } from '../components/ProgressBar.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { query } from '../lib/api.ts';
import { dateTime, duration, folderLabel, num } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { type Job, type Page, isFinal } from '../lib/types.ts';
import { JOB_KINDS, JOB_STATUSES } from '../lib/vocabulary.ts';

export function JobsPage() {
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [poll, setPoll] = useState(0);
  const cursor = cursors.at(-1) ?? null;
  const page = useApi<Page<Job>>(`/v1/jobs${query({ status, kind, cursor, limit: 25 })}`, poll);
  useEffect(() => {
    document.title = 'Jobs · docsight';
  }, []);
  // While a listed job is open, refresh the list every 2 s (one request for the whole page).
  const anyOpen = page.data?.items.some((j) => !isFinal(j.status)) ?? false;
  useEffect(() => {
    if (!anyOpen) return;
    const t = setInterval(() => setPoll((p) => p + 1), 2000);
    return () => clearInterval(t);
  }, [anyOpen]);

  const items = page.data?.items ?? [];
  return (
    <div className="page">
      <h1>Jobs</h1>
      <section className="card">
        <form className="filters" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
          <label className="field">
            <span>Status</span>
            <select
              value={status}
              onChange={(e) => {
                setStatus(e.target.value);
                setCursors([null]);
              }}
            >
              <option value="">Any</option>
              {JOB_STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Kind</span>
            <select
              value={kind}
              onChange={(e) => {
                setKind(e.target.value);
                setCursors([null]);
              }}
            >
              <option value="">Any</option>
              {JOB_KINDS.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </label>
        </form>
        {page.error && <ErrorNotice error={page.error} />}
        <div className="table-wrap">
          <table className="docs" data-testid="jobs-table">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Folder</th>
                <th scope="col">Status</th>
                <th scope="col" className="w-progress">
                  Progress
                </th>
                <th scope="col" className="num">
                  Documents
                </th>
                <th scope="col" className="num">
                  Failed
                </th>
                <th scope="col">Started</th>
                <th scope="col">Took</th>
              </tr>
            </thead>
            <tbody>
              {items.map((j) => (
                <tr key={j.id}>
                  <td>
                    <Link to={`/jobs/${j.id}`}>{j.kind === 'scan' ? 'Scan' : 'Classification'}</Link>
                    <div className="muted small mono">{j.id.slice(0, 8)}</div>
                  </td>
                  <td>{folderLabel(j.folder)}</td>
                  <td>
                    <StatusBadge status={j.status} />
                  </td>
                  <td>
                    <JobBar progress={j.progress} label={`Progress of job ${j.id.slice(0, 8)}`} running={!isFinal(j.status)} />
                    <span className="small muted">{j.progress.percent}%</span>
                    {j.ocr && (
                      <div data-testid="jobs-ocr">
                        <OcrBar ocr={j.ocr} label={`OCR progress of job ${j.id.slice(0, 8)}`} />
                        <span className="small muted">
                          OCR {num(j.ocr.pagesDone)} / {num(j.ocr.pagesTotal)} pages
                        </span>
                      </div>
                    )}
                  </td>
                  <td className="num">{num(j.progress.total)}</td>
                  <td className={`num${j.progress.failed ? ' text-bad' : ''}`}>{num(j.progress.failed)}</td>
                  <td>{dateTime(j.startedAt ?? j.createdAt)}</td>
                  <td>{j.durationMs === null ? '–' : duration(j.durationMs / 1000)}</td>
                </tr>
              ))}
              {!page.loading && items.length === 0 && (
                <tr>
                  <td colSpan={8} className="muted center">
                    No jobs yet. Start a scan from a folder page.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <div className="row end pager">
          <button type="button" className="btn" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            ← Newer
          </button>
          <button
            type="button"
            className="btn"
            disabled={!page.data?.nextCursor}
            onClick={() => {
              const next = page.data?.nextCursor;
              if (next) setCursors((c) => [...c, next]);
            }}
          >
            Older →
          </button>
        </div>
      </section>
    </div>
  );
}

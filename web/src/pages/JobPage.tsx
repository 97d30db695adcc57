/** One job: live progress, timings, usage and the documents that failed with their reasons. */
import { useEffect, useState } from 'react';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { JobProgress } from '../components/JobProgress.tsx';
import { announceDataChanged } from '../lib/changes.ts';
import { dateTime, folderLabel, num, usd } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link, folderHref } from '../lib/router.tsx';
import type { Job } from '../lib/types.ts';

export function JobPage({ id }: { id: string }) {
  const res = useApi<Job>(`/v1/jobs/${encodeURIComponent(id)}`);
  useEffect(() => {
    document.title = 'Job · docsight';
  }, []);
  if (res.error) return <ErrorNotice error={res.error} />;
  if (!res.data) return <p className="muted">Loading…</p>;
  return <JobDetail initial={res.data} />;
}

function JobDetail({ initial }: { initial: Job }) {
  // The page's facts follow the progress card's live job (one stream for both).
  const [job, setJob] = useState(initial);
  const params = Object.entries(job.params).filter(([k]) => k !== 'path');
  return (
    <div className="page">
      <h1>
        {job.kind === 'scan' ? 'Scan' : 'Classification'} of{' '}
        <Link to={folderHref(job.folder ?? '')}>{folderLabel(job.folder)}</Link>
      </h1>
      <section className="card">
        <JobProgress
          initial={initial}
          onChange={setJob}
          onEnd={() => announceDataChanged()}
        />
      </section>
      <div className="two-col">
        <section className="card" aria-labelledby="facts-h">
          <h2 id="facts-h" className="h-small">
            Details
          </h2>
          <dl className="kv wide">
            {(
              [
                ['Id', job.id],
                ['Created', dateTime(job.createdAt)],
                ['Started', dateTime(job.startedAt)],
                ['Finished', dateTime(job.finishedAt)],
                ['Documents', num(job.progress.total)],
                ['Done', num(job.progress.done)],
                ['Failed', num(job.progress.failed)],
                ['Skipped', num(job.progress.skipped)],
                ...(job.ocr
                  ? ([
                      ['OCR documents', `${num(job.ocr.documentsDone)} of ${num(job.ocr.documents)}`],
                      ['OCR pages', `${num(job.ocr.pagesDone)} of ${num(job.ocr.pagesTotal)}`],
                      ['OCR pages/s', job.ocr.pagesPerSecond === null ? '–' : String(job.ocr.pagesPerSecond)],
                    ] as [string, string][])
                  : []),
                ...(job.kind === 'classify'
                  ? ([
                      ['Input tokens', num(job.usage.inputTokens)],
                      ['Output tokens', num(job.usage.outputTokens)],
                      ['Cost', usd(job.usage.costUsd)],
                    ] as [string, string][])
                  : []),
                ...params.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as [string, string]),
              ] as [string, string][]
            ).map(([k, v]) => (
              <div className="kv-row" key={k}>
                <dt>{k}</dt>
                <dd className={k === 'Id' ? 'mono' : ''}>{v}</dd>
              </div>
            ))}
          </dl>
        </section>
        <section className="card" aria-labelledby="fail-h">
          <h2 id="fail-h" className="h-small">
            Failed documents
          </h2>
          {!job.failures?.length ? (
            <p className="muted">{job.progress.failed ? 'Loading…' : 'None.'}</p>
          ) : (
            <ul className="failures">
              {job.failures.map((f) => (
                <li key={f.documentId}>
                  <Link to={`/documents/${f.documentId}`}>{f.path}</Link>
                  <div className="small">
                    <code>{f.code}</code> {f.message}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}

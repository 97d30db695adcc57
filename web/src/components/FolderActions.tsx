/**
 * Scan and classify a folder, and the live progress of its running jobs. Finished jobs announce
 * a data change so the insights, table and tree reload with the new numbers.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, asApiError, downloadExport, get, post, query } from '../lib/api.ts';
import { announceDataChanged } from '../lib/changes.ts';
import { folderLabel, num, usd } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { type ClassificationEstimate, type Job, type Page, type Taxonomy, isFinal } from '../lib/types.ts';
import { CLASSIFICATION_MODES, type ClassificationMode } from '../lib/vocabulary.ts';
import { JobProgress } from './JobProgress.tsx';

export function FolderActions({ folder, title }: { folder: string; title: string }) {
  const [jobs, setJobs] = useState<Job[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [classifyOpen, setClassifyOpen] = useState(false);
  const [exportFormat, setExportFormat] = useState<'csv' | 'jsonl' | 'xlsx'>('csv');
  const [exporting, setExporting] = useState(false);

  // Jobs already running on this folder (started elsewhere, or before a reload).
  useEffect(() => {
    const ctl = new AbortController();
    setJobs([]);
    setError(null);
    get<Page<Job>>(`/v1/jobs${query({ limit: 50 })}`, ctl.signal).then(
      (page) => setJobs(page.items.filter((j) => !isFinal(j.status) && (j.folder ?? '') === folder)),
      (err: unknown) => {
        if (!ctl.signal.aborted) console.warn('could not list running jobs', err);
      },
    );
    return () => ctl.abort();
  }, [folder]);

  const started = (job: Job) => setJobs((js) => [job, ...js.filter((j) => j.id !== job.id)]);

  const scan = async () => {
    setBusy(true);
    setError(null);
    try {
      started(await post<Job>('/v1/scans', { path: folder || '.' }));
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const exportFolder = async () => {
    setExporting(true);
    setError(null);
    try {
      await downloadExport(folder, exportFormat);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setExporting(false);
    }
  };

  return (
    <section className="card actions" aria-labelledby="folder-h">
      <div className="page-head">
        <h1 id="folder-h">{title}</h1>
        <div className="row" role="group" aria-label="Actions">
          <button type="button" className="btn primary" onClick={() => void scan()} disabled={busy} data-testid="scan-button">
            {busy ? 'Starting…' : 'Scan folder'}
          </button>
          <button type="button" className="btn" aria-expanded={classifyOpen} aria-controls="classify-form" onClick={() => setClassifyOpen((o) => !o)}>
            Classify…
          </button>
          <select aria-label="Export format" value={exportFormat} onChange={(e) => setExportFormat(e.target.value as 'csv' | 'jsonl' | 'xlsx')}>
            <option value="csv">CSV</option>
            <option value="xlsx">Excel</option>
            <option value="jsonl">JSON Lines</option>
          </select>
          <button type="button" className="btn" onClick={() => void exportFolder()} disabled={exporting} data-testid="export-button">
            {exporting ? 'Exporting…' : 'Export'}
          </button>
        </div>
      </div>
      {error && <ErrorNotice error={error} />}
      {classifyOpen && <ClassifyForm folder={folder} onStarted={started} />}
      {jobs.length > 0 && (
        <div className="jobs-live" aria-label="Jobs on this folder">
          {jobs.map((j) => (
            <JobProgress key={j.id} initial={j} onEnd={() => announceDataChanged()} compact />
          ))}
        </div>
      )}
    </section>
  );
}

/** How the requests of a classification go (the API's `mode`), in words. */
const MODE_NAMES: Record<ClassificationMode, string> = {
  auto: 'Automatic (Batch API for large jobs, when the provider has it)',
  direct: 'Direct requests (answers at once)',
  batch: 'Batch API (lower price, answered within 24 h)',
};

function ClassifyForm({ folder, onStarted }: { folder: string; onStarted(job: Job): void }) {
  const taxonomies = useApi<{ items: Taxonomy[] }>('/v1/taxonomies');
  const [taxonomy, setTaxonomy] = useState('');
  const [language, setLanguage] = useState('');
  const [force, setForce] = useState(false);
  const [mode, setMode] = useState<ClassificationMode>('auto');
  const [estimate, setEstimate] = useState<ClassificationEstimate | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const body = (dryRun: boolean) => ({
    path: folder || '.',
    ...(taxonomy ? { taxonomy } : {}),
    ...(language.trim() ? { summaryLanguage: language.trim() } : {}),
    force,
    ...(mode !== 'auto' ? { mode } : {}),
    dryRun,
  });

  const send = async (dryRun: boolean) => {
    setBusy(true);
    setError(null);
    try {
      if (dryRun) setEstimate(await post<ClassificationEstimate>('/v1/classifications', body(true)));
      else {
        onStarted(await post<Job>('/v1/classifications', body(false)));
        setEstimate(null);
      }
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void send(false);
  };

  return (
    <form id="classify-form" className="classify-form" onSubmit={submit} aria-label={`Classify ${folderLabel(folder)}`}>
      <div className="form-grid">
        <label className="field">
          <span>Taxonomy</span>
          <select value={taxonomy} onChange={(e) => setTaxonomy(e.target.value)}>
            <option value="">Default (internal-documents)</option>
            {taxonomies.data?.items.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} (v{t.version}, {t.labels.length} labels)
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Summary language</span>
          <input
            value={language}
            onChange={(e) => setLanguage(e.target.value)}
            placeholder="e.g. en, nl"
            pattern="[A-Za-z]{2,3}(-[A-Za-z]{2,4})?"
            title='A language code such as "nl" or "en"'
            size={8}
          />
        </label>
        <label className="field">
          <span>Requests</span>
          <select
            value={mode}
            onChange={(e) => {
              setMode(e.target.value as ClassificationMode);
              // An estimate priced for the other mode would mislead.
              setEstimate(null);
            }}
          >
            {CLASSIFICATION_MODES.map((m) => (
              <option key={m} value={m}>
                {MODE_NAMES[m]}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
          <span>Force: classify again documents that already have a result</span>
        </label>
      </div>
      <div className="row">
        <button type="button" className="btn" disabled={busy} onClick={() => void send(true)}>
          Estimate cost
        </button>
        <button type="submit" className="btn primary" disabled={busy}>
          Start classification
        </button>
      </div>
      {estimate && (
        <p className="notice" role="status">
          {num(estimate.documents)} documents to classify with {estimate.model} ({estimate.taxonomy.name} v{estimate.taxonomy.version}): about{' '}
          {num(estimate.estimatedInputTokens)} input and {num(estimate.estimatedOutputTokens)} output tokens, {usd(estimate.estimatedCostUsd)}
          {estimate.mode === 'batch' ? " at the Batch API's price (answered within 24 h)" : ' in direct requests'}.
          {estimate.folderNotScanned && ' The folder has not been scanned yet: it will be scanned first, so the count may grow.'}
        </p>
      )}
      {error && <ErrorNotice error={error} />}
    </form>
  );
}

/** API errors in words for people; "no LLM configured" gets its own explanation. */
export function ErrorNotice({ error }: { error: ApiError }) {
  if (error.code === 'provider_not_configured') {
    return (
      <div className="notice notice-warn" role="alert">
        <strong>Classification is not set up on this server.</strong> An administrator needs to configure a language model: set{' '}
        <code>OPENAI_API_KEY</code> (OpenAI), or <code>OPENAI_BASE_URL</code> for an OpenAI-compatible server such as Ollama or vLLM, then
        restart docsight. Scans and folder insights work without it.
      </div>
    );
  }
  if (error.status === 401) {
    return (
      <div className="notice notice-warn" role="alert">
        This server needs an API key. Enter one with the <strong>API key</strong> button at the top.
      </div>
    );
  }
  return (
    <div className="notice notice-bad" role="alert">
      {error.message}
      {error.code === 'not_found' && (
        <>
          {' '}
          <Link to="/folders">Back to the documents root</Link>
        </>
      )}
    </div>
  );
}

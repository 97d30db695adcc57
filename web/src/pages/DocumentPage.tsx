/**
 * One document: file facts and normalised properties, the raw (Tika-keyed) metadata, tags with
 * confidence, summary, classification history, and why extraction failed when it did.
 */
import { useEffect, useState } from 'react';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { JobProgress } from '../components/JobProgress.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { ApiError, post } from '../lib/api.ts';
import { useDataTick } from '../lib/changes.ts';
import { bytes, dateTime, num, usd } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link, folderHref } from '../lib/router.tsx';
import type { Classification, DocumentDetail, Job } from '../lib/types.ts';

export function DocumentPage({ id, onLoaded }: { id: string; onLoaded(doc: DocumentDetail): void }) {
  const tick = useDataTick();
  const res = useApi<DocumentDetail>(`/v1/documents/${encodeURIComponent(id)}`, tick);
  const doc = res.data;
  useEffect(() => {
    if (doc) {
      onLoaded(doc);
      document.title = `${doc.name} · docsight`;
    }
  }, [doc, onLoaded]);
  if (res.error) return <ErrorNotice error={res.error} />;
  if (!doc) return <p className="muted">Loading…</p>;
  const meta = doc.metadata;
  const properties = asRecord(meta.properties);
  const raw = asRecord(meta.raw);
  const other = Object.fromEntries(Object.entries(meta).filter(([k]) => k !== 'properties' && k !== 'raw'));

  return (
    <div className="page">
      <div className="row spread">
        <h1 className="doc-title" data-testid="document-name">
          {doc.name}
        </h1>
        <StatusBadge status={doc.status} />
      </div>
      <p className="muted">
        in <Link to={folderHref(doc.folder)}>{doc.folder || 'Documents root'}</Link>
        {doc.deletedAt && <span className="badge tone-warn"> removed from disk {dateTime(doc.deletedAt)}</span>}
      </p>
      {doc.error && (
        <div className="notice notice-bad" role="alert" data-testid="document-error">
          <strong>Could not be read ({doc.error.code}).</strong> {doc.error.message ?? ''}
        </div>
      )}

      <div className="cards">
        <Card label="Size" value={bytes(doc.size)} />
        <Card label="Type" value={doc.format ?? doc.extension} />
        <Card label="Pages" value={num(doc.pageCount)} />
        <Card label="Words" value={num(doc.wordCount)} />
        <Card label="Language" value={doc.language ?? '–'} />
      </div>

      <div className="two-col">
        <section className="card" aria-labelledby="props-h">
          <h2 id="props-h" className="h-small">
            Properties
          </h2>
          <KeyValues
            rows={[
              ['Title', doc.title],
              ['Author', doc.author],
              ['Created', dateTime(doc.created)],
              ['Modified', dateTime(doc.modified)],
              ['Language', doc.language],
              ['Pages', num(doc.pageCount)],
              ['Words', num(doc.wordCount)],
              ['Path', doc.path],
              ['MIME type', doc.mimeType],
              ['File modified', dateTime(doc.mtime)],
              ['SHA-256', doc.sha256],
              ['First seen', dateTime(doc.firstSeenAt)],
              ['Last seen', dateTime(doc.lastSeenAt)],
              ['Extracted', dateTime(doc.extractedAt)],
              ['Extractions', num(doc.extractionCount)],
              ...Object.entries(properties).map(([k, v]) => [humanKey(k), show(v)] as [string, string]),
            ]}
          />
        </section>
        <ClassificationCard doc={doc} />
      </div>

      {doc.classificationHistory.length > 0 && <History items={doc.classificationHistory} />}

      <section className="card" aria-labelledby="raw-h">
        <h2 id="raw-h" className="h-small">
          Raw metadata
        </h2>
        <p className="muted small">As extracted, keyed the way Apache Tika names them.</p>
        {Object.keys(raw).length ? <KeyValues rows={Object.entries(raw).map(([k, v]) => [k, show(v)])} mono /> : <p className="muted">None.</p>}
        {Object.keys(other).length > 0 && (
          <details>
            <summary>Counts and structure</summary>
            <pre className="code">{JSON.stringify(other, null, 2)}</pre>
          </details>
        )}
      </section>

      {doc.textPreview !== null && (
        <section className="card" aria-labelledby="text-h">
          <h2 id="text-h" className="h-small">
            Text
          </h2>
          <p className="muted small">
            {num(doc.textLength)} characters{doc.textTruncated ? ' (stored text was cut at the limit)' : ''}; the first part:
          </p>
          <pre className="text-preview">{doc.textPreview}</pre>
        </section>
      )}
    </div>
  );
}

function ClassificationCard({ doc }: { doc: DocumentDetail }) {
  const c = doc.classification;
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const classify = async () => {
    setError(null);
    try {
      setJob(await post<Job>('/v1/classifications', { documentIds: [doc.id], force: Boolean(c) }));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
    }
  };
  return (
    <section className="card" aria-labelledby="class-h" data-testid="classification">
      <div className="row spread">
        <h2 id="class-h" className="h-small">
          Classification
        </h2>
        {doc.status === 'extracted' && (
          <button type="button" className="btn small" onClick={() => void classify()}>
            {c ? 'Classify again' : 'Classify'}
          </button>
        )}
      </div>
      {error && <ErrorNotice error={error} />}
      {job && <JobProgress initial={job} compact />}
      {!c ? (
        <p className="muted">Not classified yet.</p>
      ) : (
        <>
          <p>
            <span className="muted">Category</span> <strong>{c.primaryCategory}</strong>
            {c.needsReview && <span className="badge tone-warn">needs review</span>}
          </p>
          <ul className="tag-list" aria-label="Tags">
            {c.tags.map((t) => (
              <li key={t.label}>
                <span className="tag-name">{t.label}</span>
                <span className="confidence" aria-hidden="true">
                  <span style={{ width: `${Math.round(t.confidence * 100)}%` }} className={t.needsReview ? 'low' : ''} />
                </span>
                <span className="num">{Math.round(t.confidence * 100)}%</span>
                {t.needsReview && <span className="badge tone-warn">review</span>}
              </li>
            ))}
          </ul>
          <h3 className="h-tiny">Summary ({c.summaryLanguage})</h3>
          <p className="summary">{c.summary}</p>
          <p className="muted small">
            {c.model} · taxonomy v{c.taxonomyVersion} · {num(c.inputTokens + c.outputTokens)} tokens · {usd(c.costUsd)} · {dateTime(c.createdAt)}
          </p>
        </>
      )}
    </section>
  );
}

function History({ items }: { items: Classification[] }) {
  return (
    <section className="card" aria-labelledby="hist-h">
      <h2 id="hist-h" className="h-small">
        Classification history
      </h2>
      <div className="table-wrap">
        <table className="docs">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Category</th>
              <th scope="col">Tags</th>
              <th scope="col">Model</th>
              <th scope="col">Taxonomy</th>
              <th scope="col">Language</th>
              <th scope="col" className="num">
                Cost
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id}>
                <td>{dateTime(c.createdAt)}</td>
                <td>{c.primaryCategory}</td>
                <td>{c.tags.map((t) => `${t.label} ${Math.round(t.confidence * 100)}%`).join(', ')}</td>
                <td>{c.model}</td>
                <td>v{c.taxonomyVersion}</td>
                <td>{c.summaryLanguage}</td>
                <td className="num">{usd(c.costUsd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Card({ label, value }: { label: string; value: string }) {
  return (
    <div className="card stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value small">{value}</div>
    </div>
  );
}

function KeyValues({ rows, mono = false }: { rows: [string, string | null | undefined][]; mono?: boolean }) {
  return (
    <dl className={`kv wide${mono ? ' mono' : ''}`}>
      {rows
        .filter(([k, v], i) => v !== null && v !== undefined && v !== '' && v !== '–' && rows.findIndex(([k2]) => k2 === k) === i)
        .map(([k, v]) => (
          <div key={k} className="kv-row">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

const asRecord = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function show(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** "lastModifiedBy" → "Last modified by". */
const humanKey = (k: string) => {
  const s = k.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
};

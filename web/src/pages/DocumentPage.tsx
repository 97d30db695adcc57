/**
 * One document: file facts and normalised properties, the raw (Tika-keyed) metadata, tags with
 * confidence, summary, classification history, why extraction failed when it did, the e-mail or
 * archive it was found in, the documents inside it, and what OCR made of it.
 */
import { type ReactNode, useEffect, useState } from 'react';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { JobProgress } from '../components/JobProgress.tsx';
import { SimilarDocuments } from '../components/Duplicates.tsx';
import { OcrBadge, originLabel } from '../components/OcrBadge.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { ApiError, asApiError, post } from '../lib/api.ts';
import { useDataTick } from '../lib/changes.ts';
import { bytes, dateTime, num, usd } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link, folderHref } from '../lib/router.tsx';
import type { ChildDocument, Classification, DocumentDetail, FieldValue, Job, PiiSummary, TextSource } from '../lib/types.ts';

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
      {doc.parent && (
        <p data-testid="document-parent">
          <span className="muted">Inside:</span> <Link to={`/documents/${doc.parent.id}`}>{doc.parent.path}</Link>
          <span className="marker">{originLabel(doc.origin)}</span>
        </p>
      )}
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

      <SimilarDocuments id={doc.id} />

      {doc.personalData && <PersonalData data={doc.personalData} />}

      {(doc.children.length > 0 || doc.ocr || doc.textSource) && (
        <div className="two-col">
          {doc.children.length > 0 && <Children items={doc.children} />}
          {(doc.ocr || doc.textSource) && <OcrSection doc={doc} />}
        </div>
      )}

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
      setError(asApiError(err));
    }
  };
  return (
    <section className="card" aria-labelledby="class-h" data-testid="classification">
      <CardHeading id="class-h" title="Classification">
        {doc.status === 'extracted' && (
          <button type="button" className="btn small" onClick={() => void classify()}>
            {c ? 'Classify again' : 'Classify'}
          </button>
        )}
      </CardHeading>
      {error && <ErrorNotice error={error} />}
      {job && <JobProgress initial={job} compact />}
      {doc.sameContent.total > 0 && (
        <p className="small" data-testid="same-content">
          Same content as {num(doc.sameContent.total)} other document{doc.sameContent.total === 1 ? '' : 's'} (classified once):{' '}
          {doc.sameContent.items.map((o, i) => (
            <span key={o.id}>
              {i > 0 && ', '}
              <Link to={`/documents/${encodeURIComponent(o.id)}`}>{o.path}</Link>
            </span>
          ))}
          {doc.sameContent.total > doc.sameContent.items.length && ` and ${num(doc.sameContent.total - doc.sameContent.items.length)} more`}
        </p>
      )}
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
          <FieldValues fields={c.fields} />
          <p className="muted small">
            {c.model} · taxonomy v{c.taxonomyVersion} · {num(c.inputTokens + c.outputTokens)} tokens · {usd(c.costUsd)} · {dateTime(c.createdAt)}
          </p>
        </>
      )}
    </section>
  );
}

/** The custom fields the taxonomy asked for, in its order; "not found" where the model gave none. */
function FieldValues({ fields }: { fields: Record<string, FieldValue> | undefined }) {
  const entries = Object.entries(fields ?? {});
  if (entries.length === 0) return null;
  return (
    <>
      <h3 className="h-tiny">Fields</h3>
      <dl className="kv" data-testid="classification-fields">
        {entries.map(([name, value]) => (
          <div className="kv-row" key={name}>
            <dt>{name}</dt>
            <dd>{value === null ? <span className="muted">not found</span> : typeof value === 'number' ? num(value) : String(value)}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

/** Personal data found in the document: per kind, how many distinct values and up to three masked samples. */
function PersonalData({ data }: { data: PiiSummary }) {
  return (
    <section className="card" aria-labelledby="pii-doc-h" data-testid="document-personal-data">
      <h2 id="pii-doc-h" className="h-small">
        Personal data
      </h2>
      <dl className="kv">
        {Object.entries(data).map(([kind, f]) => (
          <div className="kv-row" key={kind}>
            <dt>
              {kind} ({num(f.count)})
            </dt>
            <dd>{f.samples.map((s) => `${s.masked} (${s.part})`).join(', ')}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/** The attachments or archive entries of this document, each a document of its own. */
function Children({ items }: { items: ChildDocument[] }) {
  const kinds = new Set(items.map((c) => c.origin));
  const title = kinds.size === 1 && kinds.has('attachment') ? 'Attachments' : kinds.size === 1 && kinds.has('archive-entry') ? 'Archive entries' : 'Inside this document';
  return (
    <section className="card" aria-labelledby="children-h" data-testid="document-children">
      <h2 id="children-h" className="h-small">
        {title} ({num(items.length)})
      </h2>
      <ul className="child-list">
        {items.map((c) => (
          <li key={c.id}>
            <Link to={`/documents/${c.id}`}>{c.name}</Link>
            <span className="muted small">
              {originLabel(c.origin)} · {c.format ?? 'unknown type'} · {bytes(c.size)}
            </span>
            <StatusBadge status={c.status} />
          </li>
        ))}
      </ul>
    </section>
  );
}

const TEXT_SOURCE_LABEL: Record<TextSource, string> = {
  'text-layer': 'Text layer (born digital)',
  ocr: 'OCR of scanned pages or images',
  mixed: 'Text layer and OCR (mixed)',
};

/** Where the text came from and, for a scan, what OCR made of it. */
function OcrSection({ doc }: { doc: DocumentDetail }) {
  const o = doc.ocr;
  return (
    <section className="card" aria-labelledby="ocr-doc-h" data-testid="document-ocr">
      <CardHeading id="ocr-doc-h" title="OCR">
        {o && <OcrBadge ocr={o} />}
      </CardHeading>
      {o?.lowConfidence && (
        <div className="notice notice-warn" data-testid="ocr-low-confidence">
          Low OCR confidence: the text read from this scan may be unreliable. Check it against the original.
        </div>
      )}
      {o?.error && (
        <div className={`notice ${o.status === 'failed' ? 'notice-bad' : 'notice-warn'}`} role={o.status === 'failed' ? 'alert' : undefined} data-testid="ocr-error">
          <strong>
            OCR {o.status} ({o.error.code}).
          </strong>{' '}
          {o.error.message ?? ''}
        </div>
      )}
      <KeyValues
        rows={[
          ['Text source', doc.textSource ? TEXT_SOURCE_LABEL[doc.textSource] : 'No text yet'],
          ['OCR status', o?.status ?? 'not needed'],
          ['Pages read', o ? num(o.pages) : null],
          ['Mean confidence', o?.confidence !== null && o?.confidence !== undefined ? `${o.confidence.toFixed(1)}%` : null],
          ['Languages', o?.languages.length ? o.languages.join(', ') : null],
        ]}
      />
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

/** A card's heading with what belongs beside it (a badge, an action). */
function CardHeading({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <div className="row spread">
      <h2 id={id} className="h-small">
        {title}
      </h2>
      {children}
    </div>
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

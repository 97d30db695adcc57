/**
 * The review queue of a folder: one document at a time, oldest result first. The reviewer removes
 * or adds tags (from the result's taxonomy), picks the primary category, corrects custom field
 * values (an input per field, by its type), and saves (or accepts the result as it is); the next
 * document follows. Only the fields the reviewer changed are sent: those count as gold in
 * evaluations, the ones left alone stay the model's answer.
 */
import { type ReactNode, useEffect, useState } from 'react';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { ApiError, asApiError, folderApi, patch } from '../lib/api.ts';
import { announceDataChanged } from '../lib/changes.ts';
import { dateTime, folderLabel, percent } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link, folderHref } from '../lib/router.tsx';
import type { FieldValue, ReviewQueuePage, Taxonomy, TaxonomyField } from '../lib/types.ts';

export function ReviewPage({ folder }: { folder: string }) {
  const [done, setDone] = useState(0);
  const queue = useApi<ReviewQueuePage>(`${folderApi(folder, 'review')}?limit=1`, done);
  const item = queue.data?.items[0] ?? null;
  const taxonomy = useApi<Taxonomy>(item ? `/v1/taxonomies/${item.taxonomyId}?version=${item.taxonomyVersion}` : null);
  const [tags, setTags] = useState<string[]>([]);
  const [primary, setPrimary] = useState('');
  /** Field values the reviewer changed, by name (text as typed for numbers: the server reads it as it reads the model's). */
  const [fieldEdits, setFieldEdits] = useState<Record<string, FieldValue>>({});
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    document.title = `Review ${folderLabel(folder)} · docsight`;
  }, [folder]);
  useEffect(() => {
    setTags(item ? item.tags.map((t) => t.label) : []);
    setPrimary(item?.primaryCategory ?? '');
    setFieldEdits({});
    setError(null);
  }, [item]);

  const save = async (body: Record<string, unknown>) => {
    if (!item) return;
    setSaving(true);
    setError(null);
    try {
      await patch(`/v1/documents/${item.id}/classification`, body);
      announceDataChanged();
      setDone((n) => n + 1);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setSaving(false);
    }
  };

  const labels = taxonomy.data?.labels.map((l) => l.name) ?? [];
  const addable = labels.filter((l) => !tags.includes(l));
  const confidence = new Map(item?.tags.map((t) => [t.label, t.confidence]) ?? []);
  const fieldDefs = taxonomy.data?.fields ?? [];
  const edited = Object.keys(fieldEdits).length > 0;

  return (
    <div className="page">
      <div className="page-head">
        <h1>Review: {folderLabel(folder)}</h1>
        <Link to={folderHref(folder)}>Back to the folder</Link>
      </div>
      <p className="muted">Documents whose result has a tag under the review threshold, oldest result first. A correction stays the document&apos;s result over later runs unless one is forced.</p>
      {queue.error && <ErrorNotice error={queue.error} />}
      {queue.data && !item && <p className="notice" data-testid="review-empty">Nothing to review here.</p>}
      {item && (
        <section className="card" aria-labelledby="review-doc" data-testid="review-item">
          <h2 id="review-doc">
            <Link to={`/documents/${item.id}`}>{item.path}</Link>
          </h2>
          <p className="muted">
            {item.model}, {dateTime(item.classifiedAt)}
          </p>
          {item.summary && <p>{item.summary}</p>}
          <h3>Tags</h3>
          <ul className="review-tags">
            {tags.map((t) => (
              <li key={t}>
                <span className={`tag${(confidence.get(t) ?? 1) < 1 && item.tags.find((x) => x.label === t)?.needsReview ? ' review' : ''}`}>
                  {t}
                  {confidence.has(t) ? ` · ${percent(confidence.get(t) ?? 0)}` : ''}
                </span>
                <button type="button" className="btn small" aria-label={`Remove ${t}`} disabled={tags.length === 1} onClick={() => setTags(tags.filter((x) => x !== t))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <label>
            Add a tag{' '}
            <select value="" onChange={(e) => e.target.value && setTags([...tags, e.target.value])} disabled={addable.length === 0}>
              <option value="">—</option>
              {addable.map((l) => (
                <option key={l}>{l}</option>
              ))}
            </select>
          </label>{' '}
          <label>
            Primary category{' '}
            <select value={primary} onChange={(e) => setPrimary(e.target.value)}>
              {[...new Set([primary, ...tags])].filter(Boolean).map((l) => (
                <option key={l}>{l}</option>
              ))}
            </select>
          </label>
          {fieldDefs.length > 0 && (
            <fieldset className="review-fields" data-testid="review-fields">
              <legend>Fields</legend>
              {fieldDefs.map((f) => (
                <FieldInput
                  key={f.name}
                  field={f}
                  value={Object.hasOwn(fieldEdits, f.name) ? (fieldEdits[f.name] ?? null) : (item.fields[f.name] ?? null)}
                  changed={Object.hasOwn(fieldEdits, f.name)}
                  onChange={(v) => setFieldEdits({ ...fieldEdits, [f.name]: v })}
                />
              ))}
            </fieldset>
          )}
          {error && <ErrorNotice error={error} />}
          <div className="actions">
            <button type="button" className="btn" disabled={saving || edited} title={edited ? 'Fields were changed: save them' : undefined} onClick={() => void save({ accept: true })}>
              Accept as it is
            </button>{' '}
            <button type="button" className="btn primary" disabled={saving || tags.length === 0} onClick={() => void save({ tags, primaryCategory: primary || undefined, ...(edited ? { fields: fieldEdits } : {}), accept: true })}>
              Save and next
            </button>
          </div>
        </section>
      )}
    </div>
  );
}

/**
 * One custom field's input, by its type: text, a number (typed as text: "1.234,50" is read as the
 * model's answers are, and an unreadable one is refused by the server), a date, yes/no, or one of
 * an enum's values. Empty (or "not found") sets null: the document has no such value.
 */
function FieldInput({ field, value, changed, onChange }: { field: TaxonomyField; value: FieldValue; changed: boolean; onChange(v: FieldValue): void }) {
  const text = (v: string) => onChange(v.trim() === '' ? null : v);
  let input: ReactNode;
  switch (field.type) {
    case 'boolean':
      input = (
        <select value={value === null ? '' : String(value)} onChange={(e) => onChange(e.target.value === '' ? null : e.target.value === 'true')}>
          <option value="">not found</option>
          <option value="true">yes</option>
          <option value="false">no</option>
        </select>
      );
      break;
    case 'enum':
      input = (
        <select value={value === null ? '' : String(value)} onChange={(e) => onChange(e.target.value === '' ? null : e.target.value)}>
          <option value="">not found</option>
          {[...new Set([...(field.values ?? []), ...(value === null ? [] : [String(value)])])].map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      );
      break;
    case 'date':
      input = <input type="date" value={value === null ? '' : String(value)} onChange={(e) => text(e.target.value)} />;
      break;
    case 'number':
      input = <input inputMode="decimal" value={value === null ? '' : String(value)} onChange={(e) => text(e.target.value)} placeholder="not found" size={14} />;
      break;
    case 'string':
      input = <input value={value === null ? '' : String(value)} onChange={(e) => text(e.target.value)} placeholder="not found" maxLength={1000} />;
  }
  return (
    <label className={`field${changed ? ' changed' : ''}`} title={field.description}>
      <span>
        {field.name} <small className="muted">({field.type})</small>
      </span>
      {input}
    </label>
  );
}

/**
 * Taxonomy editor. Saving an existing taxonomy makes a new version: earlier results keep the
 * version they were made with, and classifying again with the new version is explicit.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { ApiError, asApiError, post, put } from '../lib/api.ts';
import { announceDataChanged } from '../lib/changes.ts';
import { dateTime } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import type { Taxonomy, TaxonomyLabel } from '../lib/types.ts';

interface Draft {
  id: string | null;
  name: string;
  description: string;
  labels: TaxonomyLabel[];
}

const blank: Draft = { id: null, name: '', description: '', labels: [{ name: '', description: '' }] };

const draftOf = (t: Taxonomy): Draft => ({
  id: t.id,
  name: t.name,
  description: t.description ?? '',
  labels: t.labels.map((l) => ({ name: l.name, description: l.description ?? '' })),
});

export function TaxonomiesPage() {
  const list = useApi<{ items: Taxonomy[] }>('/v1/taxonomies');
  const [selected, setSelected] = useState<string | null>(null);
  // Saving remounts the editor on the new version, so the confirmation lives here.
  const [flash, setFlash] = useState<string | null>(null);
  const savedAs = (t: Taxonomy, created: boolean) => {
    setFlash(created ? `Created ${t.name}.` : `Saved ${t.name} as version ${t.version}.`);
    list.reload();
    setSelected(t.id);
  };
  useEffect(() => {
    document.title = 'Taxonomies · docsight';
  }, []);
  const items = list.data?.items ?? [];
  const current = items.find((t) => t.id === selected) ?? null;
  // Show the first taxonomy until the user picks one (or starts a new one).
  useEffect(() => {
    if (selected === null && items[0]) setSelected(items[0].id);
  }, [items, selected]);

  return (
    <div className="page">
      <h1>Taxonomies</h1>
      <p className="muted">The tags a classification may assign. Label descriptions go into the prompt, so say what belongs under each label.</p>
      {list.error && <ErrorNotice error={list.error} />}
      <div className="split">
        <section className="card" aria-labelledby="tax-list-h">
          <h2 id="tax-list-h" className="h-small">
            Taxonomies
          </h2>
          <ul className="pick-list">
            {items.map((t) => (
              <li key={t.id}>
                <button
                  type="button"
                  aria-current={t.id === selected ? 'true' : undefined}
                  onClick={() => {
                    setSelected(t.id);
                    setFlash(null);
                  }}
                >
                  <span>{t.name}</span>
                  <span className="muted small">
                    v{t.version} · {t.labels.length} labels
                    {t.fields.length > 0 && ` · ${t.fields.length} fields`}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <button
            type="button"
            className="btn"
            onClick={() => {
              setSelected('new');
              setFlash(null);
            }}
          >
            + New taxonomy
          </button>
        </section>
        {selected === 'new' ? (
          <Editor key="new" initial={blank} onSaved={(t) => savedAs(t, true)} />
        ) : current ? (
          <Editor key={`${current.id}:${current.version}`} initial={draftOf(current)} taxonomy={current} flash={flash} onSaved={(t) => savedAs(t, false)} />
        ) : null}
      </div>
    </div>
  );
}

function Editor({ initial, taxonomy, flash, onSaved }: { initial: Draft; taxonomy?: Taxonomy; flash?: string | null; onSaved(t: Taxonomy): void }) {
  const [draft, setDraft] = useState(initial);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const isNew = draft.id === null;

  const setLabel = (i: number, patch: Partial<TaxonomyLabel>) =>
    setDraft((d) => ({ ...d, labels: d.labels.map((l, j) => (j === i ? { ...l, ...patch } : l)) }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const labels = draft.labels
      .filter((l) => l.name.trim())
      .map((l) => ({ name: l.name.trim(), ...(l.description?.trim() ? { description: l.description.trim() } : {}) }));
    const description = draft.description.trim() || undefined;
    try {
      const t = isNew
        ? await post<Taxonomy>('/v1/taxonomies', { name: draft.name.trim(), description, labels })
        : await put<Taxonomy>(`/v1/taxonomies/${draft.id}`, { description, labels });
      announceDataChanged();
      onSaved(t);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card editor" onSubmit={(e) => void submit(e)} aria-labelledby="editor-h">
      <h2 id="editor-h" className="h-small">
        {isNew ? 'New taxonomy' : `${draft.name}`}
        {taxonomy && <span className="muted small"> · version {taxonomy.version}, updated {dateTime(taxonomy.updatedAt)}</span>}
      </h2>
      {isNew && (
        <label className="field">
          <span>Name</span>
          <input
            required
            value={draft.name}
            onChange={(e) => setDraft({ ...draft, name: e.target.value })}
            pattern="[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}"
            title="Letters, digits, space, _ . - (up to 64)"
          />
        </label>
      )}
      <label className="field">
        <span>Description</span>
        <textarea rows={2} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
      </label>
      <fieldset className="labels">
        <legend>Labels ({draft.labels.length})</legend>
        <table className="label-table">
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">What belongs under it</th>
              <th scope="col">
                <span className="sr-only">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {draft.labels.map((l, i) => (
              <tr key={i}>
                <td>
                  <input aria-label={`Label ${i + 1} name`} value={l.name} onChange={(e) => setLabel(i, { name: e.target.value })} maxLength={80} />
                </td>
                <td>
                  <input
                    aria-label={`Label ${i + 1} description`}
                    value={l.description ?? ''}
                    onChange={(e) => setLabel(i, { description: e.target.value })}
                    className="wide"
                  />
                </td>
                <td>
                  <button
                    type="button"
                    className="btn small"
                    aria-label={`Remove label ${l.name || i + 1}`}
                    onClick={() => setDraft((d) => ({ ...d, labels: d.labels.filter((_, j) => j !== i) }))}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" className="btn small" onClick={() => setDraft((d) => ({ ...d, labels: [...d.labels, { name: '', description: '' }] }))}>
          + Add label
        </button>
      </fieldset>
      {error && <ErrorNotice error={error} />}
      {flash && (
        <p className="notice notice-ok" role="status">
          {flash}
        </p>
      )}
      <div className="row end">
        <button type="button" className="btn" onClick={() => setDraft(initial)} disabled={busy}>
          Reset
        </button>
        <button type="submit" className="btn primary" disabled={busy}>
          {isNew ? 'Create' : `Save as version ${(taxonomy?.currentVersion ?? 0) + 1}`}
        </button>
      </div>
    </form>
  );
}

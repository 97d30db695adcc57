/**
 * Documents of a folder (with subfolders): sortable, filterable, one page at a time by cursor,
 * so a folder of 100,000 documents costs one page of rows. Previous pages are a stack of the
 * cursors already seen.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { folderApi, query } from '../lib/api.ts';
import { useDataTick } from '../lib/changes.ts';
import { bytes, date, num } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import type { Bucket, DocumentItem } from '../lib/types.ts';
import { DOCUMENT_ORIGIN_FILTERS, DOCUMENT_STATUSES, OCR_FILTERS, SENSITIVE_FILTERS } from '../lib/vocabulary.ts';
import { ErrorNotice } from './FolderActions.tsx';
import { OcrBadge, originLabel } from './OcrBadge.tsx';
import { StatusBadge } from './StatusBadge.tsx';

export interface Filters {
  status: string;
  format: string;
  extension: string;
  author: string;
  tag: string;
  modifiedFrom: string;
  modifiedTo: string;
  origin: string;
  ocr: string;
  /** A kind of personal data, or `any`. */
  sensitive: string;
}

export const NO_FILTERS: Filters = { status: '', format: '', extension: '', author: '', tag: '', modifiedFrom: '', modifiedTo: '', origin: '', ocr: '', sensitive: '' };

type SortKey = 'path' | 'name' | 'size' | 'modified' | 'title';

interface Options {
  formats: Bucket[];
  extensions: Bucket[];
  authors: Bucket[];
  tags: Bucket[];
}

export function DocumentsTable({
  folder,
  filters,
  setFilters,
  options,
  total,
}: {
  folder: string;
  filters: Filters;
  setFilters(f: Filters): void;
  options: Options;
  total: number | null;
}) {
  const [sort, setSort] = useState<{ key: SortKey; order: 'asc' | 'desc' }>({ key: 'path', order: 'asc' });
  const [limit, setLimit] = useState(50);
  const tick = useDataTick();
  // Any change of what is listed starts again at the first page: the cursors belong to one listing.
  const listing = JSON.stringify([folder, filters, sort, limit]);
  const [pages, setPages] = useState<{ listing: string; cursors: (string | null)[] }>({ listing, cursors: [null] });
  const cursors = pages.listing === listing ? pages.cursors : [null];
  const setCursors = (f: (c: (string | null)[]) => (string | null)[]) => setPages({ listing, cursors: f(cursors) });
  const cursor = cursors.at(-1) ?? null;

  const path =
    folderApi(folder, 'documents') +
    query({
      sort: sort.key,
      order: sort.order,
      limit,
      cursor,
      status: filters.status,
      format: filters.format,
      extension: filters.extension,
      author: filters.author,
      tag: filters.tag,
      origin: filters.origin,
      ocr: filters.ocr,
      sensitive: filters.sensitive,
      // Dates from the pickers are whole days: "to" includes that day.
      modifiedFrom: filters.modifiedFrom ? `${filters.modifiedFrom}T00:00:00Z` : '',
      modifiedTo: filters.modifiedTo ? `${filters.modifiedTo}T23:59:59.999Z` : '',
    });
  const page = useApi<{ items: DocumentItem[]; nextCursor: string | null }>(path, tick);
  const items = page.data?.items ?? [];
  const first = (cursors.length - 1) * limit + 1;
  const filtered = Object.values(filters).some(Boolean);

  const sortBy = (key: SortKey) =>
    setSort((s) => ({ key, order: s.key === key && s.order === 'asc' ? 'desc' : key === 'size' || key === 'modified' ? (s.key === key ? 'asc' : 'desc') : 'asc' }));

  const header = (key: SortKey | null, label: string, className = '') => {
    if (!key) return <th scope="col" className={className}>{label}</th>;
    const active = sort.key === key;
    return (
      <th scope="col" className={className} aria-sort={active ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none'}>
        <button type="button" className="sort" onClick={() => sortBy(key)}>
          {label}
          <span aria-hidden="true" className="sort-mark">
            {active ? (sort.order === 'asc' ? '▲' : '▼') : '↕'}
          </span>
        </button>
      </th>
    );
  };

  return (
    <section className="card" aria-labelledby="docs-h">
      <div className="row spread">
        <h2 id="docs-h" className="h-small">
          Documents
        </h2>
        <span className="muted small" data-testid="docs-range">
          {items.length > 0 ? `${num(first)}–${num(first + items.length - 1)}` : '0'}
          {!filtered && total !== null ? ` of ${num(total)}` : filtered ? ' (filtered)' : ''}
        </span>
      </div>
      <FilterForm filters={filters} setFilters={setFilters} options={options} />
      {page.error && <ErrorNotice error={page.error} />}
      <div className="table-wrap">
        <table className="docs" aria-busy={page.loading}>
          <thead>
            <tr>
              {header('name', 'Name')}
              {header('title', 'Title')}
              <th scope="col">Type</th>
              {header('size', 'Size', 'num')}
              {header('modified', 'Modified')}
              <th scope="col">Author</th>
              <th scope="col">Status</th>
              <th scope="col">Tags</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <td>
                  <Link to={`/documents/${d.id}`} className="doc-link">
                    {d.name}
                  </Link>
                  {d.origin !== 'file' && (
                    <span className="marker" data-testid="origin-marker" title={d.parent ? `Inside ${d.parent.path}` : undefined}>
                      {originLabel(d.origin)}
                    </span>
                  )}
                  {d.folder !== folder && <div className="muted small">{d.folder.slice(folder ? folder.length + 1 : 0)}</div>}
                </td>
                <td>{d.title ?? <span className="muted">–</span>}</td>
                <td>{d.format ?? d.extension}</td>
                <td className="num">{bytes(d.size)}</td>
                <td>{date(d.modified ?? d.mtime)}</td>
                <td>{d.author ?? <span className="muted">–</span>}</td>
                <td>
                  <StatusBadge status={d.status} />
                  {d.ocr && <OcrBadge ocr={d.ocr} />}
                  {d.error && <div className="small text-bad">{d.error.code}</div>}
                </td>
                <td>
                  {d.tags?.map((t) => (
                    <span key={t.label} className={`tag${t.needsReview ? ' review' : ''}`} title={`confidence ${Math.round(t.confidence * 100)}%`}>
                      {t.label}
                    </span>
                  )) ?? <span className="muted">–</span>}
                </td>
              </tr>
            ))}
            {!page.loading && items.length === 0 && (
              <tr>
                <td colSpan={8} className="muted center">
                  {filtered ? 'No documents match these filters.' : 'No documents here yet. Scan the folder to list them.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div className="row spread pager">
        <label className="field inline">
          <span>Rows per page</span>
          <select value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
            {[25, 50, 100, 200].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <div className="row">
          <button type="button" className="btn" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            ← Previous
          </button>
          <span className="muted small">Page {cursors.length}</span>
          <button
            type="button"
            className="btn"
            disabled={!page.data?.nextCursor || page.loading}
            onClick={() => {
              const next = page.data?.nextCursor;
              if (next) setCursors((c) => [...c, next]);
            }}
          >
            Next →
          </button>
        </div>
      </div>
    </section>
  );
}

function FilterForm({ filters, setFilters, options }: { filters: Filters; setFilters(f: Filters): void; options: Options }) {
  // Text fields apply on submit (Enter or the button), selects at once.
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [filters]);
  const set = (k: keyof Filters, v: string, now = false) => {
    const next = { ...draft, [k]: v };
    setDraft(next);
    if (now) setFilters(next);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const choice = (k: keyof Filters, label: string, buckets: Bucket[], fixed?: readonly string[]) => (
    <label className="field">
      <span>{label}</span>
      <select value={draft[k]} onChange={(e) => set(k, e.target.value, true)}>
        <option value="">Any</option>
        {(fixed ?? buckets.map((b) => b.key).filter((v): v is string => v !== null)).map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
        {draft[k] && !(fixed ?? buckets.map((b) => b.key)).includes(draft[k]) && <option value={draft[k]}>{draft[k]}</option>}
      </select>
    </label>
  );
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter documents">
      {choice('status', 'Status', [], DOCUMENT_STATUSES)}
      {choice('format', 'Type', options.formats)}
      {choice('extension', 'Extension', options.extensions)}
      <label className="field">
        <span>Author</span>
        <input list="authors" value={draft.author} onChange={(e) => set('author', e.target.value)} placeholder="Any" />
        <datalist id="authors">
          {options.authors.map((b) => b.key && <option key={b.key} value={b.key} />)}
        </datalist>
      </label>
      {choice('tag', 'Tag', options.tags)}
      {choice('origin', 'Found as', [], DOCUMENT_ORIGIN_FILTERS)}
      {choice('ocr', 'OCR', [], OCR_FILTERS)}
      {choice('sensitive', 'Personal data', [], SENSITIVE_FILTERS)}
      <label className="field">
        <span>Modified from</span>
        <input type="date" value={draft.modifiedFrom} onChange={(e) => set('modifiedFrom', e.target.value, true)} />
      </label>
      <label className="field">
        <span>Modified to</span>
        <input type="date" value={draft.modifiedTo} onChange={(e) => set('modifiedTo', e.target.value, true)} />
      </label>
      <div className="filter-buttons">
        <button type="submit" className="btn small">
          Apply
        </button>
        <button type="button" className="btn small" onClick={() => setFilters(NO_FILTERS)} disabled={!Object.values(filters).some(Boolean)}>
          Clear
        </button>
      </div>
    </form>
  );
}

/**
 * Search: words over text, metadata, tags and summaries, with the facets of every match; a facet's
 * count narrows the search to it. The query and filters live in the URL, so a search is a link.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { query } from '../lib/api.ts';
import { date, folderLabel, num, PII_LABELS } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import type { FacetBucket, SearchResult } from '../lib/types.ts';
import { SENSITIVE_FILTERS, type SensitiveFilter } from '../lib/vocabulary.ts';

const isSensitive = (k: string | null | undefined): k is SensitiveFilter => (SENSITIVE_FILTERS as readonly (string | null | undefined)[]).includes(k);

/** The search's parameters as the URL holds them (those the page sets). */
const PARAMS = ['q', 'path', 'type', 'tag', 'sensitive'] as const;
type Params = Partial<Record<(typeof PARAMS)[number], string>>;

export const sensitiveLabel = (k: SensitiveFilter): string => (k === 'any' ? 'Any personal data' : PII_LABELS[k]);

export function searchHref(p: Params): string {
  return `/search${query(p)}`;
}

export function SearchPage() {
  const { search } = useLocation();
  const params: Params = {};
  for (const k of PARAMS) {
    const v = search.get(k);
    if (v) params[k] = v;
  }
  const [text, setText] = useState(params.q ?? '');
  useEffect(() => setText(params.q ?? ''), [params.q]);
  useEffect(() => {
    document.title = 'Search · docsight';
  }, []);
  const [cursors, setCursors] = useState<{ for: string; list: (string | null)[] }>({ for: '', list: [null] });
  const key = JSON.stringify(params);
  const list = cursors.for === key ? cursors.list : [null];
  const cursor = list.at(-1) ?? null;
  const res = useApi<SearchResult>(`/v1/search${query({ ...params, limit: 20, cursor })}`);
  const r = res.data;

  const go = (p: Params) => navigate(searchHref(p));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go({ ...params, q: text.trim() || undefined });
  };
  const narrow = (k: keyof Params, v: string | undefined) => go({ ...params, [k]: v });

  return (
    <div className="page">
      <h1>Search</h1>
      <form className="filters" onSubmit={submit} aria-label="Search documents">
        <label className="field">
          <span>Words</span>
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder='offerte "tot stand" -concept' data-testid="search-q" />
        </label>
        <button type="submit" className="btn">
          Search
        </button>
      </form>
      <Active params={params} onClear={(k) => narrow(k, undefined)} />
      {res.error && <ErrorNotice error={res.error} />}
      {r && (
        <div className="search-layout">
          <aside className="search-facets" aria-label="Facets">
            <Facet
              title="Personal data"
              testId="facet-sensitive"
              buckets={r.facets.sensitive}
              label={(k) => (isSensitive(k) ? sensitiveLabel(k) : String(k))}
              onPick={(k) => narrow('sensitive', k ?? undefined)}
              footer={`${num(r.total - (r.facets.sensitive.find((b) => b.key === 'any')?.count ?? 0))} without personal data found`}
            />
            <Facet title="Type" testId="facet-type" buckets={r.facets.type} onPick={(k) => k && narrow('type', k)} />
            <Facet title="Tag" testId="facet-tag" buckets={r.facets.tag} onPick={(k) => k && narrow('tag', k)} />
          </aside>
          <section aria-label="Results">
            <p className="muted" data-testid="search-total">
              {r.totalExact ? '' : 'at least '}
              {num(r.total)} document{r.total === 1 ? '' : 's'}
              {r.unindexed > 0 ? ` · ${num(r.unindexed)} not searchable by text yet` : ''}
            </p>
            <ol className="search-hits">
              {r.items.map((h) => (
                <li key={h.id}>
                  <Link to={`/documents/${encodeURIComponent(h.id)}`}>{h.title || h.name}</Link>
                  <span className="muted small">
                    {' '}
                    {h.path} · {h.type ?? '–'} · {date(h.modified)}
                  </span>
                  {h.snippet.length > 0 && (
                    <p className="small">
                      {h.snippet.map((s, i) => (s.match ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
                    </p>
                  )}
                </li>
              ))}
            </ol>
            <div className="pager">
              <button type="button" className="btn small" disabled={list.length < 2} onClick={() => setCursors({ for: key, list: list.slice(0, -1) })}>
                Previous
              </button>
              <button type="button" className="btn small" disabled={!r.nextCursor} onClick={() => setCursors({ for: key, list: [...list, r.nextCursor] })}>
                Next
              </button>
            </div>
          </section>
        </div>
      )}
    </div>
  );
}

function Active({ params, onClear }: { params: Params; onClear(k: keyof Params): void }) {
  const shown = (['path', 'type', 'tag', 'sensitive'] as const).filter((k) => params[k]);
  if (shown.length === 0) return null;
  return (
    <p className="small" data-testid="search-active">
      Only:{' '}
      {shown.map((k) => {
        const v = params[k] ?? '';
        const text = k === 'path' ? folderLabel(v) : k === 'sensitive' && isSensitive(v) ? sensitiveLabel(v) : v;
        return (
          <button key={k} type="button" className="btn small" onClick={() => onClear(k)} title="Remove this filter">
            {text} ✕
          </button>
        );
      })}
    </p>
  );
}

function Facet({
  title,
  testId,
  buckets,
  label = (k) => k ?? '(none)',
  onPick,
  footer,
}: {
  title: string;
  testId: string;
  buckets: FacetBucket[];
  label?: (k: string | null) => string;
  onPick(k: string | null): void;
  footer?: string;
}) {
  return (
    <section className="card" data-testid={testId}>
      <h2 className="h-small">{title}</h2>
      {buckets.length === 0 ? (
        <p className="muted small">None</p>
      ) : (
        <dl className="kv counts">
          {buckets.map((b) => (
            <div className="kv-row" key={String(b.key)}>
              <dt>{label(b.key)}</dt>
              <dd className="num">
                <button type="button" className="linklike" data-testid={`${testId}-${b.key ?? 'none'}`} onClick={() => onPick(b.key)}>
                  {num(b.count)}
                </button>
              </dd>
            </div>
          ))}
        </dl>
      )}
      {footer && <p className="muted small">{footer}</p>}
    </section>
  );
}

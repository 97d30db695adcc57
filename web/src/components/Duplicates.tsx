/**
 * Duplicates and versions: a folder's groups of exact copies and of versions (members oldest
 * first, with how alike each is to the newest and the version words in its name), and the
 * documents like one document.
 */
import { useDataTick } from '../lib/changes.ts';
import { bytes, date, num, percent } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import type { DuplicatesPage, SimilarDocument } from '../lib/types.ts';

export function DuplicatesPanel({ folder }: { folder: string }) {
  const tick = useDataTick();
  const res = useApi<DuplicatesPage>(`/v1/folders/${encodeURIComponent(folder === '' ? '.' : folder)}/duplicates?limit=50`, tick);
  const page = res.data;
  if (!page || page.items.length === 0) return null;
  const s = page.summary;
  return (
    <section className="card" aria-labelledby="duplicates-h" data-testid="duplicates">
      <h2 id="duplicates-h" className="h-small">
        Duplicates and versions ({num(s.groups)} groups, {bytes(s.wastedBytes)} beyond one of each)
      </h2>
      <p className="muted small">
        {num(s.exactGroups)} groups of identical files, {num(s.nearGroups)} of versions or near copies (at least {percent(page.threshold)} alike).
      </p>
      {page.items.map((g) => (
        <div key={g.key} className="duplicate-group" data-testid="duplicate-group">
          <p>
            <span className="badge">{g.kind === 'exact' ? 'identical' : `versions · ${percent(g.similarity)} alike or more`}</span>{' '}
            <span className="muted small">{bytes(g.wastedBytes)} beyond the largest</span>
          </p>
          <ul className="child-list">
            {g.members.map((m) => (
              <li key={m.id}>
                <Link to={`/documents/${m.id}`}>{m.path}</Link>
                <span className="muted small">
                  {date(m.modified)} · {bytes(m.size)} · {m.exactCopy ? 'identical copy' : `${percent(m.similarity)} like the newest`}
                </span>
                {m.versionHints.map((h) => (
                  <span key={h} className="marker">
                    {h}
                  </span>
                ))}
              </li>
            ))}
          </ul>
        </div>
      ))}
      {page.nextCursor && <p className="muted small">More groups: GET /v1/folders/…/duplicates with the cursor.</p>}
    </section>
  );
}

export function SimilarDocuments({ id }: { id: string }) {
  const tick = useDataTick();
  const res = useApi<{ threshold: number; items: SimilarDocument[] }>(`/v1/documents/${encodeURIComponent(id)}/similar`, tick);
  const items = res.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section className="card" aria-labelledby="similar-h" data-testid="similar-documents">
      <h2 id="similar-h" className="h-small">
        Similar documents ({num(items.length)})
      </h2>
      <ul className="child-list">
        {items.map((d) => (
          <li key={d.id}>
            <Link to={`/documents/${d.id}`}>{d.path}</Link>
            <span className="muted small">
              {d.identical ? 'identical copy' : `${percent(d.similarity)} alike`} · {date(d.modified)} · {bytes(d.size)}
            </span>
            {d.versionHints.map((h) => (
              <span key={h} className="marker">
                {h}
              </span>
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}

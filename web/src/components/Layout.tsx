/** The frame of every page: left nav with the folder tree, header with the breadcrumb, main area. */
import type { MouseEvent, ReactNode } from 'react';
import { getApiKey, post } from '../lib/api.ts';
import { useApi } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import type { Health, Me } from '../lib/types.ts';
import { Breadcrumb, type Crumbs } from './Breadcrumb.tsx';
import { FolderTree } from './FolderTree.tsx';

export type Section = 'folders' | 'search' | 'jobs' | 'taxonomies' | 'sources' | 'evaluations' | 'webhooks' | 'other';

/**
 * bull-board cannot send the key as a header: ask the API for a session cookie limited to
 * /admin/queues first, then open it (a failure is shown by the page the API answers with).
 */
function openQueues(e: MouseEvent<HTMLAnchorElement>) {
  e.preventDefault();
  const go = () => window.location.assign('/admin/queues');
  post<{ url: string }>('/v1/admin/queue-session', {}).then(go, go);
}

export function Layout({
  section,
  crumbs,
  treeFolder,
  roots,
  me,
  onKey,
  children,
}: {
  section: Section;
  crumbs: Crumbs;
  treeFolder: string | null;
  /** Where the folder tree starts: [''] (the documents root) or a scoped key's folders; null while unknown. */
  roots: string[] | null;
  me: Me | null;
  onKey(): void;
  children: ReactNode;
}) {
  const health = useApi<Health>('/health');
  const nav: { to: string; label: string; id: Section }[] = [
    { to: '/folders', label: 'Folders', id: 'folders' },
    { to: '/search', label: 'Search', id: 'search' },
    { to: '/jobs', label: 'Jobs', id: 'jobs' },
    { to: '/taxonomies', label: 'Taxonomies', id: 'taxonomies' },
    // Sources are deployment-wide: only an admin key without folder scopes manages them.
    ...(me?.role === 'admin' && me.scopes.length === 0 ? [{ to: '/sources', label: 'Sources', id: 'sources' as const }] : []),
    { to: '/evaluations', label: 'Evaluations', id: 'evaluations' },
    { to: '/webhooks', label: 'Webhooks', id: 'webhooks' },
  ];
  return (
    <div className="shell">
      <a href="#main" className="skip">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <Link to="/folders">
            <span className="logo" aria-hidden="true">
              ◧
            </span>{' '}
            docsight
          </Link>
        </div>
        <nav aria-label="Main" className="mainnav">
          <ul>
            {nav.map((n) => (
              <li key={n.id}>
                <Link to={n.to} aria-current={section === n.id ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <h2 className="side-h">Folders</h2>
        {roots && <FolderTree key={roots.join('\n')} current={treeFolder} roots={roots} />}
        <div className="side-foot">
          <a href="/docs">API docs</a>
          {health.data?.mode.queue === 'bullmq' && me?.role === 'admin' && me.scopes.length === 0 && (
            <a href="/admin/queues" onClick={openQueues}>
              Queue dashboard
            </a>
          )}
          {health.data && (
            <span className="muted small">
              v{health.data.version} · {health.data.mode.database} db · {health.data.mode.queue} queue
            </span>
          )}
        </div>
      </aside>
      <div className="content">
        <header className="topbar">
          <Breadcrumb {...crumbs} roots={roots} />
          <div className="topbar-right">
            {health.error && <span className="badge tone-bad">server unreachable</span>}
            <button type="button" className="btn small" onClick={onKey}>
              {getApiKey() ? 'API key ✓' : health.data?.auth === 'required' ? 'Enter API key' : 'API key'}
            </button>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}

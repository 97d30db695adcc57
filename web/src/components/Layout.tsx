/** The frame of every page: left nav with the folder tree, header with the breadcrumb, main area. */
import type { ReactNode } from 'react';
import { getApiKey } from '../lib/api.ts';
import { useApi } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import type { Health } from '../lib/types.ts';
import { Breadcrumb, type Crumbs } from './Breadcrumb.tsx';
import { FolderTree } from './FolderTree.tsx';

export type Section = 'folders' | 'jobs' | 'taxonomies' | 'other';

export function Layout({
  section,
  crumbs,
  treeFolder,
  onKey,
  children,
}: {
  section: Section;
  crumbs: Crumbs;
  treeFolder: string | null;
  onKey(): void;
  children: ReactNode;
}) {
  const health = useApi<Health>('/health');
  const nav: { to: string; label: string; id: Section }[] = [
    { to: '/folders', label: 'Folders', id: 'folders' },
    { to: '/jobs', label: 'Jobs', id: 'jobs' },
    { to: '/taxonomies', label: 'Taxonomies', id: 'taxonomies' },
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
        <FolderTree current={treeFolder} />
        <div className="side-foot">
          <a href="/docs">API docs</a>
          {health.data && (
            <span className="muted small">
              v{health.data.version} · {health.data.mode.database} db · {health.data.mode.queue} queue
            </span>
          )}
        </div>
      </aside>
      <div className="content">
        <header className="topbar">
          <Breadcrumb {...crumbs} />
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

/** Routes of the dashboard (client side; the API serves index.html for each of them). */
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { KeyDialog } from './components/KeyDialog.tsx';
import { Layout, type Section } from './components/Layout.tsx';
import type { Crumbs } from './components/Breadcrumb.tsx';
import { onUnauthorized } from './lib/api.ts';
import { useMe } from './lib/hooks.ts';
import { Link, folderFromPath, folderHref, navigate, useLocation } from './lib/router.tsx';
import type { DocumentDetail } from './lib/types.ts';
import { DocumentPage } from './pages/DocumentPage.tsx';
import { FolderPage } from './pages/FolderPage.tsx';
import { JobPage } from './pages/JobPage.tsx';
import { JobsPage } from './pages/JobsPage.tsx';
import { SourcesPage } from './pages/SourcesPage.tsx';
import { SearchPage } from './pages/SearchPage.tsx';
import { TaxonomiesPage } from './pages/TaxonomiesPage.tsx';
import { EvaluationsPage } from './pages/EvaluationsPage.tsx';
import { ReviewPage } from './pages/ReviewPage.tsx';
import { WebhooksPage } from './pages/WebhooksPage.tsx';

export function App() {
  const { pathname } = useLocation();
  const [keyDialog, setKeyDialog] = useState<{ open: boolean; reason: string | null }>({ open: false, reason: null });
  const [docCrumbs, setDocCrumbs] = useState<{ id: string; folder: string; name: string } | null>(null);

  useEffect(
    () =>
      onUnauthorized(() =>
        setKeyDialog({ open: true, reason: 'The server asked for an API key (or did not accept the one entered).' }),
      ),
    [],
  );
  const { me, roots } = useMe();
  const atRoot = pathname === '/' || pathname === '/folders' || pathname === '/folders/';
  // A scoped key may not see the documents root (404): with one folder, start there.
  const only = roots?.length === 1 ? roots[0] : undefined;
  const startAt = atRoot && only !== undefined && only !== '' ? only : null;
  useEffect(() => {
    if (startAt !== null) navigate(folderHref(startAt), { replace: true });
  }, [startAt]);
  const onDocLoaded = useCallback((d: DocumentDetail) => setDocCrumbs({ id: d.id, folder: d.folder, name: d.name }), []);

  let section: Section = 'other';
  let crumbs: Crumbs = { folder: null };
  let treeFolder: string | null = null;
  let page: ReactNode;
  const docMatch = /^\/documents\/([^/]+)$/.exec(pathname);
  const jobMatch = /^\/jobs\/([^/]+)$/.exec(pathname);

  if (atRoot && (roots === null || startAt !== null)) {
    // Waiting to learn what the key may see (or about to go there).
    section = 'folders';
    page = <p className="muted">Loading…</p>;
  } else if (atRoot && roots && !roots.includes('')) {
    section = 'folders';
    crumbs = { folder: null, leaf: 'Your folders' };
    page = (
      <div className="page">
        <h1>Your folders</h1>
        <p className="muted">This API key sees these folders and what is inside them.</p>
        <ul className="scope-list">
          {roots.map((r) => (
            <li key={r}>
              <Link to={folderHref(r)}>{r}</Link>
            </li>
          ))}
        </ul>
      </div>
    );
  } else if (pathname === '/' || pathname === '/folders' || pathname.startsWith('/folders/')) {
    const folder = folderFromPath(pathname);
    section = 'folders';
    crumbs = { folder };
    treeFolder = folder;
    page = <FolderPage folder={folder} />;
  } else if (pathname === '/review' || pathname.startsWith('/review/')) {
    const folder = folderFromPath(pathname);
    section = 'folders';
    crumbs = { folder, leaf: 'Review' };
    treeFolder = folder;
    page = <ReviewPage folder={folder} />;
  } else if (pathname === '/evaluations') {
    section = 'evaluations';
    crumbs = { folder: null, leaf: 'Evaluations' };
    page = <EvaluationsPage />;
  } else if (docMatch?.[1]) {
    const id = decodeURIComponent(docMatch[1]);
    const known = docCrumbs?.id === id ? docCrumbs : null;
    section = 'folders';
    crumbs = known ? { folder: known.folder, leaf: known.name } : { folder: null, leaf: 'Document' };
    treeFolder = known?.folder ?? null;
    page = <DocumentPage id={id} onLoaded={onDocLoaded} />;
  } else if (pathname === '/jobs') {
    section = 'jobs';
    crumbs = { folder: null, leaf: 'Jobs' };
    page = <JobsPage />;
  } else if (jobMatch?.[1]) {
    section = 'jobs';
    crumbs = { folder: null, leaf: 'Job' };
    page = <JobPage id={decodeURIComponent(jobMatch[1])} />;
  } else if (pathname === '/search') {
    section = 'search';
    crumbs = { folder: null, leaf: 'Search' };
    page = <SearchPage />;
  } else if (pathname === '/taxonomies') {
    section = 'taxonomies';
    crumbs = { folder: null, leaf: 'Taxonomies' };
    page = <TaxonomiesPage />;
  } else if (pathname === '/sources') {
    section = 'sources';
    crumbs = { folder: null, leaf: 'Sources' };
    page = <SourcesPage />;
  } else if (pathname === '/webhooks') {
    section = 'webhooks';
    crumbs = { folder: null, leaf: 'Webhooks' };
    page = <WebhooksPage />;
  } else {
    crumbs = { folder: null, leaf: 'Not found' };
    page = (
      <div className="page">
        <h1>Page not found</h1>
        <p>
          Nothing lives at <code>{pathname}</code>. <a href="/folders">Go to the documents root</a>.
        </p>
      </div>
    );
  }

  return (
    <>
      <Layout section={section} crumbs={crumbs} treeFolder={treeFolder} roots={roots} me={me} onKey={() => setKeyDialog({ open: true, reason: null })}>
        {page}
      </Layout>
      <KeyDialog open={keyDialog.open} reason={keyDialog.reason} onClose={() => setKeyDialog({ open: false, reason: null })} />
    </>
  );
}

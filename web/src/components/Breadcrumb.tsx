/** The folder breadcrumb in the header: Documents root / Company A / Project 1 [/ document]. */
import { Link, folderHref } from '../lib/router.tsx';

export interface Crumbs {
  folder: string | null;
  /** A last, unlinked item (a document name, "Jobs"). */
  leaf?: string;
}

export function Breadcrumb({ folder, leaf }: Crumbs) {
  const parts = folder ? folder.split('/').filter((p) => p && p !== '.') : [];
  return (
    <nav aria-label="Breadcrumb" className="breadcrumb">
      <ol>
        {folder !== null && (
          <li>
            {parts.length === 0 && !leaf ? <span aria-current="page">Documents root</span> : <Link to={folderHref('')}>Documents root</Link>}
          </li>
        )}
        {parts.map((p, i) => {
          const rel = parts.slice(0, i + 1).join('/');
          const last = i === parts.length - 1 && !leaf;
          return <li key={rel}>{last ? <span aria-current="page">{p}</span> : <Link to={folderHref(rel)}>{p}</Link>}</li>;
        })}
        {leaf && (
          <li>
            <span aria-current="page">{leaf}</span>
          </li>
        )}
      </ol>
    </nav>
  );
}

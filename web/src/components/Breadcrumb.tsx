/** The folder breadcrumb in the header: Documents root / Company A / Project 1 [/ document]. */
import { Link, folderHref, isInside } from '../lib/router.tsx';

export interface Crumbs {
  folder: string | null;
  /** A last, unlinked item (a document name, "Jobs"). */
  leaf?: string;
}

/**
 * `roots` are the folders the key may see ([''] or null: everything). A scoped key's trail starts
 * at "Your folders", and folders above its scopes are shown as text, not links that would 404.
 */
export function Breadcrumb({ folder, leaf, roots }: Crumbs & { roots: string[] | null }) {
  const parts = folder ? folder.split('/').filter((p) => p && p !== '.') : [];
  const all = roots === null || roots.includes('');
  const top = all ? 'Documents root' : 'Your folders';
  const visible = (rel: string) => all || roots.some((r) => isInside(r, rel));
  return (
    <nav aria-label="Breadcrumb" className="breadcrumb">
      <ol>
        {folder !== null && (
          <li>
            {parts.length === 0 && !leaf ? <span aria-current="page">{top}</span> : <Link to={folderHref('')}>{top}</Link>}
          </li>
        )}
        {parts.map((p, i) => {
          const rel = parts.slice(0, i + 1).join('/');
          const last = i === parts.length - 1 && !leaf;
          return <li key={rel}>{last ? <span aria-current="page">{p}</span> : visible(rel) ? <Link to={folderHref(rel)}>{p}</Link> : <span>{p}</span>}</li>;
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

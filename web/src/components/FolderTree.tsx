/**
 * The folder browser: the documents root and its subfolders with recursive document counts.
 * Children load when a folder is opened (one insights call per folder), so a root with
 * thousands of folders costs nothing until someone looks.
 */
import { useEffect, useRef, useState } from 'react';
import { get, folderApi } from '../lib/api.ts';
import { useDataTick } from '../lib/changes.ts';
import { num } from '../lib/format.ts';
import { Link, folderHref, isInside } from '../lib/router.tsx';
import type { Bucket, FolderInsights } from '../lib/types.ts';

type Children = Bucket[] | 'loading' | { error: string };

export function FolderTree({ current, roots }: { current: string | null; roots: string[] }) {
  const [children, setChildren] = useState<Record<string, Children>>({});
  const [open, setOpen] = useState<Set<string>>(() => new Set([...roots, ...ancestorsWithin(roots, current)]));
  const [counts, setCounts] = useState<Record<string, number>>({});
  const tick = useDataTick();

  const load = (folder: string) => {
    setChildren((c) => ({ ...c, [folder]: c[folder] && c[folder] !== 'loading' ? c[folder] : 'loading' }));
    get<FolderInsights>(folderApi(folder, 'insights')).then(
      (ins) => {
        setChildren((c) => ({ ...c, [folder]: ins.subfolders }));
        if (roots.includes(folder)) setCounts((n) => ({ ...n, [folder]: ins.documentCount }));
      },
      (err: unknown) => setChildren((c) => ({ ...c, [folder]: { error: err instanceof Error ? err.message : String(err) } })),
    );
  };

  // Reload every open folder when data changes (a scan finished, another key was entered):
  // counts and new folders. Keyed on the tick and the roots only: opening a folder loads it in toggle().
  const openRef = useRef(open);
  openRef.current = open;
  const rootsKey = roots.join('\n');
  useEffect(() => {
    const next = new Set([...openRef.current, ...roots]);
    setOpen(next);
    for (const f of next) if (roots.some((r) => isInside(r, f))) load(f);
  }, [tick, rootsKey]);

  // Opening a deep link opens the path to it.
  useEffect(() => {
    if (current === null) return;
    const need = ancestorsWithin(roots, current).filter((f) => !open.has(f));
    if (need.length === 0) return;
    setOpen((o) => new Set([...o, ...need]));
    for (const f of need) if (!children[f]) load(f);
  }, [current, rootsKey]);

  const toggle = (folder: string) => {
    const next = new Set(open);
    if (next.has(folder)) next.delete(folder);
    else {
      next.add(folder);
      const known = children[folder];
      if (known === undefined || (typeof known === 'object' && !Array.isArray(known))) load(folder);
    }
    setOpen(next);
  };

  return (
    <nav className="tree" aria-label="Folders">
      <ul>
        {roots.map((root) => (
          <li key={root}>
            <div className={`tree-row${current === root ? ' current' : ''}`}>
              <span className="tree-toggle-spacer" />
              <Link to={folderHref(root)} aria-current={current === root ? 'page' : undefined} className="tree-link" title={root || undefined}>
                <span className="tree-name">{root === '' ? 'Documents root' : root}</span>
                <span className="count" data-testid={`tree-count-${root}`}>
                  {counts[root] === undefined ? '' : num(counts[root])}
                </span>
              </Link>
            </div>
            <Branch folder={root} children={children} open={open} current={current} toggle={toggle} />
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Branch({
  folder,
  children,
  open,
  current,
  toggle,
}: {
  folder: string;
  children: Record<string, Children>;
  open: Set<string>;
  current: string | null;
  toggle(folder: string): void;
}) {
  const kids = children[folder];
  if (!open.has(folder) || kids === undefined) return null;
  if (kids === 'loading') return <p className="tree-note">Loading…</p>;
  if (!Array.isArray(kids)) return <p className="tree-note text-bad">{kids.error}</p>;
  if (kids.length === 0) return folder === '' ? <p className="tree-note">No scanned folders yet.</p> : null;
  return (
    <ul>
      {kids.map((b) => {
        const f = b.key ?? '';
        const name = f.split('/').at(-1) ?? f;
        const isOpen = open.has(f);
        const leaf = Array.isArray(children[f]) && (children[f] as Bucket[]).length === 0;
        return (
          <li key={f}>
            <div className={`tree-row${current === f ? ' current' : ''}`}>
              {leaf ? (
                <span className="tree-toggle-spacer" />
              ) : (
              <button
                type="button"
                className="tree-toggle"
                aria-expanded={isOpen}
                aria-label={`${isOpen ? 'Collapse' : 'Expand'} ${name}`}
                onClick={() => toggle(f)}
              >
                {isOpen ? '▾' : '▸'}
              </button>
              )}
              <Link to={folderHref(f)} aria-current={current === f ? 'page' : undefined} className="tree-link" title={f}>
                <span className="tree-name">{name}</span>
                <span className="count" data-testid={`tree-count-${f}`}>
                  {num(b.count)}
                </span>
              </Link>
            </div>
            <Branch folder={f} children={children} open={open} current={current} toggle={toggle} />
          </li>
        );
      })}
    </ul>
  );
}

/**
 * The folders to open so that `folder` shows: its parents from the root that holds it down
 * ('a/b/c' under root '' → '', 'a', 'a/b'; under root 'a' → 'a', 'a/b'). None outside every root.
 */
function ancestorsWithin(roots: string[], folder: string | null): string[] {
  if (folder === null) return [];
  const root = roots.filter((r) => isInside(r, folder)).sort((x, y) => y.length - x.length)[0];
  if (root === undefined) return [];
  const parts = folder.split('/').filter(Boolean);
  const all = ['', ...parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'))];
  return all.filter((f) => isInside(root, f));
}

/**
 * A minimal client router over the History API: the dashboard has a handful of pages, so a
 * router library would be more code to learn than this. Links are real <a href> elements
 * (open in new tab, copy link and keyboard all work); plain clicks are handled in the page.
 */
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
const notify = () => {
  for (const fn of listeners) fn();
};
window.addEventListener('popstate', notify);

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const snapshot = () => window.location.pathname + window.location.search;

export function useLocation(): { pathname: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { pathname: url.pathname, search: url.searchParams };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  notify();
  if (!opts.replace) window.scrollTo(0, 0);
}

export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}

/** Dashboard URL of a folder: /folders/Company%20A/Project%201 ('' is the root). */
export function folderHref(folder: string): string {
  if (folder === '' || folder === '.') return '/folders';
  return `/folders/${folder.split('/').map(encodeURIComponent).join('/')}`;
}

/** Dashboard URL of a folder's review queue: /review/Company%20A/Project%201 ('' is the root). */
export function reviewHref(folder: string): string {
  return folder === '' || folder === '.' ? '/review' : `/review/${folder.split('/').map(encodeURIComponent).join('/')}`;
}

export function folderFromPath(pathname: string): string {
  const rest = pathname.replace(/^\/(?:folders|review)\/?/, '');
  return rest
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s))
    .join('/');
}

/** Is `folder` the folder `root` or inside it ('' holds everything)? */
export function isInside(root: string, folder: string): boolean {
  return root === '' || folder === root || folder.startsWith(`${root}/`);
}

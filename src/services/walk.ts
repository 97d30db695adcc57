/**
 * Walk a folder tree depth-first, in a stable order, yielding regular files with their stat.
 * Memory is bounded by the depth of the tree and the size of one directory listing, never by the
 * number of files. Symlinks are not followed (they could leave the documents root), hidden
 * directories are skipped, and names the caller calls "not a document" are counted, not yielded.
 */
import type { Stats } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { fileMtime } from '../domain/paths.ts';

export interface WalkedFile {
  /** Path relative to the documents root, '/'-separated. */
  rel: string;
  abs: string;
  name: string;
  size: number;
  mtime: Date;
}

export interface WalkEvents {
  /** A directory entered (relative path). */
  onFolder?(rel: string): void;
  /** A file passed over (hidden, lock file, symlink, special file) and why. */
  onIgnored?(rel: string, reason: 'ignored_name' | 'symlink' | 'hardlink' | 'not_a_file' | 'unreadable'): void;
  /**
   * Files with more than one hard link may be the same file as one outside the root; they are
   * passed over unless this says otherwise.
   */
  allowHardlinks?: boolean;
  /** Whether to walk into a subfolder (relative path); all when absent. */
  enterFolder?(rel: string): boolean;
}

export async function* walkFiles(
  startAbs: string,
  startRel: string,
  isIgnoredName: (name: string) => boolean,
  events: WalkEvents = {},
): AsyncGenerator<WalkedFile> {
  const stack: { abs: string; rel: string }[] = [{ abs: startAbs, rel: startRel }];
  while (stack.length > 0) {
    const dir = stack.pop();
    if (!dir) break;
    events.onFolder?.(dir.rel);
    let names: { name: string; kind: 'file' | 'dir' | 'symlink' | 'other' }[];
    try {
      names = [];
      const handle = await opendir(dir.abs);
      for await (const d of handle) {
        const kind = d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : 'other';
        names.push({ name: d.name, kind });
      }
    } catch {
      events.onIgnored?.(dir.rel, 'unreadable');
      continue;
    }
    // A stable order makes batch numbers deterministic, so a retried scan lands on the same batches.
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: { abs: string; rel: string }[] = [];
    const statAhead = lookahead(
      names.filter((n) => n.kind === 'file' && !isIgnoredName(n.name)).map((n) => path.join(dir.abs, n.name)),
      STAT_AHEAD,
    );
    for (const { name, kind } of names) {
      const rel = dir.rel === '' ? name : `${dir.rel}/${name}`;
      const abs = path.join(dir.abs, name);
      if (kind === 'dir') {
        if (name.startsWith('.')) events.onIgnored?.(rel, 'ignored_name');
        else if (events.enterFolder?.(rel) !== false) subdirs.push({ abs, rel });
        continue;
      }
      if (kind === 'symlink') {
        events.onIgnored?.(rel, 'symlink');
        continue;
      }
      if (kind !== 'file') {
        events.onIgnored?.(rel, 'not_a_file');
        continue;
      }
      if (isIgnoredName(name)) {
        events.onIgnored?.(rel, 'ignored_name');
        continue;
      }
      const st = await statAhead(abs);
      if (!st?.isFile()) {
        events.onIgnored?.(rel, 'unreadable');
        continue;
      }
      if (st.nlink > 1 && !events.allowHardlinks) {
        events.onIgnored?.(rel, 'hardlink');
        continue;
      }
      yield { rel, abs, name, size: st.size, mtime: fileMtime(st) };
    }
    // Reverse so that popping visits subfolders in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) {
      const s = subdirs[i];
      if (s) stack.push(s);
    }
  }
}

/** lstat calls a folder keeps in flight ahead of the walk. */
const STAT_AHEAD = 32;

/**
 * lstat of `paths`, asked for in that order, with up to `window` started ahead: one at a time, a
 * folder of thousands of files waits on the thread pool once per file. Failures read as null.
 */
function lookahead(paths: readonly string[], window: number): (abs: string) => Promise<Stats | null> {
  const started = new Map<string, Promise<Stats | null>>();
  let next = 0;
  return (abs) => {
    for (; next < paths.length && started.size < window; next++) {
      const p = paths[next] as string;
      started.set(p, lstat(p).catch(() => null));
    }
    const st = started.get(abs) ?? lstat(abs).catch(() => null);
    started.delete(abs);
    return st;
  };
}

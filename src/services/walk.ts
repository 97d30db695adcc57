/**
 * Walk a folder tree depth-first, in a stable order, yielding regular files with their stat.
 * Memory is bounded by the depth of the tree and the size of one directory listing, never by the
 * number of files. Symlinks are not followed (they could leave the documents root), hidden
 * directories are skipped, and names the caller calls "not a document" are counted, not yielded.
 */
import { lstatSync, type Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
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
  /**
   * Stat every file on the thread pool from the start. Without it the walk stats inline while
   * that is fast (a local disk with its metadata cached) and moves to the thread pool for good
   * once a slice of stats is slow (a network filesystem, a cold disk).
   */
  statOnThreadPool?: boolean;
}

export async function* walkFiles(
  startAbs: string,
  startRel: string,
  isIgnoredName: (name: string) => boolean,
  events: WalkEvents = {},
): AsyncGenerator<WalkedFile> {
  const stack: { abs: string; rel: string }[] = [{ abs: startAbs, rel: startRel }];
  const inline = inlineStats(!events.statOnThreadPool);
  while (stack.length > 0) {
    const dir = stack.pop();
    if (!dir) break;
    events.onFolder?.(dir.rel);
    let names: { name: string; kind: 'file' | 'dir' | 'symlink' | 'other' }[];
    try {
      names = [];
      // One request for the whole folder (its names are held and sorted anyway), not one promise per entry.
      for (const d of await readdir(dir.abs, { withFileTypes: true })) {
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
    /** The thread pool's stats of this folder's files from entry `from` on (made when the walk moves there). */
    let statAhead: ((abs: string) => Promise<Stats | null>) | undefined;
    const onThreadPool = (from: number) =>
      lookahead(
        names
          .slice(from)
          .filter((n) => n.kind === 'file' && !isIgnoredName(n.name))
          .map((n) => path.join(dir.abs, n.name)),
        STAT_AHEAD,
      );
    for (const [at, { name, kind }] of names.entries()) {
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
      let st: Stats | null;
      if (inline.on) {
        st = inline.stat(abs);
        // A slice done: let the event loop run (the scan's reads of the store answer meanwhile).
        if (inline.sliceDone()) await new Promise<void>((resolve) => setImmediate(resolve));
      } else {
        statAhead ??= onThreadPool(at);
        st = await statAhead(abs);
      }
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

/** Files stat'ed inline between two turns of the event loop. */
const INLINE_SLICE = 64;
/**
 * Time a slice's inline stats may take before the walk moves to the thread pool: 64 stats of cached
 * metadata take about 0.2 ms; 8 ms is a stat that reads the disk or the network.
 */
const SLOW_SLICE_MS = 8;

/**
 * lstat on the walk's own thread while it is fast: a stat of cached metadata costs a few
 * microseconds inline and several times that as a thread-pool request and its promise (most of a
 * rescan's CPU on a large unchanged tree). Once a slice is slow, `on` turns false for the rest of
 * the walk, which then waits on the thread pool (lookahead) and never blocks the event loop long.
 */
function inlineStats(enabled: boolean) {
  let on = enabled;
  let files = 0;
  let spentMs = 0;
  return {
    get on() {
      return on;
    },
    stat(abs: string): Stats | null {
      const t0 = performance.now();
      try {
        return lstatSync(abs, { throwIfNoEntry: false }) ?? null;
      } catch {
        return null;
      } finally {
        spentMs += performance.now() - t0;
        files++;
      }
    },
    /** True at the end of a slice (and decides whether the next one is inline too). */
    sliceDone(): boolean {
      if (files < INLINE_SLICE) return false;
      if (spentMs > SLOW_SLICE_MS) on = false;
      files = 0;
      spentMs = 0;
      return true;
    },
  };
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

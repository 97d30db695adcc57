/**
 * A listing cut into runs of one folder's files, each with the range of that folder's recorded
 * paths it accounts for, so a scan compares the listing with the store folder by folder in a few
 * set-based reads and writes nothing for a file that has not changed.
 *
 * Both listings (the documents root's depth-first walk and a bucket's key order) give a folder's
 * whole subtree contiguously, so a folder is complete once the listing is told of a folder outside
 * it. A folder's direct files come in name order (a bucket interleaves them with its subfolders'),
 * so a folder with many files is handed over in parts: a part covers the recorded paths after the
 * previous part's last path up to its own last path, the last part everything after. (A file
 * listed out of that order is only found known later, by the scan's upsert: slower, never wrong.)
 */
import { parentOf } from '../domain/paths.ts';
import type { SourceEntry } from './source-reader.ts';

/** A run of one folder's listed files, against the folder's recorded files with a path in (after, upTo]. */
export interface FolderPart {
  folder: string;
  entries: SourceEntry[];
  /** Exclusive lower bound of the recorded paths covered (null: from the first). */
  after: string | null;
  /** Inclusive upper bound (null: to the last: the folder is complete). */
  upTo: string | null;
}

const within = (folder: string, ancestor: string) => ancestor === '' || folder === ancestor || folder.startsWith(`${ancestor}/`);

export function createFolderParts(partSize: number) {
  /** The open folders: the chain from the listed folder down to the current one. */
  const open = new Map<string, { entries: SourceEntry[]; after: string | null }>();
  const ready: FolderPart[] = [];
  let readyEntries = 0;
  let current: string | null = null;

  const hand = (part: FolderPart) => {
    ready.push(part);
    readyEntries += part.entries.length;
  };

  /** The listing is in `folder` now: every open folder that does not contain it is complete. */
  const enter = (folder: string) => {
    const same = folder === current ? open.get(folder) : undefined;
    if (same) return same;
    for (const [f, s] of open) {
      if (!within(folder, f)) {
        open.delete(f);
        hand({ folder: f, entries: s.entries, after: s.after, upTo: null });
      }
    }
    current = folder;
    let s = open.get(folder);
    if (!s) open.set(folder, (s = { entries: [], after: null }));
    return s;
  };

  return {
    /** A folder the listing entered (also one with no files: its recorded files are compared too). */
    folder(folder: string): void {
      enter(folder);
    },
    file(entry: SourceEntry): void {
      const folder = parentOf(entry.rel);
      const s = enter(folder);
      s.entries.push(entry);
      if (s.entries.length >= partSize) {
        hand({ folder, entries: s.entries, after: s.after, upTo: entry.rel });
        s.entries = [];
        s.after = entry.rel;
      }
    },
    /** The listing is complete: every open folder is too. */
    end(): void {
      for (const [f, s] of open) hand({ folder: f, entries: s.entries, after: s.after, upTo: null });
      open.clear();
      current = null;
    },
    /** Parts handed over and their files, waiting to be compared. */
    get waiting(): { parts: number; entries: number } {
      return { parts: ready.length, entries: readyEntries };
    },
    take(): FolderPart[] {
      readyEntries = 0;
      return ready.splice(0, ready.length);
    },
  };
}

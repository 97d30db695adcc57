/**
 * Where documents come from, behind one small interface: the documents root on disk (the default
 * source, paths without a prefix) and S3-compatible buckets (s3-source.ts, paths `<name>/<key>`).
 * The scan lists, the extraction and OCR stages fetch, and nothing else needs to know which kind
 * a folder is.
 */
import { stat } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { fileMtime } from '../domain/paths.ts';
import type { DocsRoot } from './docs-root.ts';
import { walkFiles, type WalkEvents } from './walk.ts';

/** One document file as a listing finds it. */
export interface SourceEntry {
  /** Path as docsight records it: relative to the root, the source's name first for buckets. */
  rel: string;
  name: string;
  size: number;
  mtime: Date;
  /** The object's ETag (buckets); null for files on disk. */
  etag: string | null;
}

export type ListEvents = Omit<WalkEvents, 'allowHardlinks'>;

/** One document's bytes, or where the extraction thread reads them itself. */
export type FetchedDocument =
  | { kind: 'missing' }
  | { kind: 'too_large'; size: number; mtime: Date; etag: string | null }
  | { kind: 'ready'; size: number; mtime: Date; etag: string | null; input: { path: string } | { bytes: Uint8Array } };

export interface SourceReader {
  /** The source's name; null for the documents root. */
  readonly name: string | null;
  /**
   * The documents under a folder (its recorded path), in a stable order, with bounded memory.
   * `skipTopLevel`: top-level folder names left out (other sources' names, on the root).
   */
  list(folderRel: string, events: ListEvents, skipTopLevel?: ReadonlySet<string>): AsyncGenerator<SourceEntry>;
  /**
   * A document for the extraction thread, refused unread past `maxBytes`. `hold` is called with a
   * body's size before the body is read into memory (and may wait for room).
   */
  fetch(docRel: string, maxBytes: number, hold?: (bytes: number) => Promise<void>): Promise<FetchedDocument>;
  /** Is the document still there (a known document whose content turned up elsewhere may have moved)? */
  exists(docRel: string): Promise<boolean>;
  /** A document's whole content (the OCR stage reads what extraction already accepted). */
  readAll(docRel: string, maxBytes: number): Promise<Uint8Array>;
}

/** The documents root on disk as a source: the walk lists it, the extraction thread reads the file. */
export function localSource(root: DocsRoot, opts: { allowHardlinks: boolean; isIgnoredName: (name: string) => boolean }): SourceReader {
  return {
    name: null,
    async *list(folderRel, events, skipTopLevel) {
      // A top-level folder named like a source would collide with that source's paths: not walked.
      const enterFolder = (rel: string) => !(skipTopLevel?.has(rel) ?? false);
      for await (const f of walkFiles(root.join(folderRel), folderRel, opts.isIgnoredName, { ...events, allowHardlinks: opts.allowHardlinks, enterFolder })) {
        yield { rel: f.rel, name: f.name, size: f.size, mtime: f.mtime, etag: null };
      }
    },
    async fetch(docRel) {
      const abs = root.join(docRel);
      const st = await stat(abs).catch(() => null);
      if (!st?.isFile()) return { kind: 'missing' };
      // The thread reads the file itself and refuses one past the limit (it may have grown since).
      return { kind: 'ready', size: st.size, mtime: fileMtime(st), etag: null, input: { path: abs } };
    },
    exists: (docRel) => root.fileExists(docRel),
    async readAll(docRel) {
      return new Uint8Array(await readFile(root.join(docRel)));
    },
  };
}

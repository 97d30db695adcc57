/**
 * The documents root on disk. Every folder path from a request is normalised by the pure rules in
 * domain/paths.ts, then resolved here through realpath so that a symlink cannot lead outside.
 */
import { realpathSync } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError, notFound } from '../domain/errors.ts';
import { normalizeRelativePath } from '../domain/paths.ts';

export interface ResolvedFolder {
  /** Normalised relative path ('' for the root). */
  rel: string;
  /** Absolute real path on disk. */
  abs: string;
}

export class DocsRoot {
  readonly root: string;

  constructor(root: string) {
    // The root itself may be a symlink (a mounted share); its real path is the boundary.
    this.root = realpathSync(root);
  }

  /** Absolute path of a normalised relative path, without touching the disk. */
  join(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, ...rel.split('/'));
  }

  /** Is an absolute real path the root or inside it? */
  contains(absReal: string): boolean {
    return absReal === this.root || absReal.startsWith(this.root + path.sep);
  }

  /** Is something at this normalised relative path (a file the database names may be gone)? */
  async fileExists(rel: string): Promise<boolean> {
    return (await lstat(this.join(rel)).catch(() => null)) !== null;
  }

  /**
   * Resolve a user-supplied folder path to an existing directory inside the root.
   * 400 for malformed or escaping paths, 404 when the folder does not exist (or is not a folder).
   */
  async resolveFolder(input: string): Promise<ResolvedFolder> {
    const rel = normalizeRelativePath(input);
    const candidate = this.join(rel);
    let real: string;
    try {
      real = await realpath(candidate);
    } catch {
      throw notFound(`Folder not found: ${rel || '.'}`);
    }
    if (!this.contains(real)) {
      throw new AppError('path_outside_root', 'Path leads outside the documents root');
    }
    const st = await stat(real).catch(() => null);
    if (!st?.isDirectory()) throw notFound(`Folder not found: ${rel || '.'}`);
    return { rel, abs: real };
  }
}

/**
 * Folder and document paths as the API sees them: relative to the documents root, '/'-separated,
 * '' for the root itself. Pure rules, no file system: the file system check lives in
 * services/docs-root.ts.
 */
import { AppError } from './errors.ts';

const MAX_PATH_BYTES = 4096;
const MAX_SEGMENT_BYTES = 255;

/**
 * Validate and normalise a user-supplied relative path. Refuses (never repairs) anything that
 * could point outside the root: '..' segments, absolute paths, backslashes, NUL and control
 * characters. "." and "" (and "/" on its own) mean the root. Surrounding slashes are trimmed;
 * empty segments ("a//b") are refused.
 */
export function normalizeRelativePath(input: string): string {
  if (input.includes('\0')) throw outside('Path contains a NUL byte');
  // biome-ignore lint: control characters are exactly what we refuse here
  if (/[\u0000-\u001f\u007f]/.test(input)) throw bad('Path contains control characters');
  if (input.includes('\\')) throw outside('Path contains a backslash');
  if (Buffer.byteLength(input) > MAX_PATH_BYTES) throw bad('Path is too long');
  if (input === '' || input === '.' || input === '/') return '';
  if (input.startsWith('/') || /^[a-zA-Z]:/.test(input)) throw outside('Absolute paths are not allowed');
  const trimmed = input.replace(/\/+$/, '');
  const segments = trimmed.split('/');
  for (const s of segments) {
    if (s === '..') throw outside('Path must not contain ".."');
    if (s === '.' || s === '') throw bad('Path must not contain empty or "." segments');
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) throw bad('A path segment is too long');
  }
  return segments.join('/');
}

/** The folder holding a relative path ('' at the root). */
export function parentOf(relPath: string): string {
  const i = relPath.lastIndexOf('/');
  return i < 0 ? '' : relPath.slice(0, i);
}

/**
 * The half-open byte range [lower, upper) of every path strictly inside `folder`, for an index
 * range scan under the "C" collation. '/' is 0x2F and '0' is 0x30, so 'X/' <= p < 'X0' holds for
 * exactly the paths under 'X/' and never for the sibling 'X2' or 'XY'. The root has no range.
 */
export function descendantRange(folder: string): { lower: string; upper: string } | null {
  if (folder === '') return null;
  return { lower: `${folder}/`, upper: `${folder}0` };
}

/**
 * A file's modification time as docsight records and compares it: whole milliseconds, truncated.
 * Filesystems keep nanoseconds and Node's Stats.mtime rounds them to the nearest millisecond, so
 * the walk (which compares) and the extraction (which records) must share one rule, or every file
 * whose fraction is half a millisecond or more looks changed on each rescan.
 */
export function fileMtime(st: { mtimeMs: number }): Date {
  return new Date(Math.floor(st.mtimeMs));
}

/** Is `path` the folder itself or inside it? (Same rule as descendantRange, in memory.) */
export function isWithin(folder: string, path: string): boolean {
  return folder === '' || path === folder || path.startsWith(`${folder}/`);
}

function outside(message: string) {
  return new AppError('path_outside_root', message);
}
function bad(message: string) {
  return new AppError('bad_request', message);
}

/** Pure rules about documents on record. */
import type { DocumentStatus } from './vocabulary.ts';

const SETTLED: readonly DocumentStatus[] = ['extracted', 'unsupported'];

/**
 * The scan's skip rule: a file on record with the size, mtime (and ETag) of its last extraction, and a
 * settled status, needs no new extraction. The classification plan asks it too, to tell whether a
 * rescan would find anything.
 */
export function unchangedSinceExtraction(
  row: { size: number | string; mtime: Date; status: DocumentStatus; etag?: string | null },
  file: { size: number; mtime: Date; etag?: string | null },
): boolean {
  // A bucket object's ETag too (its content hash for simple uploads): files on disk have none on either side.
  return (
    Number(row.size) === file.size &&
    row.mtime.getTime() === file.mtime.getTime() &&
    (row.etag ?? null) === (file.etag ?? null) &&
    SETTLED.includes(row.status)
  );
}

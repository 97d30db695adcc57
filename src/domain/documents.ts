/** Pure rules about documents on record. */
import type { DocumentStatus } from './vocabulary.ts';

const SETTLED: readonly DocumentStatus[] = ['extracted', 'unsupported'];

/**
 * The scan's skip rule: a file on record with the size and mtime of its last extraction, and a
 * settled status, needs no new extraction. The classification plan asks it too, to tell whether a
 * rescan would find anything.
 */
export function unchangedSinceExtraction(row: { size: number | string; mtime: Date; status: DocumentStatus }, file: { size: number; mtime: Date }): boolean {
  return Number(row.size) === file.size && row.mtime.getTime() === file.mtime.getTime() && SETTLED.includes(row.status);
}

/**
 * Runs inside a worker thread of the extraction pool: reads one file, hashes it and, unless its
 * content is unchanged, parses it. CPU-heavy parsing never runs on a worker's event loop, and a
 * file that hangs the parser only costs this thread (the pool terminates it on timeout).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { extractFromBytes } from './index.ts';
import { ExtractionError, type ExtractionFailureCode, type ExtractLimits, type ExtractionResult } from './types.ts';

/**
 * One document: a file the thread reads itself (the documents root), or the bytes of a bucket
 * object already downloaded (moved to the thread, not copied).
 */
export type ThreadTask = ({ path: string } | { bytes: Uint8Array }) & {
  /** The document's file name (format detection falls back on its extension). */
  name?: string;
  /** Hash of the content last extracted: when it matches, parsing is skipped. */
  previousSha256: string | null;
  limits: ExtractLimits;
};

export type ThreadOutcome =
  | { kind: 'extracted'; size: number; sha256: string; result: ExtractionResult }
  | { kind: 'unchanged'; size: number; sha256: string }
  | { kind: 'failed'; size: number; sha256: string | null; code: ExtractionFailureCode; message: string }
  | { kind: 'missing' };

/**
 * Synchronous file I/O on purpose: this is a worker thread with one document at a time, and the
 * promise round trips of fs/promises cost more than the reads themselves on small files.
 */
export default async function extractInThread(task: ThreadTask): Promise<ThreadOutcome> {
  if ('bytes' in task) {
    const data = task.bytes;
    if (data.length > task.limits.maxFileBytes) return tooLarge(data.length, task.limits);
    return extractBytes(data, task.name ?? '', task);
  }
  let fd: number;
  try {
    fd = openSync(task.path, 'r');
  } catch {
    return { kind: 'missing' };
  }
  try {
    const st = fstatSync(fd);
    const size = st.size;
    if (size > task.limits.maxFileBytes) return tooLarge(size, task.limits);
    const bytes = new Uint8Array(size);
    let read = 0;
    while (read < size) {
      const bytesRead = readSync(fd, bytes, read, size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const data = read === size ? bytes : bytes.subarray(0, read);
    return await extractBytes(data, task.name ?? task.path.slice(task.path.lastIndexOf('/') + 1), task);
  } finally {
    closeSync(fd);
  }
}

async function extractBytes(data: Uint8Array, name: string, task: Pick<ThreadTask, 'previousSha256' | 'limits'>): Promise<ThreadOutcome> {
  const read = data.length;
  const sha256 = createHash('sha256').update(data).digest('hex');
  if (task.previousSha256 === sha256) return { kind: 'unchanged', size: read, sha256 };
  try {
    const result = await extractFromBytes(data, name, task.limits);
    return { kind: 'extracted', size: read, sha256, result };
  } catch (err) {
    if (err instanceof ExtractionError) {
      return { kind: 'failed', size: read, sha256, code: err.code, message: err.message };
    }
    // A parser bug on hostile input is this document's failure, not the batch's.
    const message = err instanceof Error ? err.message : String(err);
    return { kind: 'failed', size: read, sha256, code: 'corrupt', message: `Parser error: ${message}` };
  }
}

function tooLarge(size: number, limits: ExtractLimits): ThreadOutcome {
  return { kind: 'failed', size, sha256: null, code: 'too_large', message: `File is ${size} bytes; the limit is ${limits.maxFileBytes}` };
}

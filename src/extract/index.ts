/**
 * The extraction engine's public entry points. Called inside a worker thread (thread.ts); the
 * pool there enforces the wall-clock limit, everything else (size, zip bombs, hostile XML) is
 * enforced here and in the format modules.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { CHILD_FOLDER_SEPARATOR, safeChildName } from './child-name.ts';
import { detect, extensionOf } from './detect.ts';
import type { ChildSource } from './extractor.ts';
import { scanText } from './minhash.ts';
import { detectPersonalData } from '../pii/index.ts';
import { EXTRACTORS } from './registry.ts';
import { countText, detectLanguage } from './text-stats.ts';
import {
  DEFAULT_EXTRACT_LIMITS,
  ExtractionError,
  type ChildDocument,
  type DocumentFormat,
  type ExtractLimits,
  type ExtractionFailureCode,
  type ExtractionResult,
} from './types.ts';

export { isIgnoredFileName } from './ignored-files.ts';
export { DEFAULT_EXTRACT_LIMITS, ExtractionError } from './types.ts';
export type {
  ChildDocument,
  DocumentFormat,
  DocumentProperties,
  ExtractLimits,
  ExtractionResult,
  ExtractionFailureCode,
  OcrNeed,
} from './types.ts';
export { imagePageCount } from './image-pages.ts';

/** Detect format from content (magic bytes / zip part names / OLE streams), file name only as a tie-breaker. */
export function detectFormat(bytes: Uint8Array, fileName: string): { format: DocumentFormat; mimeType: string } {
  const { format, mimeType } = detect(bytes, fileName, DEFAULT_EXTRACT_LIMITS);
  return { format, mimeType };
}

/** Extensions whose files cannot be empty and still be a document. */
const CONTAINER_EXTENSIONS = new Set([
  'docx', 'docm', 'dotx', 'dotm', 'xlsx', 'xlsm', 'pptx', 'pptm', 'odt', 'ods', 'odp', 'pdf', 'doc', 'xls', 'ppt', 'rtf', 'zip', 'msg',
]);

/**
 * What the children of one file on disk may still use, shared across every level of nesting so
 * that a zip of zips cannot multiply the per-archive limits.
 */
interface ChildBudget {
  entries: number;
  bytes: number;
}

/**
 * Extract metadata + text, and the documents inside (attachments, archive entries) as children
 * to `limits.maxDepth`. Throws ExtractionError with a code for every expected failure; never
 * hangs on hostile input. A child that fails is recorded failed; it never fails its parent.
 */
export async function extractFromBytes(bytes: Uint8Array, fileName: string, limits: ExtractLimits): Promise<ExtractionResult> {
  return extractAt(bytes, fileName, limits, 0, { entries: limits.maxEntries, bytes: limits.maxUncompressedBytes });
}

async function extractAt(bytes: Uint8Array, fileName: string, limits: ExtractLimits, depth: number, budget: ChildBudget): Promise<ExtractionResult> {
  if (bytes.length > limits.maxFileBytes) {
    throw new ExtractionError('too_large', `File is ${bytes.length} bytes; the limit is ${limits.maxFileBytes}`);
  }
  const ext = extensionOf(fileName);
  if (bytes.length === 0) {
    if (CONTAINER_EXTENSIONS.has(ext)) throw new ExtractionError('corrupt', `Empty file named .${ext}`);
    return emptyResult('other', 'application/x-empty', ['empty file']);
  }
  const detection = detect(bytes, fileName, limits);
  if (detection.encrypted) {
    throw new ExtractionError('encrypted', 'Password-protected Office document (OLE container with EncryptedPackage)');
  }
  if (detection.error) throw detection.error;
  const extractor = EXTRACTORS[detection.format];
  if (!extractor) {
    return emptyResult(detection.format, detection.mimeType, detection.note ? [detection.note] : undefined);
  }
  const out = await extractor.extract({ bytes, fileName, limits, detection });
  let text = out.text;
  let truncated = out.textTruncated ?? false;
  if (text.length > limits.maxTextChars) {
    text = text.slice(0, limits.maxTextChars);
    truncated = true;
  }
  // Counted over the body, like the counts Word and LibreOffice store, so the two compare; a text
  // that is signed is counted by the signing pass, which reads it once for both.
  const scanned = limits.signature === false ? { signature: undefined, counts: countText(text) } : scanText(text);
  const computed = scanned.counts;
  const counts: Record<string, number> = {
    words: computed.words,
    characters: computed.characters,
    charactersWithSpaces: computed.charactersWithSpaces,
    paragraphs: computed.paragraphs,
    ...out.counts,
  };
  const language = detectLanguage(text.length >= 20 || !out.parts ? text : [text, ...Object.values(out.parts)].join('\n'));
  const warnings = [...(out.warnings ?? [])];
  if (detection.note) warnings.push(detection.note);
  const result: ExtractionResult = {
    mimeType: out.mimeType ?? detection.mimeType,
    format: detection.format,
    properties: out.properties,
    raw: { 'Content-Type': out.mimeType ?? detection.mimeType, ...out.raw },
    text,
    textTruncated: truncated,
    language,
    counts,
  };
  if (out.parts && Object.keys(out.parts).length > 0) result.parts = out.parts;
  if (out.structure) result.structure = out.structure;
  if (out.ocr) result.ocr = out.ocr;
  if (limits.piiKinds?.length) {
    const pii = detectPersonalData(result, limits.piiKinds);
    if (pii) result.pii = pii;
  }
  if (scanned.signature) result.signature = scanned.signature;
  if (out.childSources) result.children = await extractChildren(out.childSources, limits, depth + 1, budget, warnings);
  if (warnings.length > 0) result.warnings = warnings;
  return result;
}

async function extractChildren(
  sources: ChildSource[],
  limits: ExtractLimits,
  depth: number,
  budget: ChildBudget,
  warnings: string[],
): Promise<ChildDocument[]> {
  const children: ChildDocument[] = [];
  for (const [i, source] of sources.entries()) {
    if (budget.entries <= 0) {
      warnings.push(`${sources.length - i} more documents inside not listed: over ${limits.maxEntries} in one file`);
      break;
    }
    budget.entries--;
    const index = i + 1;
    const { kind } = source;
    const name = safeChildName(source.name, index, kind);
    if (name !== source.name.split('/').join(CHILD_FOLDER_SEPARATOR)) {
      warnings.push(`unsafe name ${JSON.stringify(source.name)} of document #${index} listed as ${JSON.stringify(name)}`);
    }
    const failed = (code: ExtractionFailureCode, message: string, size = 0, sha256 = ''): ChildDocument => ({
      index, name, kind, size, sha256, outcome: { kind: 'failed', code, message },
    });
    let data: Uint8Array;
    try {
      data = plainBytes(source.read());
    } catch (err) {
      // Unreadable (encrypted entry, bomb, damage): no bytes, so no size or hash.
      children.push(failed(...failureOf(err)));
      continue;
    }
    const sha256 = createHash('sha256').update(data).digest('hex');
    budget.bytes -= data.length;
    if (budget.bytes < 0) {
      children.push(failed('zip_bomb', `Documents inside one file exceed ${limits.maxUncompressedBytes} bytes in total`, data.length, sha256));
      warnings.push(`${sources.length - index} more documents inside not read: their total size passed ${limits.maxUncompressedBytes} bytes`);
      break;
    }
    if (depth > limits.maxDepth) {
      children.push(failed('too_deep', `Nested ${depth} levels deep; the limit is ${limits.maxDepth}`, data.length, sha256));
      continue;
    }
    try {
      const result = await extractAt(data, name, limits, depth, budget);
      children.push({ index, name, kind, size: data.length, sha256, outcome: { kind: 'extracted', result } });
    } catch (err) {
      children.push(failed(...failureOf(err), data.length, sha256));
    }
  }
  return children;
}

/**
 * A plain Uint8Array view of the same memory: inflated entries come back as Node Buffers, which
 * some parsers (pdf.js) refuse, and a child must look to its extractor like a file read from disk.
 */
function plainBytes(data: Uint8Array): Uint8Array {
  return Buffer.isBuffer(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data;
}

/** A child's failure: its coded reason, or `corrupt` for a parser bug (which fails that child alone). */
function failureOf(err: unknown): [ExtractionFailureCode, string] {
  if (err instanceof ExtractionError) return [err.code, err.message];
  return ['corrupt', `Parser error: ${err instanceof Error ? err.message : String(err)}`];
}

/**
 * The bytes of a document inside another one, read again from its parent's bytes without
 * extracting anything else: `indexPath` [2, 1] is the first child of the second child (the
 * `index` fields of `ExtractionResult.children`). The same limits apply as when it was listed;
 * callers compare the bytes' sha256 with the stored one, since the parent may have changed.
 */
export async function readChild(
  parentBytes: Uint8Array,
  indexPath: readonly number[],
  limits: ExtractLimits,
  parentName = '',
): Promise<{ name: string; kind: ChildDocument['kind']; bytes: Uint8Array }> {
  if (indexPath.length === 0) throw new ExtractionError('unsupported', 'An empty index path names no child');
  if (indexPath.length > limits.maxDepth) {
    throw new ExtractionError('too_deep', `Nested ${indexPath.length} levels deep; the limit is ${limits.maxDepth}`);
  }
  let bytes = parentBytes;
  let name = parentName;
  let kind: ChildDocument['kind'] = 'attachment';
  for (const [level, index] of indexPath.entries()) {
    const detection = detect(bytes, name, limits);
    if (detection.encrypted) throw new ExtractionError('encrypted', 'Password-protected Office document');
    if (detection.error) throw detection.error;
    const extractor = EXTRACTORS[detection.format];
    const sources = extractor ? ((await extractor.extract({ bytes, fileName: name, limits, detection })).childSources ?? []) : [];
    const source = Number.isInteger(index) && index >= 1 ? sources[index - 1] : undefined;
    if (!source) {
      throw new ExtractionError('corrupt', `No document #${index} at level ${level + 1} (${sources.length} there): the file changed since it was listed?`);
    }
    bytes = plainBytes(source.read());
    name = safeChildName(source.name, index, source.kind);
    kind = source.kind;
  }
  return { name, kind, bytes };
}

function emptyResult(format: DocumentFormat, mimeType: string, warnings?: string[]): ExtractionResult {
  const result: ExtractionResult = {
    mimeType,
    format,
    properties: {},
    raw: { 'Content-Type': mimeType },
    text: '',
    textTruncated: false,
    language: 'und',
  };
  if (warnings) result.warnings = warnings;
  return result;
}
